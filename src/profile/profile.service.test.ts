// The register side of Min profil (docs/minprofil.md) on both stores: one-time codes (validation,
// hashing, expiry on the register's clock, tries, rate limits, binding to person and session), every
// change through the one write path (a new change id in the feed) with an audit entry that names
// fields and never values, and the lookup history of one's own identifier.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuditRepository } from '../audit/audit.repository.js';
import { ChangesRepository } from '../changes/changes.repository.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { EnqueueMessage, OutboxMessage } from '../outbox/outbox.js';
import { enqueueMessage } from '../outbox/outbox.repository.js';
import type { Person } from '../person/person.js';
import { ProviderRepository } from '../provider/provider.repository.js';
import { PersonRepository } from '../register/person.repository.js';
import { PersonWriter } from '../register/person.writer.js';
import { parseInstant } from '../time/oslo-time.js';
import { recordOf } from '../answer/answer.render.js';
import { skipReason, STORE_KINDS, openTestStore } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { ProfileError } from './profile.js';
import type { ProfileActor, ProfileProblem } from './profile.js';
import {
  isAcceptableMobile,
  LOOKUP_ENDPOINTS,
  LOOKUP_HISTORY_SQL,
  PROFILE_EVENTS,
  ProfileService,
} from './profile.service.js';
import type { ProfileAudit, ProfileConfig } from './profile.service.js';

const START = parseInstant('2026-03-02T09:00:00+01:00')!;
const KARI = makeIdentifier({ day: 3, month: 4, year: 81 });
const OLA = makeIdentifier({ day: 4, month: 4, year: 81 });
const NYNORSK = makeIdentifier({ day: 5, month: 4, year: 81 });
const NOBODY = makeIdentifier({ day: 6, month: 4, year: 81 });
const GONE = makeIdentifier({ day: 7, month: 4, year: 81 });
const EMPTY = makeIdentifier({ day: 8, month: 4, year: 81 });
const OLD = parseInstant('2023-01-10T10:00:00+01:00')!;
const MINPROFIL_URL = 'https://krr.example.no/minprofil';

const kari = (session = 'session-kari'): ProfileActor => ({ pid: KARI, sessionHash: session });
const actor = (pid: string, session = `session-${pid}`): ProfileActor => ({ pid, sessionHash: session });

function persons(): Person[] {
  return [
    {
      personidentifikator: KARI,
      status: 'AKTIV',
      reservasjon: 'NEI',
      kontaktinformasjon: {
        epostadresse: 'kari@example.no',
        epostadresse_oppdatert: OLD,
        epostadresse_sist_verifisert: OLD,
        mobiltelefonnummer: '+4791234567',
        mobiltelefonnummer_oppdatert: OLD,
      },
      digital_post: { postkasseadresse: 'kari.nordmann#1234', postkasseleverandoeradresse: '984661185' },
    },
    { personidentifikator: OLA, status: 'AKTIV', reservasjon: 'NEI' },
    { personidentifikator: NYNORSK, status: 'AKTIV', reservasjon: 'NEI', spraak: 'nn' },
    { personidentifikator: GONE, status: 'SLETTET', reservasjon: 'NEI' },
    { personidentifikator: EMPTY, status: 'AKTIV', reservasjon: 'JA', reservasjonstidspunkt: OLD },
  ];
}

async function rejects(promise: Promise<unknown>, problem: ProfileProblem): Promise<ProfileError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ProfileError, `expected ProfileError ${problem}, got ${String(caught)}`);
  assert.equal(caught.problem, problem);
  return caught;
}

for (const kind of STORE_KINDS) {
  describe(`ProfileService (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let now = START;
    let sent: OutboxMessage[] = [];
    /** The outbox's own enqueue, in the caller's transaction; what it was given is kept for the test. */
    const enqueue: EnqueueMessage = async (tx, message, at) => {
      await enqueueMessage(tx, message, at);
      sent.push(message);
    };
    const service = (
      config: Partial<ProfileConfig> = {},
      audit: ProfileAudit = new AuditRepository(store.db),
    ) =>
      new ProfileService({
        db: store.db,
        writer: new PersonWriter(store.db),
        persons: new PersonRepository(store.db),
        audit,
        enqueue,
        clock: { now: () => now },
        minprofilUrl: MINPROFIL_URL,
        config,
      });
    /** The code in the last code message sent. */
    const lastCode = () =>
      /\b([0-9]{6})\b/.exec(sent.filter((m) => m.kind === 'engangskode').at(-1)!.text)![1]!;
    /** The notices of change the outbox holds (what committed), oldest first. */
    const notices = async () =>
      (
        await store.db.query<{ channel: string; recipient: string; subject: string; text: string }>(
          `select channel, recipient, subject, text from outbox where kind = 'endringsvarsel' order by id`,
        )
      ).map((r) => ({ channel: r.channel, recipient: r.recipient, subject: r.subject, text: r.text }));
    const changeId = () => new PersonRepository(store.db).latestChangeId();
    const changedSince = async (id: number) =>
      (await new ChangesRepository(store.db).page(id, 100)).persons.map((c) =>
        c.removed ? c.personidentifikator : c.person.personidentifikator,
      );

    before(async () => {
      store = await openTestStore(kind);
      await new ProviderRepository(store.db).save({
        orgno: '984661185',
        name: 'Digipost',
        certificate: 'AAAA',
      });
    });
    after(async () => store?.dispose());
    beforeEach(async () => {
      now = START;
      sent = [];
      await store.db.query('delete from profile_code');
      await store.db.query('delete from outbox');
      await store.db.query('delete from audit_log');
      await new PersonWriter(store.db).session(async (s) => {
        await s.remove([KARI, OLA, NYNORSK, NOBODY, GONE, EMPTY]);
        await s.write(persons());
      });
    });

    it('shows the entry: channels with their times, mailbox with its provider, notifiable until when', async () => {
      const confirmedAt = parseInstant('2025-12-01T10:00:00+01:00')!;
      await new PersonWriter(store.db).write([
        {
          ...persons()[0]!,
          kontaktinformasjon: {
            ...persons()[0]!.kontaktinformasjon,
            epostadresse_sist_verifisert: confirmedAt,
          },
        },
      ]);
      const entry = await service().entry(KARI);
      assert.equal(entry.registered, true);
      assert.deepEqual(entry.epost, {
        value: 'kari@example.no',
        oppdatert: OLD,
        sistVerifisert: confirmedAt,
      });
      assert.deepEqual(entry.mobil, { value: '+4791234567', oppdatert: OLD, sistVerifisert: undefined });
      assert.deepEqual(entry.digitalPost, {
        postkasseadresse: 'kari.nordmann#1234',
        leverandoerAdresse: '984661185',
        leverandoerNavn: 'Digipost',
      });
      assert.equal(entry.kanVarsles, true);
      assert.equal(entry.kanVarslesTil, parseInstant('2027-06-01T10:00:00+02:00')! + 1, '18 months on');
      assert.equal(entry.sistBekreftet, confirmedAt);
      assert.deepEqual(entry.pending, []);

      const stale = await service().entry(EMPTY);
      assert.equal(stale.kanVarsles, false);
      assert.equal(stale.kanVarslesTil, undefined);
      assert.equal(stale.reservasjon, 'JA');
      for (const pid of [NOBODY, GONE]) {
        const none = await service().entry(pid);
        assert.equal(none.registered, false, pid);
        assert.equal(none.epost, undefined);
      }
    });

    it('refuses values the contract refuses, the same value, and a foreign number without its country code', async () => {
      const s = service();
      await rejects(s.requestCode(kari(), 'epost', 'not-an-address'), 'INVALID_EMAIL');
      await rejects(s.requestCode(kari(), 'epost', `${'a'.repeat(45)}@example.no`), 'INVALID_EMAIL');
      await rejects(s.requestCode(kari(), 'mobil', '12345678'), 'INVALID_MOBILE');
      await rejects(s.requestCode(kari(), 'mobil', '46701234567'), 'INVALID_MOBILE');
      await rejects(s.requestCode(kari(), 'epost', ' KARI@example.no '), 'SAME_VALUE');
      await rejects(s.requestCode(kari(), 'mobil', '912 34 567'), 'SAME_VALUE');
      await rejects(s.requestCode(kari(), 'mobil', '004791234567'), 'SAME_VALUE');
      await rejects(s.requestCode(actor(NOBODY), 'epost', 'nobody@example.no'), 'NOT_REGISTERED');
      assert.deepEqual(sent, [], 'nothing was sent');
      assert.ok(isAcceptableMobile('+46701234567') && isAcceptableMobile('0046701234567'));
      assert.ok(isAcceptableMobile('41234567') && isAcceptableMobile('+47 412 34 567'));
    });

    it('sends a 6-digit code to the new value, stored hashed, in the person’s language, with nothing else personal', async () => {
      const pending = await service().requestCode(kari(), 'epost', ' kari.ny@example.no ');
      assert.deepEqual(pending, {
        channel: 'epost',
        value: 'kari.ny@example.no',
        expiresAt: START + 10 * 60_000,
        triesLeft: 5,
      });
      const [message] = sent;
      assert.equal(message!.kind, 'engangskode');
      assert.equal(message!.channel, 'epost');
      assert.equal(message!.recipient, 'kari.ny@example.no');
      assert.match(message!.subject, /^Engangskode fra/);
      const code = lastCode();
      assert.match(message!.text, /^Engangskoden din er [0-9]{6}\. Den gjelder i 10 minutter\./);
      for (const personal of [KARI, 'kari', 'Kari', '91234567']) assert.ok(!message!.text.includes(personal));
      const [row] = await store.db.query<{ code_hash: string }>('select code_hash from profile_code');
      assert.ok(!row!.code_hash.includes(code), 'only a hash is stored');
      assert.match(row!.code_hash, /^scrypt\$/);
      const [outbox] = await store.db.query<{ n: number }>('select count(*)::int8 as n from outbox');
      assert.equal(Number(outbox!.n), 1, 'the message is in the outbox');
      assert.deepEqual((await service().entry(KARI)).pending, [pending]);

      await service().requestCode(actor(NYNORSK), 'mobil', '+46 70 123 45 67');
      assert.equal(sent[1]!.channel, 'sms');
      assert.equal(sent[1]!.subject, '');
      assert.match(sent[1]!.text, /^Eingongskoden din er [0-9]{6}\. Han gjeld i 10 minutt\./);
    });

    it('saves the value on the right code, stamping _oppdatert and _sist_verifisert, as a change in the feed', async () => {
      const s = service();
      await s.requestCode(kari(), 'mobil', '41234567');
      now = START + 5 * 60_000 + 700;
      const before = await changeId();
      await s.verifyCode(kari(), 'mobil', lastCode());
      const stamp = START + 5 * 60_000;
      const entry = await s.entry(KARI);
      assert.deepEqual(entry.mobil, { value: '41234567', oppdatert: stamp, sistVerifisert: stamp });
      assert.equal(entry.epost?.value, 'kari@example.no', 'the other channel is untouched');
      assert.deepEqual(entry.pending, []);
      assert.deepEqual(await changedSince(before), [KARI]);
      await rejects(s.verifyCode(kari(), 'mobil', lastCode()), 'NO_PENDING_CODE');
      const [audit] = await new AuditRepository(store.db).latest(1);
      assert.equal(audit!.endpoint, PROFILE_EVENTS.mobil);
      assert.deepEqual(audit!.identifiers, [KARI]);
      assert.equal(
        audit!.detail,
        'mobiltelefonnummer,mobiltelefonnummer_oppdatert,mobiltelefonnummer_sist_verifisert',
      );
    });

    it('counts wrong tries, then refuses even the right code; the value stays as it was', async () => {
      const s = service();
      await s.requestCode(kari(), 'epost', 'kari.ny@example.no');
      const code = lastCode();
      const wrong = code === '000000' ? '000001' : '000000';
      for (const left of [4, 3, 2, 1, 0]) {
        const err = await rejects(s.verifyCode(kari(), 'epost', left === 2 ? 'abc' : wrong), 'CODE_WRONG');
        assert.equal(err.triesLeft, left);
        assert.equal(err.status, 422);
      }
      await rejects(s.verifyCode(kari(), 'epost', code), 'CODE_TRIES_EXHAUSTED');
      assert.equal((await s.entry(KARI)).epost?.value, 'kari@example.no');
      assert.deepEqual((await s.entry(KARI)).pending, []);
    });

    it('lets a code expire after 10 minutes on the register’s clock', async () => {
      const s = service();
      await s.requestCode(kari(), 'epost', 'kari.ny@example.no');
      now = START + 10 * 60_000;
      await rejects(s.verifyCode(kari(), 'epost', lastCode()), 'CODE_EXPIRED');
      now = START + 10 * 60_000 - 1;
      await s.verifyCode(kari(), 'epost', lastCode());
      assert.equal((await s.entry(KARI)).epost?.value, 'kari.ny@example.no');
    });

    it('binds a code to its person and session: another person’s or session’s code never works', async () => {
      const s = service();
      await s.requestCode(kari(), 'epost', 'kari.ny@example.no');
      const karisCode = lastCode();
      await rejects(s.verifyCode(actor(OLA), 'epost', karisCode), 'NO_PENDING_CODE');
      await rejects(s.verifyCode(kari('another-session'), 'epost', karisCode), 'NO_PENDING_CODE');
      await s.requestCode(actor(OLA), 'epost', 'ola@example.no');
      const olasCode = lastCode();
      if (olasCode !== karisCode) await rejects(s.verifyCode(actor(OLA), 'epost', karisCode), 'CODE_WRONG');
      await s.verifyCode(kari(), 'epost', karisCode);
      assert.equal((await s.entry(OLA)).epost, undefined);
      assert.equal((await s.entry(KARI)).epost?.value, 'kari.ny@example.no');
    });

    it('replaces a waiting code with a new one for the same channel', async () => {
      const s = service();
      await s.requestCode(kari(), 'epost', 'first@example.no');
      const first = lastCode();
      await s.requestCode(kari(), 'epost', 'second@example.no');
      const second = lastCode();
      if (first !== second) await rejects(s.verifyCode(kari(), 'epost', first), 'CODE_WRONG');
      await s.verifyCode(kari(), 'epost', second);
      assert.equal((await s.entry(KARI)).epost?.value, 'second@example.no');
    });

    it('limits sends per person (over sessions) and per session in any hour; a refused send sends nothing', async () => {
      const s = service({ maxCodesPerPersonPerHour: 5, maxCodesPerSessionPerHour: 3 });
      for (let i = 0; i < 3; i++) await s.requestCode(kari('a'), 'epost', `a${i}@example.no`);
      const err = await rejects(s.requestCode(kari('a'), 'epost', 'a3@example.no'), 'TOO_MANY_CODES');
      assert.equal(err.status, 429);
      await s.requestCode(kari('b'), 'mobil', '41234567');
      await s.requestCode(kari('b'), 'mobil', '41234568');
      await rejects(s.requestCode(kari('c'), 'mobil', '41234569'), 'TOO_MANY_CODES');
      assert.equal(sent.length, 5);
      const [outbox] = await store.db.query<{ n: number }>('select count(*)::int8 as n from outbox');
      assert.equal(Number(outbox!.n), 5, 'no message for a refused send');
      await s.requestCode(actor(OLA), 'epost', 'ola@example.no'); // another person is not limited
      now = START + 60 * 60_000 + 1;
      await s.requestCode(kari('c'), 'mobil', '41234569');
      assert.equal(sent.length, 7);
    });

    it('sends at most the limit when many sends arrive at once', async () => {
      const s = service({ maxCodesPerPersonPerHour: 3, maxCodesPerSessionPerHour: 10 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => s.requestCode(kari(), 'epost', `n${i}@example.no`)),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 3);
    });

    it('removes a channel, stamping _oppdatert; confirms what is there; NOTHING_TO_CONFIRM without channels', async () => {
      const s = service();
      let before = await changeId();
      await s.removeChannel(kari(), 'mobil');
      assert.deepEqual(await changedSince(before), [KARI]);
      let entry = await s.entry(KARI);
      assert.equal(entry.mobil, undefined);
      assert.equal(entry.epost?.value, 'kari@example.no');

      now = START + 1234;
      before = await changeId();
      await s.confirm(kari());
      assert.deepEqual(await changedSince(before), [KARI]);
      entry = await s.entry(KARI);
      assert.deepEqual(entry.epost, {
        value: 'kari@example.no',
        oppdatert: OLD,
        sistVerifisert: START + 1000,
      });
      assert.equal(entry.sistBekreftet, START + 1000);
      const [audit] = await new AuditRepository(store.db).latest(1);
      assert.equal(audit!.endpoint, PROFILE_EVENTS.confirm);
      assert.equal(audit!.detail, 'epostadresse_sist_verifisert');

      await rejects(s.confirm(actor(OLA)), 'NOTHING_TO_CONFIRM');
      await rejects(s.confirm(actor(NOBODY)), 'NOT_REGISTERED');
    });

    it('sends the old e-mail address a notice of change when a new one is saved, naming neither the new one nor the person', async () => {
      const s = service();
      await s.requestCode(kari(), 'epost', 'kari.ny@example.no');
      assert.deepEqual(await notices(), [], 'no notice for asking a code');
      await s.verifyCode(kari(), 'epost', lastCode());
      const [notice, ...more] = await notices();
      assert.equal(more.length, 0);
      assert.deepEqual(
        { ...notice, text: '' },
        {
          channel: 'epost',
          recipient: 'kari@example.no',
          subject: 'E-postadressen din i Kontakt- og reservasjonsregisteret er endret',
          text: '',
        },
      );
      assert.match(notice!.text, /^E-postadressen din i Kontakt- og reservasjonsregisteret er endret\./);
      assert.ok(notice!.text.includes(`logg inn på Min profil på ${MINPROFIL_URL}`));
      assert.match(notice!.text, /brukerstøtten til Digitaliseringsdirektoratet \(Digdir\)/);
      for (const personal of [KARI, 'kari.ny', 'ny@example', '91234567', 'Kari']) {
        assert.ok(!notice!.text.includes(personal) && !notice!.subject.includes(personal), personal);
      }
    });

    it('sends the old mobile number an SMS notice when a new one is saved, in the person’s language', async () => {
      await new PersonWriter(store.db).write([{ ...persons()[0]!, spraak: 'nn' }]);
      const s = service();
      await s.requestCode(kari(), 'mobil', '41234567');
      await s.verifyCode(kari(), 'mobil', lastCode());
      const [notice, ...more] = await notices();
      assert.equal(more.length, 0);
      assert.equal(notice!.channel, 'sms');
      assert.equal(notice!.recipient, '+4791234567');
      assert.equal(notice!.subject, '');
      assert.match(notice!.text, /^Mobilnummeret ditt i Kontakt- og reservasjonsregisteret er endra\./);
      assert.ok(notice!.text.includes(`logg inn på Min profil på ${MINPROFIL_URL}`));
      for (const personal of [KARI, '41234567', '4123'])
        assert.ok(!notice!.text.includes(personal), personal);
    });

    it('sends the removed address or number a notice of its removal, in English for English speakers', async () => {
      await new PersonWriter(store.db).write([{ ...persons()[0]!, spraak: 'en' }]);
      const s = service();
      await s.removeChannel(kari(), 'epost');
      await s.removeChannel(kari(), 'mobil');
      await s.removeChannel(kari(), 'mobil'); // nothing left to remove: no second notice
      const sentNotices = await notices();
      assert.deepEqual(
        sentNotices.map((n) => [n.channel, n.recipient, n.subject]),
        [
          [
            'epost',
            'kari@example.no',
            'Your e-mail address in the Contact and Reservation Register was removed',
          ],
          ['sms', '+4791234567', ''],
        ],
      );
      assert.match(
        sentNotices[0]!.text,
        /^Your e-mail address in the Contact and Reservation Register was removed\. .*sign in to Min profil at https:\/\/krr\.example\.no\/minprofil/,
      );
      assert.match(
        sentNotices[1]!.text,
        /^Your mobile number in the Contact and Reservation Register was removed\./,
      );
      for (const n of sentNotices) assert.ok(!n.text.includes(KARI));
    });

    it('sends no notice when a value is set for the first time or set to what it already is', async () => {
      const s = service();
      await s.requestCode(actor(OLA), 'epost', 'ola@example.no');
      await s.verifyCode(actor(OLA), 'epost', lastCode());
      assert.equal((await s.entry(OLA)).epost?.value, 'ola@example.no');
      assert.deepEqual(await notices(), [], 'first time: no old address');

      // The same number, saved another way (here straight through the writer, as an import
      // would) while the code was waiting: requestCode refuses the value held already, so it can
      // only arrive this way. Written differently, it is the same number.
      await s.requestCode(actor(OLA), 'mobil', '41234567');
      const code = lastCode();
      const ola = (await new PersonRepository(store.db).findMany([OLA]))[0]!;
      const record = recordOf(ola);
      await new PersonWriter(store.db).write([
        {
          ...record,
          kontaktinformasjon: { ...record.kontaktinformasjon, mobiltelefonnummer: '+47 412 34 567' },
        },
      ]);
      await s.verifyCode(actor(OLA), 'mobil', code);
      assert.equal((await s.entry(OLA)).mobil?.value, '41234567');
      assert.deepEqual(await notices(), [], 'the same number: no notice');
    });

    it('sends nothing when the change is rolled back', async () => {
      const failing: ProfileAudit = {
        record: async (entry, q) => {
          if (entry.endpoint !== PROFILE_EVENTS.code) throw new Error('the audit trail is unavailable');
          await new AuditRepository(store.db).record(entry, q);
        },
      };
      const s = service({}, failing);
      await s.requestCode(kari(), 'epost', 'kari.ny@example.no');
      await assert.rejects(s.verifyCode(kari(), 'epost', lastCode()), /the audit trail is unavailable/);
      await assert.rejects(s.removeChannel(kari(), 'mobil'), /the audit trail is unavailable/);
      assert.ok(
        sent.some((m) => m.kind === 'endringsvarsel'),
        'the notices were written, then rolled back',
      );
      assert.deepEqual(await notices(), [], 'no notice kept');
      const entry = await s.entry(KARI);
      assert.equal(entry.epost?.value, 'kari@example.no');
      assert.equal(entry.mobil?.value, '+4791234567');
    });

    it('reserves and lifts the reservation with their timestamps, each a change', async () => {
      const s = service();
      let before = await changeId();
      await s.reserve(actor(OLA));
      assert.deepEqual(await changedSince(before), [OLA]);
      let entry = await s.entry(OLA);
      assert.equal(entry.reservasjon, 'JA');
      assert.equal(entry.reservasjonstidspunkt, START);
      before = await changeId();
      await s.reserve(actor(OLA));
      assert.deepEqual(await changedSince(before), [], 'reserving again is no change');
      now = START + 60_000;
      await s.liftReservation(actor(OLA));
      entry = await s.entry(OLA);
      assert.equal(entry.reservasjon, 'NEI');
      assert.equal(entry.reservasjonstidspunkt, undefined);
      const [audit] = await new AuditRepository(store.db).latest(1);
      assert.equal(audit!.endpoint, PROFILE_EVENTS.reservation);
      await rejects(s.reserve(actor(GONE)), 'NOT_REGISTERED');
    });

    it('sets and removes the language; refuses an unknown one', async () => {
      const s = service();
      await s.setLanguage(actor(OLA), 'se');
      assert.equal((await s.entry(OLA)).spraak, 'se');
      assert.equal((await s.entry(OLA)).spraakOppdatert, START);
      await s.setLanguage(actor(OLA), null);
      assert.equal((await s.entry(OLA)).spraak, undefined);
      await rejects(s.setLanguage(actor(OLA), 'de' as never), 'INVALID_LANGUAGE');
    });

    it('registers a person without an entry or SLETTET as AKTIV, once', async () => {
      const s = service();
      for (const pid of [NOBODY, GONE]) {
        const before = await changeId();
        await s.register(actor(pid));
        assert.deepEqual(await changedSince(before), [pid]);
        const entry = await s.entry(pid);
        assert.equal(entry.registered, true);
        assert.equal(entry.status, 'AKTIV');
        assert.equal(entry.reservasjon, 'NEI');
        await rejects(s.register(actor(pid)), 'ALREADY_REGISTERED');
      }
      const [audit] = await new AuditRepository(store.db).latest(1);
      assert.equal(audit!.endpoint, PROFILE_EVENTS.register);
    });

    it('audits every self-service event with field names only, never a value or a code', async () => {
      const s = service();
      await s.requestCode(kari(), 'epost', 'secret.address@example.no');
      const code = lastCode();
      await s.verifyCode(kari(), 'epost', code);
      await s.requestCode(kari(), 'mobil', '+46701234567');
      await s.removeChannel(kari(), 'mobil');
      await s.confirm(kari());
      await s.reserve(kari());
      await s.liftReservation(kari());
      await s.setLanguage(kari(), 'en');
      const rows = await store.db.query<Record<string, unknown>>('select * from audit_log order by id');
      assert.deepEqual(
        rows.map((r) => r.endpoint),
        [
          PROFILE_EVENTS.code,
          PROFILE_EVENTS.epost,
          PROFILE_EVENTS.code,
          PROFILE_EVENTS.mobil,
          PROFILE_EVENTS.confirm,
          PROFILE_EVENTS.reservation,
          PROFILE_EVENTS.reservation,
          PROFILE_EVENTS.language,
        ],
      );
      const text = JSON.stringify(rows);
      for (const value of ['secret.address', '46701234567', code, '"en"']) {
        assert.ok(!text.includes(value), `the audit trail holds no ${value}`);
      }
      for (const r of rows) assert.match(String(r.detail), /^[a-z_]+(,[a-z_]+)*$/);
    });

    it('lists only lookups of the person’s own identifier, from lookups, the feed and the person endpoint, newest first, 12 months back', async () => {
      const audit = new AuditRepository(store.db);
      const at = (iso: string) => new Date(parseInstant(iso)!);
      const lookup = (when: string, endpoint: string, identifiers: string[], status = 200) =>
        audit.record({
          at: at(when),
          clientId: 'c',
          consumer: '974761076',
          supplier: endpoint === '/rest/v2/personer' ? '991825827' : null,
          endpoint,
          identifiers,
          status,
        });
      await lookup('2025-03-01T10:00:00+01:00', '/rest/v1/personer', [KARI]); // older than 12 months
      await lookup('2025-03-03T10:00:00+01:00', '/rest/v1/personer', [OLA, KARI]);
      await lookup('2025-06-01T10:00:00+02:00', '/rest/v2/personer', [KARI]);
      await lookup('2025-07-01T10:00:00+02:00', '/rest/v2/krr/hentEndringer', [OLA, KARI, NYNORSK]);
      await lookup('2025-08-01T10:00:00+02:00', 'GET /rest/v1/person', [KARI]);
      await lookup('2025-09-01T10:00:00+02:00', '/rest/v2/personer', [OLA]); // another person
      await lookup('2025-10-01T10:00:00+02:00', '/rest/v2/personer', [KARI], 422); // refused
      await lookup('2025-11-01T10:00:00+01:00', '/rest/v1/postkasse/slett', [KARI]); // not a lookup
      await service().confirm(kari()); // a self-service event
      await lookup('2026-01-01T10:00:00+01:00', '/rest/v2/personer', [
        `${KARI.slice(0, 10)}${KARI[10] === '9' ? '8' : '9'}`,
      ]);

      const s = service();
      const first = await s.lookups(KARI, 0, 3);
      assert.deepEqual(first, {
        records: [
          {
            at: at('2025-08-01T10:00:00+02:00').getTime(),
            service: 'person',
            consumer: '974761076',
            supplier: undefined,
          },
          {
            at: at('2025-07-01T10:00:00+02:00').getTime(),
            service: 'endringer',
            consumer: '974761076',
            supplier: undefined,
          },
          {
            at: at('2025-06-01T10:00:00+02:00').getTime(),
            service: 'oppslag',
            consumer: '974761076',
            supplier: '991825827',
          },
        ],
        more: true,
      });
      const second = await s.lookups(KARI, 1, 3);
      assert.deepEqual(
        second.records.map((r) => r.at),
        [at('2025-03-03T10:00:00+01:00').getTime()],
      );
      assert.equal(second.more, false);
      assert.deepEqual(
        (await s.lookups(NYNORSK, 0, 10)).records.map((r) => r.service),
        ['endringer'],
      );
      assert.deepEqual((await s.lookups(NOBODY, 0, 10)).records, []);
    });

    it('finds the person’s entries through the GIN index on identifiers (EXPLAIN), not by walking the trail', async () => {
      // A trail of 20 000 lookups of other persons, as the planner sees it after ANALYZE.
      await store.db.query(
        `insert into audit_log (at, client_id, consumer, supplier, endpoint, identifiers, status)
         select now() - (n || ' minutes')::interval, 'c', '974761076', null, '/rest/v2/personer',
                array[lpad((10000000000 + n * 7919)::text, 11, '0')], 200
         from generate_series(1, 20000) as n`,
      );
      await store.db.query('analyze audit_log');
      const plan = await store.db.query<Record<string, string>>(`explain ${LOOKUP_HISTORY_SQL}`, [
        KARI,
        Object.keys(LOOKUP_ENDPOINTS),
        new Date(START - 365 * 86_400_000).toISOString(),
        21,
        0,
      ]);
      const text = plan.map((row) => Object.values(row)[0]).join('\n');
      // The trail is partitioned by month (docs/operations.md#partitions-and-retention): each
      // partition that holds rows is read through its own GIN index, never scanned whole. An empty
      // partition may be "scanned" (nothing to read), which is why only those with rows are asked.
      const holding = await store.db.query<{ name: string }>(
        'select distinct tableoid::regclass::text as name from audit_log',
      );
      assert.ok(holding.length > 0);
      for (const { name } of holding) {
        assert.match(text, new RegExp(`Bitmap Index Scan on ${name}_identifiers_idx`), text);
        assert.doesNotMatch(text, new RegExp(`Seq Scan on ${name}\\b`), text);
      }
    });
  });
}
