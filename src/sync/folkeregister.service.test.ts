// `krr folkeregister sync` (docs/folkeregister.md) on both stores, against Folkeregisteret's event list
// served over loopback HTTP in its published shape (test/support/fake-folkeregister.ts, pages of 3 here).
// The effects are checked through the register's real lookup (POST /rest/v2/personer) and change feed
// (POST /rest/v2/krr/hentEndringer) of an app on the same store.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuditRepository } from '../audit/audit.repository.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { persons } from '../../test/support/fake-feed.js';
import { FakeFolkeregister, FREG_TOKEN } from '../../test/support/fake-folkeregister.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { FolkeregisterClient } from './folkeregister.client.js';
import {
  AUDIT_ENDPOINT,
  folkeregisterSyncOnce,
  followFolkeregister,
  readFolkeregisterStatus,
} from './folkeregister.service.js';
import type { FolkeregisterSyncOptions } from './folkeregister.service.js';
import { staticToken } from './maskinporten.client.js';
import { SourceRefusedError, SyncDataError } from './sync.errors.js';
import { abortableSleep } from './sync.service.js';

const RULES = { allowSynthetic: true };
const SCOPES = [
  'krr:global/hentendring.read',
  'krr:global/kontaktinformasjon.read',
  'krr:global/digitalpost.read',
];
const D_NUMMER = makeIdentifier({ day: 3, month: 4, year: 91, dNumber: true });
const FOEDSELSNUMMER = makeIdentifier({ day: 3, month: 4, year: 91 });
const OTHER_FNR = makeIdentifier({ day: 9, month: 10, year: 88 });
const slettetAnswer = (id: string) =>
  `{"personer":[{"personidentifikator":"${id}","status":"SLETTET","varslingsstatus":"KAN_IKKE_VARSLES"}]}`;

for (const kind of STORE_KINDS) {
  describe(
    `krr folkeregister sync against the event list over HTTP (${kind} store)`,
    { skip: await skipReason(kind) },
    () => {
      const freg = new FakeFolkeregister();
      let t: TestApp;
      let token: string;
      let everyone: Person[];
      let full: Person;

      before(async () => {
        await freg.start();
        t = await startTestApp(kind);
        token = await t.token(SCOPES);
        everyone = persons(30, 5).filter((p) => p.status === 'AKTIV');
        full = everyone.find((p) => p.kontaktinformasjon && p.digital_post && p.sertifikat && p.spraak)!;
        assert.ok(
          full,
          'the synthetic persons hold one with contact data, mailbox, certificate and language',
        );
      });
      after(async () => {
        await freg.stop();
        await t.close();
      });
      beforeEach(async () => {
        freg.reset();
        for (const table of [
          'person',
          'person_removed',
          'folkeregister_position',
          'folkeregister_event_count',
          'folkeregister_conflict',
          'audit_log',
        ]) {
          await t.store.db.query(`delete from ${table}`);
        }
      });

      const options = (extra: Partial<FolkeregisterSyncOptions> = {}): FolkeregisterSyncOptions => ({
        db: t.store.db,
        source: new FolkeregisterClient({ from: freg.url, auth: staticToken(FREG_TOKEN) }),
        rules: RULES,
        backoff: { initialMs: 1, maxMs: 2 },
        sleep: (_ms, signal) => abortableSleep(1, signal),
        ...extra,
      });
      const answer = async (id: string): Promise<string> => {
        const res = await t.post('/rest/v2/personer', { personidentifikatorer: [id] }, token);
        assert.equal(res.statusCode, 200, res.body);
        return res.body;
      };
      const changed = async (fraEndringsId: number): Promise<Map<string, Record<string, unknown>>> => {
        const res = await t.post('/rest/v2/krr/hentEndringer', { fraEndringsId }, token);
        assert.equal(res.statusCode, 200, res.body);
        const body = JSON.parse(res.body) as {
          list: (Record<string, unknown> & { personidentifikator: string })[];
        };
        return new Map(body.list.map((p) => [p.personidentifikator, p]));
      };
      const lastChangeId = async (): Promise<number> => {
        const [row] = await t.store.db.query<{ id: string | null }>(
          'select max(change_id)::text as id from person',
        );
        return Number(row?.id ?? 0);
      };

      it('a D-nummer becoming a fødselsnummer moves everything the entry holds; the old one is SLETTET; both in the change feed; the link in the audit trail', async () => {
        const before = { ...full, personidentifikator: D_NUMMER };
        await t.write([before]);
        const oldAnswer = await answer(D_NUMMER);
        const since = await lastChangeId();
        const seq = freg.newIdentifier(D_NUMMER, FOEDSELSNUMMER);

        const summary = await folkeregisterSyncOnce(options());
        assert.equal(summary.position, seq);
        assert.equal(summary.counts.get('endringIIdentifikasjonsnummer:flyttet'), 1);

        assert.equal(
          await answer(FOEDSELSNUMMER),
          oldAnswer.replace(D_NUMMER, FOEDSELSNUMMER),
          'contact data, timestamps, reservation, language, mailbox and certificate moved as they were',
        );
        assert.equal(await answer(D_NUMMER), slettetAnswer(D_NUMMER));
        const feed = await changed(since);
        assert.deepEqual([...feed.keys()].sort(), [D_NUMMER, FOEDSELSNUMMER].sort());
        assert.equal(feed.get(D_NUMMER)!.status, 'SLETTET');
        assert.equal(feed.get(FOEDSELSNUMMER)!.status, 'AKTIV');

        const entry = (await new AuditRepository(t.store.db).latest(50)).find(
          (x) => x.endpoint === AUDIT_ENDPOINT,
        );
        assert.equal(entry!.endpoint, AUDIT_ENDPOINT);
        assert.deepEqual(entry!.identifiers, [D_NUMMER, FOEDSELSNUMMER]);
        assert.equal(entry!.status, 200);
        assert.match(entry!.detail!, new RegExp(`sekvensnummer ${seq}`));
      });

      it('follows several pages: deaths, new identifiers, a conflict, unknown types counted; status shows position, counts, conflicts', async () => {
        const [a, b, c, d, e] = everyone;
        await t.write([
          a!,
          b!,
          c!,
          { ...d!, personidentifikator: D_NUMMER },
          { ...e!, personidentifikator: OTHER_FNR },
        ]);
        const notHere = makeIdentifier({ day: 1, month: 1, year: 70 });
        freg.other(a!.personidentifikator, 'utflytting');
        freg.death(a!.personidentifikator);
        freg.death(notHere);
        freg.other(b!.personidentifikator, 'flyttingInnenKommune');
        freg.newIdentifier(D_NUMMER, FOEDSELSNUMMER);
        // c gets a new identifier that already has an entry (e's): not merged, reported.
        const conflictSeq = freg.newIdentifier(c!.personidentifikator, OTHER_FNR);
        freg.newIdentifier(
          makeIdentifier({ day: 2, month: 2, year: 72, dNumber: true }),
          makeIdentifier({ day: 2, month: 2, year: 72 }),
        );
        freg.other(b!.personidentifikator, 'utflytting');
        const last = freg.death(b!.personidentifikator);

        const summary = await folkeregisterSyncOnce(options());
        assert.equal(summary.position, last);
        assert.equal(summary.events, 9);
        assert.deepEqual(freg.requests, [1, 4, 7, 10], 'page after page from seq 1 until an empty page');
        assert.equal(summary.caughtUp, true);
        assert.deepEqual(
          summary.conflicts.map((x) => x.sequence),
          [conflictSeq],
        );

        assert.equal(
          await answer(a!.personidentifikator),
          slettetAnswer(a!.personidentifikator),
          'no contact data, mailbox or certificate kept',
        );
        assert.equal(await answer(b!.personidentifikator), slettetAnswer(b!.personidentifikator));
        assert.equal(
          await answer(notHere),
          '{"personer":[]}',
          'a death of a person not in the register adds no one',
        );
        assert.match(await answer(FOEDSELSNUMMER), /"status":"AKTIV"/);
        // The conflict changed neither entry.
        assert.match(await answer(c!.personidentifikator), /"status":"AKTIV"/);
        assert.match(await answer(OTHER_FNR), /"status":"AKTIV"/);

        const status = await readFolkeregisterStatus(t.store.db);
        assert.equal(status.position, last);
        const counts = Object.fromEntries(status.counts.map((x) => [x.type, x.count]));
        assert.deepEqual(counts, {
          doedsfall: 3,
          'doedsfall:ikke-i-registeret': 1,
          'doedsfall:slettet': 2,
          endringIIdentifikasjonsnummer: 3,
          'endringIIdentifikasjonsnummer:flyttet': 1,
          'endringIIdentifikasjonsnummer:gammel-uten-oppfoering': 1,
          'endringIIdentifikasjonsnummer:konflikt': 1,
          flyttingInnenKommune: 1,
          utflytting: 2,
        });
        assert.deepEqual(
          status.conflicts.map((x) => [x.sequence, x.reason]),
          [[conflictSeq, 'the new identifier already has an entry']],
        );
        const audit = await new AuditRepository(t.store.db).latest(100);
        const conflictEntry = audit.find((x) => x.endpoint === AUDIT_ENDPOINT && x.status === 409)!;
        assert.deepEqual(conflictEntry.identifiers, [c!.personidentifikator, OTHER_FNR]);
      });

      it("a death under Folkeregisteret's other names is a death; such an event without a death changes nothing", async () => {
        const [a, b, c] = everyone;
        await t.write([a!, b!, c!]);
        freg.death(a!.personidentifikator, 'personErDoed');
        freg.death(b!.personidentifikator, 'endringIDoedsfall');
        // An event of a death type for a person whose document shows no death (annulled, say).
        freg.other(c!.personidentifikator, 'personErDoed');
        await folkeregisterSyncOnce(options());
        assert.equal(await answer(a!.personidentifikator), slettetAnswer(a!.personidentifikator));
        assert.equal(await answer(b!.personidentifikator), slettetAnswer(b!.personidentifikator));
        assert.match(await answer(c!.personidentifikator), /"status":"AKTIV"/);
        const counts = Object.fromEntries(
          (await readFolkeregisterStatus(t.store.db)).counts.map((x) => [x.type, x.count]),
        );
        assert.equal(counts['personErDoed:slettet'], 1);
        assert.equal(counts['endringIDoedsfall:slettet'], 1);
        assert.equal(counts['personErDoed:ikke-doed'], 1);
      });

      it('a bad event in the middle: everything before it applied, nothing of it, a clear error with its sequence number; fixed, the run resumes', async () => {
        const [a, b] = everyone;
        await t.write([a!, b!]);
        freg.death(a!.personidentifikator);
        freg.other(a!.personidentifikator, 'utflytting');
        freg.other(b!.personidentifikator, 'utflytting');
        freg.other(b!.personidentifikator, 'utflytting');
        const badSeq = freg.raw((seq) => ({
          sekvensnummer: seq,
          hendelse: { folkeregisteridentifikator: '12345678901', hendelsestype: 'doedsfall' },
        }));
        freg.death(b!.personidentifikator);

        const err = await folkeregisterSyncOnce(options()).catch((e: unknown) => e);
        assert.ok(err instanceof SyncDataError, String(err));
        assert.match(err.message, new RegExp(`sequence number ${badSeq} cannot be applied: .*check digit`));
        assert.match(err.message, new RegExp(`position stays at ${badSeq - 1}`));
        assert.doesNotMatch(err.message, /12345678901/, 'the identifier is never in the message');
        assert.equal((await readFolkeregisterStatus(t.store.db)).position, badSeq - 1);
        assert.match(await answer(a!.personidentifikator), /"status":"SLETTET"/);
        assert.match(await answer(b!.personidentifikator), /"status":"AKTIV"/);

        // Run again unchanged: the same error, nothing more applied.
        const again = await folkeregisterSyncOnce(options()).catch((e: unknown) => e);
        assert.ok(again instanceof SyncDataError);
        assert.equal((await readFolkeregisterStatus(t.store.db)).position, badSeq - 1);

        freg.replace(badSeq, freg.eventFor(badSeq, b!.personidentifikator, 'utflytting'));
        const summary = await folkeregisterSyncOnce(options());
        assert.equal(summary.startPosition, badSeq - 1);
        assert.equal(summary.position, badSeq + 1);
        assert.match(await answer(b!.personidentifikator), /"status":"SLETTET"/);
        const counts = Object.fromEntries(
          (await readFolkeregisterStatus(t.store.db)).counts.map((x) => [x.type, x.count]),
        );
        assert.equal(counts.utflytting, 4, 'each event counted once, across the three runs');
        assert.equal(counts['doedsfall:slettet'], 2);
      });

      it('events that are not events: missing fields and unknown shapes are refused by sequence number', async () => {
        const noType = freg.raw((seq) => ({
          sekvensnummer: seq,
          hendelse: { folkeregisteridentifikator: everyone[0]!.personidentifikator },
        }));
        let err = await folkeregisterSyncOnce(options()).catch((e: unknown) => e);
        assert.ok(err instanceof SyncDataError);
        assert.match(err.message, new RegExp(`sequence number ${noType} .*hendelsestype is missing`));
        freg.reset();
        freg.raw(() => ['not', 'an', 'event']);
        err = await folkeregisterSyncOnce(options()).catch((e: unknown) => e);
        assert.ok(err instanceof SyncDataError);
        assert.match(
          err.message,
          /event 1 of the page after sequence number 0 cannot be applied: an event must be a JSON object/,
        );
        assert.equal((await readFolkeregisterStatus(t.store.db)).position, undefined);
      });

      it('a second service resumes from the stored position: no event applied twice', async () => {
        const [a, b] = everyone;
        await t.write([{ ...a!, personidentifikator: D_NUMMER }, b!]);
        freg.newIdentifier(D_NUMMER, FOEDSELSNUMMER);
        freg.other(b!.personidentifikator, 'utflytting');
        await folkeregisterSyncOnce(options());
        const changeId = await lastChangeId();
        const last = freg.death(b!.personidentifikator);
        freg.requests = [];

        const second = await folkeregisterSyncOnce(options());
        assert.equal(second.startPosition, last - 1);
        assert.equal(freg.requests[0], last, 'asks from the event after the stored position');
        assert.equal(second.events, 1);
        const feed = await changed(changeId);
        assert.deepEqual([...feed.keys()], [b!.personidentifikator], 'only the new death changed anything');
        const counts = Object.fromEntries(
          (await readFolkeregisterStatus(t.store.db)).counts.map((x) => [x.type, x.count]),
        );
        assert.equal(counts['endringIIdentifikasjonsnummer:flyttet'], 1);
      });

      it('retries a failing source; a wrong token is refused and nothing is written; follow stops on its signal', async () => {
        await t.write([everyone[0]!]);
        freg.death(everyone[0]!.personidentifikator);
        freg.failNext = 2;
        const retried: string[] = [];
        const summary = await folkeregisterSyncOnce(options({ onRetry: (e) => retried.push(e.message) }));
        assert.equal(retried.length, 2);
        assert.equal(summary.position, 1);

        freg.death(everyone[1]!.personidentifikator);
        const refused = await folkeregisterSyncOnce(
          options({ source: new FolkeregisterClient({ from: freg.url, auth: staticToken('wrong') }) }),
        ).catch((e: unknown) => e);
        assert.ok(refused instanceof SourceRefusedError);
        assert.equal(refused.status, 401);
        assert.equal(
          refused.message,
          'Folkeregisteret refused the request: HTTP 401: FREG-401: Autentiseringsinformasjon mangler (the token was not accepted)',
        );
        assert.equal((await readFolkeregisterStatus(t.store.db)).position, 1);

        const controller = new AbortController();
        const followed = await followFolkeregister(
          options({
            signal: controller.signal,
            onProgress: (p) => {
              if (p.caughtUp) controller.abort();
            },
          }),
        );
        assert.equal(followed.stopped, true);
        assert.equal(followed.position, 2);
      });
    },
  );
}
