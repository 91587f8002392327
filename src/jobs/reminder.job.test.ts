// The reminder job on both stores (docs/jobs.md#reminders): who is due around the 16-month
// boundary, who never is, the channel and language of each reminder, its text, one reminder per
// confirmation across runs, a run stopped halfway and resumed, two runs at once, and delivery of a
// reminder over a real SMTP server by the outbox's worker.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { monthsBefore } from '../freshness/freshness.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { OutboxDelivery } from '../outbox/outbox.delivery.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { SmtpSender } from '../outbox/outbox.senders.js';
import type { Language, Person } from '../person/person.js';
import { PersonWriter } from '../register/person.writer.js';
import type { Database } from '../store/database.js';
import { frozenClock } from '../time/clock.js';
import { parseInstant } from '../time/oslo-time.js';
import type { EpochMs } from '../time/oslo-time.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { startSmtpServer } from '../../test/support/smtp-server.js';
import type { JobContext } from './job.js';
import { REMINDER_KIND, reminderJob } from './reminder.job.js';
import { reminderMessage } from './reminder.messages.js';

const NOW = parseInstant('2026-12-04T12:00:00+01:00')!;
/** 16 calendar months before NOW on the Oslo wall clock: 2025-08-04T12:00:00+02:00. */
const DUE_AT = monthsBefore(NOW, 16);
const MINPROFIL = 'https://krr.example.no/minprofil';
const MONTH = 30 * 86_400_000;

const id = (n: number) => makeIdentifier({ day: 1 + (n % 28), month: 1 + Math.floor(n / 28), year: 80 }, 100);

interface Spec {
  readonly epost?: string;
  readonly mobil?: string;
  readonly confirmed: EpochMs;
  readonly spraak?: Language;
  readonly reserved?: boolean;
}

function person(personidentifikator: string, s: Spec): Person {
  return {
    personidentifikator,
    status: 'AKTIV',
    reservasjon: s.reserved ? 'JA' : 'NEI',
    ...(s.reserved ? { reservasjonstidspunkt: s.confirmed } : {}),
    kontaktinformasjon: {
      ...(s.epost ? { epostadresse: s.epost, epostadresse_oppdatert: s.confirmed } : {}),
      ...(s.mobil ? { mobiltelefonnummer: s.mobil, mobiltelefonnummer_oppdatert: s.confirmed } : {}),
    },
    ...(s.spraak ? { spraak: s.spraak, spraak_oppdatert: s.confirmed } : {}),
  };
}

/** A run's context: the register's clock frozen at `now`, a silent log, counts kept here. */
function context(db: Database, now: EpochMs, over: Partial<Pick<JobContext, 'stillHolds'>> = {}) {
  const counts = new Map<string, number>();
  const controller = new AbortController();
  const listeners: ((name: string) => void)[] = [];
  /** What the run logged, as JSON lines. */
  const logged: string[] = [];
  const record = (obj: object, msg: string) => logged.push(JSON.stringify({ ...obj, msg }));
  const ctx: JobContext = {
    db,
    clock: frozenClock(now),
    log: { info: record, warn: record },
    signal: controller.signal,
    count(name, n = 1) {
      counts.set(name, (counts.get(name) ?? 0) + n);
      for (const l of listeners) l(name);
    },
    stillHolds: () => true,
    ...over,
  };
  return { ctx, counts, logged, controller, onCount: (l: (name: string) => void) => listeners.push(l) };
}

for (const kind of STORE_KINDS) {
  describe(`the reminder job (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let outbox: OutboxRepository;
    const job = (over: { afterMonths?: number; pageSize?: number } = {}) =>
      reminderJob({ afterMonths: 16, intervalMs: 3_600_000, minprofilUrl: MINPROFIL, ...over });
    const write = (persons: readonly Person[]) => new PersonWriter(store.db).write(persons);
    /** The reminders in the outbox, by recipient. */
    const reminders = async () => {
      const all = await outbox.recent(10_000);
      assert.ok(
        all.every((m) => m.kind === REMINDER_KIND),
        'only reminders',
      );
      return all;
    };
    const recipients = async () => (await reminders()).map((m) => m.recipient).sort();

    before(async () => {
      store = await openTestStore(kind);
      outbox = new OutboxRepository(store.db);
    });
    after(async () => store?.dispose());
    beforeEach(async () => {
      await store.db.query('delete from outbox');
      await store.db.query('delete from reminder_sent');
      await new PersonWriter(store.db).session((s) => s.removeAll());
    });

    it('reminds those confirmed 16 months ago or more, not those confirmed later, reserved, deleted or without a channel', async () => {
      await write([
        person(id(1), { epost: 'exactly@example.no', confirmed: DUE_AT }),
        person(id(2), { epost: 'a-second-later@example.no', confirmed: DUE_AT + 1000 }),
        person(id(3), { epost: 'past-18@example.no', confirmed: NOW - 20 * MONTH }),
        person(id(4), { epost: 'fresh@example.no', confirmed: NOW - MONTH }),
        person(id(5), { epost: 'reserved@example.no', confirmed: NOW - 17 * MONTH, reserved: true }),
        { personidentifikator: id(6), status: 'SLETTET', reservasjon: 'NEI' },
        { personidentifikator: id(7), status: 'AKTIV', reservasjon: 'NEI', spraak: 'nn' },
        person(id(8), { mobil: '+47 912 34 567', confirmed: NOW - 17 * MONTH }),
      ]);
      const { ctx, counts, logged } = context(store.db, NOW);
      await job().run(ctx);
      assert.deepEqual(await recipients(), ['+47 912 34 567', 'exactly@example.no', 'past-18@example.no']);
      assert.equal(counts.get('sent_epost'), 2);
      assert.equal(counts.get('sent_sms'), 1);
      assert.equal(counts.get('scanned'), 3);
      // The log names the kind and the counts, never a person.
      assert.equal(logged.length, 1);
      assert.deepEqual(JSON.parse(logged[0]!), {
        job: 'reminder',
        kind: 'paaminnelse',
        scanned: 3,
        sent_epost: 2,
        sent_sms: 1,
        msg: 'reminder: done',
      });
      for (const n of [1, 3, 8]) assert.ok(!logged[0]!.includes(id(n)));

      // A second later on the register's clock, the second person is 16 months old too.
      await job().run(context(store.db, NOW + 1000).ctx);
      assert.deepEqual(await recipients(), [
        '+47 912 34 567',
        'a-second-later@example.no',
        'exactly@example.no',
        'past-18@example.no',
      ]);
    });

    it('counts the months as the 18-month rule does: at the boundary with afterMonths 18, not a second before', async () => {
      const boundary = monthsBefore(NOW, 18);
      await write([
        person(id(1), { epost: 'at-the-boundary@example.no', confirmed: boundary }),
        person(id(2), { epost: 'after-it@example.no', confirmed: boundary + 1000 }),
      ]);
      await job({ afterMonths: 18 }).run(context(store.db, NOW).ctx);
      assert.deepEqual(await recipients(), ['at-the-boundary@example.no']);
    });

    it('sends by e-mail when there is an address, else by SMS, in the person’s language, linking to Min profil and nothing personal', async () => {
      const old = NOW - 17 * MONTH;
      const specs: [string, Spec, Language][] = [
        [id(1), { epost: 'both@example.no', mobil: '+4741234567', confirmed: old, spraak: 'en' }, 'en'],
        [id(2), { mobil: '98765432', confirmed: old, spraak: 'se' }, 'se'],
        [id(3), { epost: 'nynorsk@example.no', confirmed: old, spraak: 'nn' }, 'nn'],
        [id(4), { epost: 'samisk@example.no', confirmed: old, spraak: 'se' }, 'se'],
        [id(5), { epost: 'no-language@example.no', confirmed: old }, 'nb'],
        [id(6), { mobil: '+47 404 04 040', confirmed: old, spraak: 'nb' }, 'nb'],
      ];
      await write(specs.map(([pid, spec]) => person(pid, spec)));
      await job().run(context(store.db, NOW).ctx);
      const sent = await reminders();
      assert.equal(sent.length, specs.length);
      for (const [pid, spec, language] of specs) {
        const to = spec.epost ?? spec.mobil!;
        const message = sent.find((m) => m.recipient === to);
        assert.ok(message, `a reminder to the ${language} person`);
        const expected = reminderMessage(language, MINPROFIL);
        assert.equal(message.channel, spec.epost ? 'epost' : 'sms');
        assert.equal(message.text, expected.text);
        assert.equal(message.subject, spec.epost ? expected.subject : '');
        assert.ok(message.text.includes(MINPROFIL), 'the link to Min profil');
        const personal = [pid, spec.epost, spec.mobil, spec.mobil?.replace(/\D/g, '')].filter(Boolean);
        for (const value of personal as string[]) {
          assert.ok(!message.text.includes(value), `the text holds none of the person's data`);
          assert.ok(!message.subject.includes(value), `the subject holds none of the person's data`);
        }
      }
      // Four languages, four texts.
      assert.equal(new Set(sent.map((m) => m.text)).size, 4);
      assert.notEqual(
        reminderMessage('se', MINPROFIL).text,
        reminderMessage('nb', MINPROFIL).text,
        'a Northern Sami text of its own',
      );
    });

    it('sends one reminder per confirmation: not again, but again once a new confirmation ages', async () => {
      const pid = id(1);
      await write([person(pid, { epost: 'kari@example.no', confirmed: NOW - 17 * MONTH })]);
      await job().run(context(store.db, NOW).ctx);
      await job().run(context(store.db, NOW).ctx);
      const later = context(store.db, NOW + 2 * MONTH);
      await job().run(later.ctx);
      assert.equal((await reminders()).length, 1, 'one reminder, however many runs');
      assert.equal(later.counts.get('sent_epost'), undefined);

      // Kari confirms in Min profil: fresh, nothing due.
      const confirmedAt = NOW + 3 * MONTH;
      await write([person(pid, { epost: 'kari@example.no', confirmed: confirmedAt })]);
      await job().run(context(store.db, confirmedAt + 86_400_000).ctx);
      assert.equal((await reminders()).length, 1, 'nothing for a fresh confirmation');

      // 16 months after that confirmation, one more; then none again.
      const dueAgain = context(store.db, confirmedAt + 17 * MONTH);
      await job().run(dueAgain.ctx);
      await job().run(context(store.db, confirmedAt + 18 * MONTH).ctx);
      assert.equal((await reminders()).length, 2, 'exactly one more');
      assert.equal(dueAgain.counts.get('sent_epost'), 1);
    });

    it('a run stopped after its first page, or losing its lease, then run again sends each reminder once', async () => {
      const due = Array.from({ length: 7 }, (_, n) => `due${n}@example.no`);
      await write(due.map((epost, n) => person(id(n + 1), { epost, confirmed: NOW - 17 * MONTH })));

      const stopped = context(store.db, NOW);
      stopped.onCount((name) => {
        if (name === 'scanned') stopped.controller.abort();
      });
      await job({ pageSize: 2 }).run(stopped.ctx);
      assert.equal((await reminders()).length, 2, 'the first page only');

      let pages = 0;
      const leaseLost = context(store.db, NOW, { stillHolds: () => pages++ < 2 });
      await job({ pageSize: 2 }).run(leaseLost.ctx);
      assert.equal((await reminders()).length, 6, 'two more pages, then the lease was gone');

      const resumed = context(store.db, NOW);
      await job({ pageSize: 2 }).run(resumed.ctx);
      assert.deepEqual(await recipients(), [...due].sort(), 'each person once');
      assert.equal(resumed.counts.get('sent_epost'), 1);
    });

    it('two runs at once send one reminder to each person due', async () => {
      const due = Array.from({ length: 25 }, (_, n) => `together${n}@example.no`);
      await write(due.map((epost, n) => person(id(n + 1), { epost, confirmed: NOW - 17 * MONTH })));
      const a = context(store.db, NOW);
      const b = context(store.db, NOW);
      await Promise.all([job({ pageSize: 3 }).run(a.ctx), job({ pageSize: 3 }).run(b.ctx)]);
      assert.deepEqual(await recipients(), [...due].sort());
      assert.equal((a.counts.get('sent_epost') ?? 0) + (b.counts.get('sent_epost') ?? 0), due.length);
    });

    it('the outbox’s worker delivers the reminder over SMTP', async () => {
      await write([person(id(1), { epost: 'ola@example.no', confirmed: NOW - 17 * MONTH, spraak: 'nn' })]);
      await job().run(context(store.db, NOW).ctx);
      const smtp = await startSmtpServer();
      const worker = new OutboxDelivery({
        db: store.db,
        senders: [
          new SmtpSender({
            host: smtp.host,
            port: smtp.port,
            secure: false,
            from: 'ikke-svar@krr.example.no',
          }),
        ],
        log: { info: () => {}, warn: () => {} },
        maxAttempts: 3,
        backoff: { firstMs: 100, maxMs: 400 },
        pollMs: 50,
      });
      await worker.start();
      try {
        const mail = await smtp.nextTo('ola@example.no');
        const expected = reminderMessage('nn', MINPROFIL);
        assert.equal(mail.subject, expected.subject);
        assert.equal(mail.text, expected.text);
        assert.ok(mail.text.includes(MINPROFIL));
      } finally {
        await worker.stop();
        await smtp.close();
      }
      // The worker has stopped: its round, and the record of the delivery, are done.
      const [delivered] = await outbox.recent(1);
      assert.equal(delivered?.kind, REMINDER_KIND);
      assert.equal(delivered?.deliveredTo, 'smtp');
    });
  });
}
