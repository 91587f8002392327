// The audit-partitions job (docs/jobs.md#audit-partitions): keeps the audit trail's monthly
// partitions made ahead, and drops the months past the retention (audit.retentionMonths), by the
// register's clock. A month's partition is made before its first entry (so that entries do not
// pile up in the default partition); one made late takes the rows of its month out of the default
// in the same transaction. A partition is dropped only when its whole month ended at or before the
// cutoff (its upper bound is exclusive): never one that may hold an entry inside the period.
//
// Each partition is made or dropped in a transaction of its own; between them the job stops when
// the process stops or the lease is lost, and the next run goes on (making or dropping again what
// another run did is a no-op). A step waits at most a moment for the trail's locks: dropping a
// partition locks the whole trail, and a long reader ahead of it would otherwise hold up every
// audit insert queued behind the drop; such a step is counted as postponed and left to the next run.

import {
  auditPartitions,
  createAuditPartition,
  dropAuditPartition,
  isLockTimeout,
  monthsBefore,
  partitionAfter,
  PARTITION_LOCK_TIMEOUT_MS,
} from '../store/audit-partitions.js';
import type { StoreTransaction } from '../store/database.js';
import type { Job, JobContext } from './job.js';

export interface AuditPartitionsOptions {
  /** Months the audit trail keeps an entry (audit.retentionMonths). */
  readonly retentionMonths: number;
  readonly intervalMs: number;
  /** Months after the current one whose partitions are made ahead (default 2). */
  readonly monthsAhead?: number;
  /** How long a step waits for the trail's locks before it leaves the partition to the next run. */
  readonly lockTimeoutMs?: number;
}

export const AUDIT_MONTHS_AHEAD = 2;

const proceed = (ctx: JobContext) => !ctx.signal.aborted && ctx.stillHolds();

/**
 * One step in a transaction of its own; a step that did not get its locks in time (a long reader
 * of the trail) is counted as `postponed_partitions` and left to the next run.
 */
async function step(ctx: JobContext, fn: (tx: StoreTransaction) => Promise<boolean>): Promise<boolean> {
  try {
    return await ctx.db.transaction(fn);
  } catch (err) {
    if (!isLockTimeout(err)) throw err;
    ctx.count('postponed_partitions');
    ctx.log.warn(
      { job: 'audit-partitions' },
      'the audit trail is locked; a partition is left to the next run',
    );
    return false;
  }
}

export function auditPartitionsJob(options: AuditPartitionsOptions): Job {
  const { retentionMonths } = options;
  if (!Number.isInteger(retentionMonths) || retentionMonths < 1)
    throw new RangeError('retentionMonths must be a positive integer');
  const ahead = options.monthsAhead ?? AUDIT_MONTHS_AHEAD;
  const lockTimeoutMs = options.lockTimeoutMs ?? PARTITION_LOCK_TIMEOUT_MS;
  return {
    name: 'audit-partitions',
    description: `makes the audit trail's partitions ${ahead} months ahead and drops those older than ${retentionMonths} months`,
    intervalMs: options.intervalMs,
    async run(ctx) {
      const now = ctx.clock.now();
      // Counted as 0 too, so that every run's record shows both.
      ctx.count('created_partitions', 0);
      ctx.count('dropped_partitions', 0);
      for (let k = 0; k <= ahead; k++) {
        if (!proceed(ctx)) return;
        const p = partitionAfter(now, k);
        if (await step(ctx, (tx) => createAuditPartition(tx, p, lockTimeoutMs)))
          ctx.count('created_partitions');
      }
      const cutoff = monthsBefore(now, retentionMonths);
      for (const p of await auditPartitions(ctx.db)) {
        if (p.end > cutoff) break;
        if (!proceed(ctx)) return;
        if (await step(ctx, (tx) => dropAuditPartition(tx, p, lockTimeoutMs)))
          ctx.count('dropped_partitions');
      }
    },
  };
}
