// The delivery worker on both stores, against a real SMTP server and a real HTTP receiver started
// here: delivery, retries with back-off, giving up, a restart, a dead worker's lease running out,
// two workers on one PostgreSQL, and an operational log without recipients or texts.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { OutboxDelivery, sendersFromConfig } from './outbox.delivery.js';
import type { DeliveryOutcome, OutboxDeliveryOptions } from './outbox.delivery.js';
import { enqueueMessage, OutboxRepository } from './outbox.repository.js';
import { SmsSender, SmtpSender } from './outbox.senders.js';
import type { OutboxMessage } from './outbox.js';
import { openStore } from '../register/open-store.js';
import type { Database } from '../store/database.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { startSmtpServer } from '../../test/support/smtp-server.js';
import type { TestSmtpServer } from '../../test/support/smtp-server.js';
import { startHttpReceiver } from '../../test/support/http-receiver.js';
import type { ReceivedPost, TestHttpReceiver } from '../../test/support/http-receiver.js';

/** The outcomes a worker reports, awaited by condition (no sleeps). */
class Outcomes {
  readonly list: DeliveryOutcome[] = [];
  private readonly waiters = new Set<() => void>();

  readonly record = (outcome: DeliveryOutcome): void => {
    this.list.push(outcome);
    for (const wake of [...this.waiters]) wake();
  };

  /** Resolves once `check` holds over the outcomes so far; fails after 15 s. */
  until(check: (list: readonly DeliveryOutcome[]) => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check(this.list)) return;
        this.waiters.delete(test);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`${what}: not within 15 s (outcomes: ${JSON.stringify(this.list)})`));
      }, 15_000);
      this.waiters.add(test);
      test();
    });
  }
}

const delivered = (id: number) => (list: readonly DeliveryOutcome[]) =>
  list.some((o) => o.id === id && o.result === 'delivered');

/** Everything personal the tests send, to look for in the log. */
const personal = new Set<string>();

/** The text and, on their own, the codes in it. */
function addText(text: string): void {
  personal.add(text);
  for (const code of text.match(/\d{6}/g) ?? []) personal.add(code);
}

function email(recipient: string, text: string): OutboxMessage {
  personal.add(recipient);
  addText(text);
  return { kind: 'engangskode', channel: 'epost', recipient, subject: 'Engangskode for Min profil', text };
}

function sms(recipient: string, text: string): OutboxMessage {
  personal.add(recipient).add(recipient.replace(/\D/g, ''));
  addText(text);
  return { kind: 'engangskode', channel: 'sms', recipient, subject: '', text };
}

async function enqueue(db: Database, message: OutboxMessage): Promise<number> {
  await db.transaction((tx) => enqueueMessage(tx, message, new Date()));
  const [row] = await db.query<{ id: number }>('select max(id) as id from outbox');
  return Number(row!.id);
}

const referenceOf = (post: ReceivedPost) => (post.body as { reference: string }).reference;

for (const kind of STORE_KINDS) {
  describe(`the outbox's delivery worker (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let outbox: OutboxRepository;
    let smtp: TestSmtpServer;
    let gateway: TestHttpReceiver;
    const logLines: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
          done();
        },
      }),
    );

    before(async () => {
      store = await openTestStore(kind);
      outbox = new OutboxRepository(store.db);
      smtp = await startSmtpServer();
      gateway = await startHttpReceiver();
    });
    after(async () => {
      await smtp?.close();
      await gateway?.close();
      await store?.dispose();
    });

    const worker = (outcomes: Outcomes, over: Partial<OutboxDeliveryOptions> = {}) =>
      new OutboxDelivery({
        db: store.db,
        senders: [
          new SmtpSender({
            host: smtp.host,
            port: smtp.port,
            secure: false,
            from: 'ikke-svar@krr.example.no',
          }),
          new SmsSender({ url: `${gateway.url}sms`, headerName: 'X-Api-Key', headerValue: 'test-key' }),
        ],
        log,
        maxAttempts: 5,
        backoff: { firstMs: 100, maxMs: 400 },
        pollMs: 50,
        onOutcome: outcomes.record,
        ...over,
      });

    it('delivers e-mail over SMTP and SMS over HTTP once the transaction commits', async () => {
      const outcomes = new Outcomes();
      // On PostgreSQL the poll is an hour: the commit's NOTIFY is what wakes the worker.
      const w = worker(outcomes, kind === 'postgres' ? { pollMs: 3_600_000 } : {});
      await w.start();
      try {
        const mail = email('ola.nordmann@example.no', 'Koden din er 314159. Den gjelder i 10 minutter.');
        const text = sms('+47 412 34 567', 'Koden din er 271828.');
        const [mailId, smsId] = await store.db.transaction(async (tx) => {
          await enqueueMessage(tx, mail, new Date());
          await enqueueMessage(tx, text, new Date());
          const rows = await tx.query<{ id: number }>('select id from outbox order by id desc limit 2');
          return rows.map((r) => Number(r.id)).reverse();
        });

        const received = await smtp.nextTo('ola.nordmann@example.no');
        assert.deepEqual(received.to, ['ola.nordmann@example.no']);
        assert.equal(received.subject, 'Engangskode for Min profil');
        assert.equal(received.text, mail.text);
        assert.equal(received.from, 'ikke-svar@krr.example.no');

        const post = await gateway.next();
        assert.equal(post.path, '/sms');
        assert.equal(post.headers['x-api-key'], 'test-key');
        assert.deepEqual(post.body, { to: '+4741234567', text: text.text, reference: String(smsId) });

        await outcomes.until((l) => delivered(mailId!)(l) && delivered(smsId!)(l), 'both delivered');
        assert.equal((await outbox.byId(mailId!))?.deliveredTo, 'smtp');
        assert.equal((await outbox.byId(smsId!))?.deliveredTo, 'sms');
        assert.ok((await outbox.byId(smsId!))?.deliveredAt instanceof Date);
      } finally {
        await w.stop();
      }
    });

    it('retries after the receivers fail, waiting longer each time', async () => {
      const outcomes = new Outcomes();
      const w = worker(outcomes);
      gateway.failNext(3);
      smtp.failNext(1);
      await w.start();
      try {
        const smsId = await enqueue(store.db, sms('98765432', 'Koden din er 161803.'));
        const mailId = await enqueue(store.db, email('kari@example.no', 'Koden din er 141421.'));
        await outcomes.until((l) => delivered(smsId)(l) && delivered(mailId)(l), 'delivered after retries');

        const attempts = gateway.received.filter((p) => referenceOf(p) === String(smsId));
        assert.deepEqual(
          attempts.map((p) => p.status),
          [500, 500, 500, 200],
        );
        assert.deepEqual(
          outcomes.list
            .filter((o) => o.id === smsId)
            .map((o) => (o.result === 'failed' ? `${o.attempts}: ${o.error}` : o.result)),
          ['1: sms: HTTP 500', '2: sms: HTTP 500', '3: sms: HTTP 500', 'delivered'],
        );
        // The back-off (100, 200, 400 ms) is the least time between attempts.
        const times = attempts.map((p) => p.at);
        for (const [i, least] of [100, 200, 400].entries()) {
          assert.ok(
            times[i + 1]! - times[i]! >= least - 5,
            `attempt ${i + 2} came ${times[i + 1]! - times[i]!} ms after the one before, not ${least}`,
          );
        }
        assert.equal(smtp.refused, 1);
        assert.equal((await smtp.nextTo('kari@example.no')).text, 'Koden din er 141421.');
        const stored = await outbox.byId(smsId);
        assert.equal(stored?.attempts, 3);
        assert.equal(stored?.deliveredTo, 'sms');
        assert.equal(await outbox.lastError(smsId), null, 'cleared once delivered');
      } finally {
        await w.stop();
      }
    });

    it('gives a message up after the configured number of attempts, keeping a last error without personal data', async () => {
      const outcomes = new Outcomes();
      const w = worker(outcomes, { maxAttempts: 3 });
      gateway.failNext(1000, 503);
      await w.start();
      let id = 0;
      try {
        id = await enqueue(store.db, sms('+46701234567', 'Koden din er 112358.'));
        await outcomes.until(
          (l) => l.some((o) => o.id === id && o.result === 'failed' && o.gaveUp),
          'given up',
        );
      } finally {
        await w.stop();
        gateway.failNext(0);
      }
      assert.equal(gateway.received.filter((p) => referenceOf(p) === String(id)).length, 3);
      const stored = await outbox.byId(id);
      assert.equal(stored?.attempts, 3);
      assert.ok(stored?.failedAt instanceof Date);
      assert.equal(stored?.deliveredAt, null);
      assert.equal(await outbox.lastError(id), 'sms: HTTP 503');
      assert.deepEqual(await outbox.claimDue(new Date(Date.now() + 86_400_000), 10, 1000), [], 'never again');
    });

    it('leaves what it did not deliver to the next worker when stopped', async () => {
      const N = 6;
      const ids: number[] = [];
      for (let n = 0; n < N; n++) ids.push(await enqueue(store.db, sms(`4000000${n}`, `restart ${n}`)));
      const first = new Outcomes();
      const a = worker(first, { batchSize: 2 });
      await a.start();
      await first.until((l) => l.some((o) => o.result === 'delivered'), 'the first worker delivered one');
      await a.stop();
      const byFirst = first.list.filter((o) => o.result === 'delivered').length;
      assert.ok(byFirst < N, `the first worker delivered ${byFirst} of ${N} before stopping`);
      assert.equal(await outbox.pendingCount(), N - byFirst, 'the rest waits in the outbox');

      const second = new Outcomes();
      const b = worker(second);
      await b.start();
      try {
        await second.until(
          (l) => l.filter((o) => o.result === 'delivered').length === N - byFirst,
          'the rest',
        );
      } finally {
        await b.stop();
      }
      const references = gateway.received
        .filter((p) => ids.map(String).includes(referenceOf(p)))
        .map(referenceOf);
      assert.deepEqual([...references].sort(), ids.map(String).sort(), 'each message delivered once');
    });

    it('lets a delivery in flight finish and be recorded when stopped', async () => {
      // A gateway that holds its answer until told: the delivery is in flight while stop() runs.
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let arrived: () => void = () => {};
      const arrival = new Promise<void>((resolve) => (arrived = resolve));
      const slow = createServer((req, res) => {
        req.resume();
        arrived();
        void held.then(() => res.writeHead(204).end());
      });
      await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
      const outcomes = new Outcomes();
      const w = worker(outcomes, {
        senders: [new SmsSender({ url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/` })],
      });
      try {
        await w.start();
        const id = await enqueue(store.db, sms('45678901', 'Koden din er 999000.'));
        await arrival;
        const stopping = w.stop();
        assert.equal((await outbox.byId(id))?.deliveredAt, null, 'in flight');
        release();
        await stopping;
        assert.equal((await outbox.byId(id))?.deliveredTo, 'sms', 'recorded before stop() resolved');
        assert.deepEqual(outcomes.list, [{ id, result: 'delivered', deliveredTo: 'sms' }]);
      } finally {
        release();
        await w.stop();
        slow.closeAllConnections();
        await new Promise((resolve) => slow.close(resolve));
      }
    });

    it("delivers a dead worker's messages once its lease has ended", async () => {
      const ids = [
        await enqueue(store.db, email('lease1@example.no', 'Koden din er 000001.')),
        await enqueue(store.db, email('lease2@example.no', 'Koden din er 000002.')),
      ];
      // A worker that claimed them and died: nothing marks them, the lease holds them 300 ms.
      const claimed = await outbox.claimDue(new Date(), 10, 300);
      assert.deepEqual(
        claimed.map((m) => m.id),
        ids,
      );
      const leaseEnd = claimed[0]!.lease.getTime();
      const outcomes = new Outcomes();
      const w = worker(outcomes);
      await w.start();
      try {
        await outcomes.until((l) => ids.every((id) => delivered(id)(l)), 'delivered after the lease');
      } finally {
        await w.stop();
      }
      for (const id of ids) {
        const stored = await outbox.byId(id);
        assert.ok(stored!.deliveredAt!.getTime() >= leaseEnd, 'not before the lease ended');
      }
      assert.equal((await smtp.nextTo('lease1@example.no')).text, 'Koden din er 000001.');
      assert.equal((await smtp.nextTo('lease2@example.no')).text, 'Koden din er 000002.');
    });

    it('keeps recipients and texts out of the operational log', () => {
      assert.ok(
        logLines.some((l) => l.includes('outbox: message delivered') && l.includes('"outboxId"')),
        'the log was captured',
      );
      assert.ok(logLines.some((l) => l.includes('outbox: delivery failed; will retry')));
      assert.ok(logLines.some((l) => l.includes('outbox: message given up')));
      for (const line of logLines) {
        // Without the fields pino adds (a timestamp's digits could match a code by chance).
        const {
          time: _time,
          pid: _pid,
          hostname: _hostname,
          ...fields
        } = JSON.parse(line) as Record<string, unknown>;
        const written = JSON.stringify(fields);
        for (const secret of personal) {
          assert.ok(!written.includes(secret), `the log names "${secret}": ${line}`);
        }
      }
    });
  });
}

describe('two workers on one PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let store: TestStore;
  let second: Database;
  let gateway: TestHttpReceiver;
  before(async () => {
    store = await openTestStore('postgres');
    second = await openStore(store.config);
    gateway = await startHttpReceiver();
  });
  after(async () => {
    await gateway?.close();
    await second?.close();
    await store?.dispose();
  });

  it('deliver each of N messages exactly once', async () => {
    const outcomes = new Outcomes();
    const silent = pino({ level: 'silent' });
    const workers = [store.db, second].map(
      (db) =>
        new OutboxDelivery({
          db,
          senders: [new SmsSender({ url: gateway.url })],
          log: silent,
          maxAttempts: 5,
          backoff: { firstMs: 50, maxMs: 100 },
          pollMs: 20,
          batchSize: 3,
          onOutcome: outcomes.record,
        }),
    );
    for (const w of workers) await w.start();
    const N = 60;
    try {
      for (let n = 0; n < N; n += 10) {
        await store.db.transaction(async (tx) => {
          for (let k = n; k < n + 10; k++)
            await enqueueMessage(tx, sms(`9${String(k).padStart(7, '0')}`, `melding ${k}`), new Date());
        });
      }
      await outcomes.until((l) => l.filter((o) => o.result === 'delivered').length >= N, 'all delivered');
    } finally {
      for (const w of workers) await w.stop();
    }
    const references = gateway.received.map(referenceOf);
    assert.equal(references.length, N, 'as many POSTs as messages');
    assert.equal(new Set(references).size, N, 'none twice');
    assert.equal(outcomes.list.length, N, 'no failed or lost attempt');
    assert.equal(await new OutboxRepository(store.db).pendingCount(), 0);
  });
});

describe('the senders a configuration gives', () => {
  const smtp = { host: 'smtp.example.no', port: 587, secure: false, from: 'a@example.no' };
  const sms = { url: 'https://sms.example.no/' };
  const destinations = (config: Parameters<typeof sendersFromConfig>[0]) =>
    Object.fromEntries(sendersFromConfig(config).map((s) => [s.channel, s.destination]));

  it('are the dev inbox in dev mode for a channel without SMTP or SMS, and none outside it', () => {
    assert.deepEqual(destinations({ dev: true, smtp: undefined, sms: undefined }), {
      epost: 'dev-inbox',
      sms: 'dev-inbox',
    });
    assert.deepEqual(destinations({ dev: true, smtp, sms: undefined }), { epost: 'smtp', sms: 'dev-inbox' });
    assert.deepEqual(destinations({ dev: false, smtp: undefined, sms }), { sms: 'sms' });
    assert.deepEqual(destinations({ dev: false, smtp, sms }), { epost: 'smtp', sms: 'sms' });
    assert.deepEqual(destinations({ dev: false, smtp: undefined, sms: undefined }), {});
  });
});
