// The outbox's repository on both stores: a message is kept only when the transaction that wrote
// it commits, and the dev inbox reads the newest first.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enqueueMessage, OutboxRepository } from './outbox.repository.js';
import type { OutboxMessage } from './outbox.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';

const message = (recipient: string, text: string): OutboxMessage => ({
  kind: 'engangskode',
  channel: 'epost',
  recipient,
  subject: 'Engangskode',
  text,
});

for (const kind of STORE_KINDS) {
  describe(`the outbox repository (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let outbox: OutboxRepository;
    before(async () => {
      store = await openTestStore(kind);
      outbox = new OutboxRepository(store.db);
    });
    after(async () => store?.dispose());

    it('keeps a message written in a committed transaction and none from a rolled-back one', async () => {
      const now = new Date('2026-12-04T10:00:00.123Z');
      await assert.rejects(
        store.db.transaction(async (tx) => {
          await enqueueMessage(tx, message('rolled@example.no', 'Koden er 111111'), now);
          throw new Error('the request failed after writing');
        }),
        /the request failed after writing/,
      );
      assert.deepEqual(await outbox.recent(10), [], 'nothing from the rolled-back transaction');

      await store.db.transaction(async (tx) => {
        await tx.query('select 1');
        await enqueueMessage(tx, message('kept@example.no', 'Koden er 222222'), now);
      });
      const [kept, ...rest] = await outbox.recent(10);
      assert.equal(rest.length, 0);
      assert.ok(kept);
      assert.equal(typeof kept.id, 'number');
      assert.deepEqual(
        { ...kept, id: 0 },
        {
          id: 0,
          kind: 'engangskode',
          channel: 'epost',
          recipient: 'kept@example.no',
          subject: 'Engangskode',
          text: 'Koden er 222222',
          createdAt: now,
          attempts: 0,
          deliveredAt: null,
          deliveredTo: null,
          failedAt: null,
        },
      );
      assert.deepEqual(await outbox.byId(kept.id), kept);
    });

    it('lists the newest first, at most the limit', async () => {
      const now = new Date('2026-12-04T11:00:00Z');
      for (const n of [1, 2, 3]) await outbox.enqueue(message(`n${n}@example.no`, `melding ${n}`), now);
      const recent = await outbox.recent(2);
      assert.deepEqual(
        recent.map((m) => m.text),
        ['melding 3', 'melding 2'],
      );
    });

    it('makes a message enqueued on a register clock a year ahead due now on the real clock, in order', async () => {
      // The test-data clock may run far ahead (docs/minprofil.md#the-outbox): the message's
      // created_at says the register's time, its first attempt is due at the real time.
      await store.db.query('delete from outbox');
      const yearAhead = new Date(Date.now() + 365 * 24 * 3600_000);
      await outbox.enqueue(message('ahead@example.no', 'ahead'), yearAhead);
      await outbox.enqueue(message('now@example.no', 'now'), new Date());
      const [row] = await store.db.query<{ due: boolean }>(
        `select next_attempt_at <= now() as due from outbox where recipient = 'ahead@example.no'`,
      );
      assert.equal(row?.due, true, 'due at the real time, not a year ahead');
      const [claimed, ...rest] = await outbox.claimDue(new Date(), 1, 60_000);
      assert.equal(claimed?.text, 'ahead', 'the older message first, not held behind the newer one');
      assert.deepEqual(claimed.createdAt, yearAhead, 'created at the register clock');
      assert.equal(rest.length, 0);
    });
  });
}

const LEASE = 60_000;
const RETRY = { firstMs: 1000, maxMs: 5000, maxAttempts: 5 };
const plus = (at: Date, ms: number) => new Date(at.getTime() + ms);

for (const kind of STORE_KINDS) {
  describe(`claiming and marking outbox messages (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let outbox: OutboxRepository;
    const t0 = new Date('2026-12-04T12:00:00Z');
    before(async () => {
      store = await openTestStore(kind);
      outbox = new OutboxRepository(store.db);
    });
    after(async () => store?.dispose());

    it('claims a due message once under a lease, again only after the lease ends, and fences the old lease', async () => {
      await outbox.enqueue(message('lease@example.no', 'a'), t0);
      const [claimed, ...more] = await outbox.claimDue(t0, 10, LEASE);
      assert.ok(claimed);
      assert.equal(more.length, 0);
      assert.deepEqual(claimed.lease, plus(t0, LEASE));
      assert.deepEqual(await outbox.claimDue(plus(t0, LEASE - 1), 10, LEASE), [], 'held by the lease');

      const [again] = await outbox.claimDue(plus(t0, LEASE), 10, LEASE);
      assert.equal(again?.id, claimed.id, 'claimed again once the lease has ended');
      assert.equal(
        await outbox.markDelivered(claimed.id, claimed.lease, 'smtp', plus(t0, LEASE)),
        false,
        'the first lease no longer marks it',
      );
      assert.equal(
        await outbox.markFailed(claimed.id, claimed.lease, 'late', plus(t0, LEASE), RETRY),
        undefined,
      );
      assert.equal(await outbox.markDelivered(again.id, again.lease, 'smtp', plus(t0, LEASE + 5)), true);
      const stored = await outbox.byId(again.id);
      assert.equal(stored?.deliveredTo, 'smtp');
      assert.deepEqual(stored?.deliveredAt, plus(t0, LEASE + 5));
      assert.equal(stored?.attempts, 0);
      assert.deepEqual(await outbox.claimDue(plus(t0, 10 * LEASE), 10, LEASE), [], 'delivered: never again');
      assert.equal(await outbox.pendingCount(), 0);
    });

    it('retries a failed attempt after a back-off that doubles up to its cap, and gives up after the last attempt', async () => {
      await outbox.enqueue(message('retry@example.no', 'b'), t0);
      let now = t0;
      const waits: number[] = [];
      let id = 0;
      for (let attempt = 1; attempt <= RETRY.maxAttempts; attempt++) {
        const [claimed] = await outbox.claimDue(now, 10, LEASE);
        assert.ok(claimed, `attempt ${attempt} is due`);
        id = claimed.id;
        const failed = await outbox.markFailed(claimed.id, claimed.lease, 'smtp: 451', now, RETRY);
        assert.equal(failed?.attempts, attempt);
        if (attempt === RETRY.maxAttempts) {
          assert.deepEqual(failed, { attempts: attempt, gaveUp: true, nextAttemptAt: null });
          break;
        }
        assert.equal(failed?.gaveUp, false);
        const wait = failed.nextAttemptAt!.getTime() - now.getTime();
        waits.push(wait);
        assert.deepEqual(
          await outbox.claimDue(plus(now, wait - 1), 10, LEASE),
          [],
          'not before the back-off',
        );
        now = plus(now, wait);
      }
      assert.deepEqual(waits, [1000, 2000, 4000, 5000]);
      const stored = await outbox.byId(id);
      assert.deepEqual(stored?.failedAt, now);
      assert.equal(stored?.attempts, RETRY.maxAttempts);
      assert.equal(await outbox.lastError(id), 'smtp: 451');
      assert.deepEqual(await outbox.claimDue(plus(now, 100 * LEASE), 10, LEASE), [], 'given up: never again');
    });

    it('gives released messages back at once, oldest first, at most the limit', async () => {
      for (const n of [1, 2, 3]) await outbox.enqueue(message(`r${n}@example.no`, `r${n}`), t0);
      const first = await outbox.claimDue(t0, 2, LEASE);
      assert.deepEqual(
        first.map((m) => m.text),
        ['r1', 'r2'],
      );
      const [third, ...none] = await outbox.claimDue(t0, 2, LEASE);
      assert.equal(third?.text, 'r3');
      assert.equal(none.length, 0);
      await outbox.release(
        first.map((m) => m.id),
        first[0]!.lease,
      );
      assert.deepEqual(
        (await outbox.claimDue(t0, 5, LEASE)).map((m) => m.text),
        ['r1', 'r2'],
      );
    });

    it('claims only the channels asked for: a channel without a sender keeps its messages waiting', async () => {
      const t = new Date('2026-12-05T12:00:00Z');
      await outbox.enqueue({ ...message('c@example.no', 'e'), channel: 'epost' }, t);
      await outbox.enqueue({ ...message('41234567', 's'), channel: 'sms' }, t);
      // (Earlier tests' e-mails, their leases long over, are due too.)
      const epost = await outbox.claimDue(t, 10, LEASE, ['epost']);
      assert.ok(epost.every((m) => m.channel === 'epost'));
      assert.ok(epost.some((m) => m.text === 'e'));
      const sms = await outbox.claimDue(t, 10, LEASE, ['sms']);
      assert.deepEqual(
        sms.map((m) => [m.channel, m.text]),
        [['sms', 's']],
      );
    });
  });
}

describe('claims on one PostgreSQL from two connections', { skip: await skipReason('postgres') }, () => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore('postgres');
  });
  after(async () => store?.dispose());

  it('never hand the same message to both', async () => {
    const { openStore } = await import('../register/open-store.js');
    const second = await openStore(store.config);
    try {
      const a = new OutboxRepository(store.db);
      const b = new OutboxRepository(second);
      const now = new Date('2026-12-04T13:00:00Z');
      const N = 60;
      for (let n = 0; n < N; n++) await a.enqueue(message(`p${n}@example.no`, `p${n}`), now);
      const seen: number[] = [];
      for (;;) {
        const [x, y] = await Promise.all([a.claimDue(now, 7, LEASE), b.claimDue(now, 7, LEASE)]);
        if (x.length === 0 && y.length === 0) break;
        seen.push(...x.map((m) => m.id), ...y.map((m) => m.id));
      }
      assert.equal(seen.length, N, 'every message claimed');
      assert.equal(new Set(seen).size, N, 'none claimed twice');
    } finally {
      await second.close();
    }
  });
});
