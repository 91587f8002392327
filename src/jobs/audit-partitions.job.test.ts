// The audit-partitions job (docs/jobs.md#audit-partitions) on both stores, run with a hand-built
// JobContext and the register's clock frozen and moved: it makes the current and the next two
// months' partitions (taking their rows out of the default partition), and drops exactly the
// partitions whose month ended at or before the retention's cutoff.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { auditPartitions, dropAuditPartition } from '../store/audit-partitions.js';
import { frozenClock } from '../time/clock.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { auditPartitionsJob } from './audit-partitions.job.js';
import type { JobContext } from './job.js';

interface Run {
  readonly ctx: JobContext;
  readonly counts: Map<string, number>;
  readonly abort: AbortController;
}

function context(store: TestStore, now: string): Run {
  const counts = new Map<string, number>();
  const abort = new AbortController();
  const ctx: JobContext = {
    db: store.db,
    clock: frozenClock(Date.parse(now)),
    log: { info: () => {}, warn: () => {} },
    signal: abort.signal,
    count: (name, n = 1) => counts.set(name, (counts.get(name) ?? 0) + n),
    stillHolds: () => true,
  };
  return { ctx, counts, abort };
}

const job = auditPartitionsJob({ retentionMonths: 3, intervalMs: 3600_000 });

for (const kind of STORE_KINDS) {
  describe(`the audit-partitions job (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(kind);
    });
    after(async () => store?.dispose());
    // From no month partitions at all (the migration made those of the real clock's months).
    beforeEach(async () => {
      for (const p of await auditPartitions(store.db))
        await store.db.transaction((tx) => dropAuditPartition(tx, p));
      await store.db.query('delete from audit_log');
    });

    async function entry(at: string): Promise<number> {
      const [row] = await store.db.query<{ id: number }>(
        `insert into audit_log (at, client_id, consumer, supplier, endpoint, identifiers, status)
         values ($1::text::timestamptz, 'c', '974761076', null, '/rest/v2/personer', array['03048100014'], 200)
         returning id`,
        [at],
      );
      return Number(row!.id);
    }
    const partitions = async () => (await auditPartitions(store.db)).map((p) => p.name);
    const where = async () =>
      (
        await store.db.query<{ id: number; part: string }>(
          'select id, tableoid::regclass::text as part from audit_log order by id',
        )
      ).map((r) => [Number(r.id), r.part]);

    it('makes the months ahead, moving their rows out of the default, and drops exactly the expired ones', async () => {
      const first = context(store, '2026-12-10T12:00:00Z');
      await job.run(first.ctx);
      assert.deepEqual(await partitions(), ['audit_log_2026_12', 'audit_log_2027_01', 'audit_log_2027_02']);
      assert.deepEqual(Object.fromEntries(first.counts), { created_partitions: 3, dropped_partitions: 0 });

      const lastOfDecember = await entry('2026-12-31T23:59:59.999Z');
      const firstOfJanuary = await entry('2027-01-01T00:00:00.000Z');
      const april = await entry('2027-04-10T08:00:00.000Z');
      assert.deepEqual(await where(), [
        [lastOfDecember, 'audit_log_2026_12'],
        [firstOfJanuary, 'audit_log_2027_01'],
        [april, 'audit_log_default'],
      ]);

      // Three months on: March to May made, April's row moved out of the default with its id.
      // The cutoff (2026-12-15) is inside December's month: nothing dropped.
      const march = context(store, '2027-03-15T12:00:00Z');
      await job.run(march.ctx);
      assert.deepEqual(Object.fromEntries(march.counts), { created_partitions: 3, dropped_partitions: 0 });
      assert.deepEqual(await partitions(), [
        'audit_log_2026_12',
        'audit_log_2027_01',
        'audit_log_2027_02',
        'audit_log_2027_03',
        'audit_log_2027_04',
        'audit_log_2027_05',
      ]);
      assert.deepEqual(await where(), [
        [lastOfDecember, 'audit_log_2026_12'],
        [firstOfJanuary, 'audit_log_2027_01'],
        [april, 'audit_log_2027_04'],
      ]);

      // A millisecond before the cutoff reaches the end of December: December is kept.
      const almost = context(store, '2027-03-31T23:59:59.999Z');
      await job.run(almost.ctx);
      assert.deepEqual(Object.fromEntries(almost.counts), { created_partitions: 0, dropped_partitions: 0 });
      assert.equal((await where()).length, 3);

      // The cutoff at 2027-01-01T00:00Z: December's every row is older, January's first is not.
      const april1 = context(store, '2027-04-01T00:00:00.000Z');
      await job.run(april1.ctx);
      assert.deepEqual(Object.fromEntries(april1.counts), { created_partitions: 1, dropped_partitions: 1 });
      assert.deepEqual(await partitions(), [
        'audit_log_2027_01',
        'audit_log_2027_02',
        'audit_log_2027_03',
        'audit_log_2027_04',
        'audit_log_2027_05',
        'audit_log_2027_06',
      ]);
      assert.deepEqual(await where(), [
        [firstOfJanuary, 'audit_log_2027_01'],
        [april, 'audit_log_2027_04'],
      ]);

      // An entry still finds a home after the drop: December's goes to the default.
      const late = await entry('2026-12-20T00:00:00.000Z');
      assert.deepEqual((await where()).at(-1), [late, 'audit_log_default']);
    });

    it('drops every month past the retention at once when the clock jumps, and makes the new months', async () => {
      await job.run(context(store, '2026-12-10T12:00:00Z').ctx);
      await job.run(context(store, '2027-03-10T12:00:00Z').ctx);
      await entry('2027-02-14T12:00:00Z');
      const jump = context(store, '2028-01-31T10:00:00Z');
      await job.run(jump.ctx);
      // Cutoff 2027-10-31T10:00Z: all six months from December to May go, Jan to Mar 2028 are made.
      assert.deepEqual(Object.fromEntries(jump.counts), { created_partitions: 3, dropped_partitions: 6 });
      assert.deepEqual(await partitions(), ['audit_log_2028_01', 'audit_log_2028_02', 'audit_log_2028_03']);
      assert.deepEqual(await where(), []);
    });

    it('stops when the process stops: nothing made, the next run makes them', async () => {
      const stopped = context(store, '2027-03-15T12:00:00Z');
      stopped.abort.abort();
      await job.run(stopped.ctx);
      assert.deepEqual(await partitions(), []);
      await job.run(context(store, '2027-03-15T12:00:00Z').ctx);
      assert.equal((await partitions()).length, 3);
    });

    // The embedded store has one connection: no other transaction can hold a lock there.
    it(
      'leaves a partition it cannot lock in time to the next run, and counts it',
      { skip: kind === 'embedded' && 'the embedded store has one connection' },
      async () => {
        await job.run(context(store, '2026-12-10T12:00:00Z').ctx);
        // A reader of December's partition (a long krr audit, say) holds it while the job runs.
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const reader = store.db.transaction(async (tx) => {
          await tx.query('lock table audit_log_2026_12 in access share mode');
          locked();
          await held;
        });
        await isLocked;
        const quick = auditPartitionsJob({ retentionMonths: 3, intervalMs: 3600_000, lockTimeoutMs: 50 });
        const blocked = context(store, '2027-04-01T00:00:00Z');
        try {
          await quick.run(blocked.ctx);
        } finally {
          release();
          await reader;
        }
        assert.deepEqual(Object.fromEntries(blocked.counts), {
          created_partitions: 3,
          dropped_partitions: 0,
          postponed_partitions: 1,
        });
        assert.equal((await partitions())[0], 'audit_log_2026_12');
        const next = context(store, '2027-04-01T00:00:00Z');
        await quick.run(next.ctx);
        assert.deepEqual(Object.fromEntries(next.counts), { created_partitions: 0, dropped_partitions: 1 });
        assert.equal((await partitions())[0], 'audit_log_2027_01');
      },
    );

    it('is named audit-partitions and wants a positive retention', () => {
      assert.equal(job.name, 'audit-partitions');
      assert.equal(job.intervalMs, 3600_000);
      assert.throws(() => auditPartitionsJob({ retentionMonths: 0, intervalMs: 1 }), RangeError);
    });
  });
}
