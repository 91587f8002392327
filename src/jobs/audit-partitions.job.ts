// The audit-partitions job (docs/jobs.md#audit-partitions): keeps the audit trail's monthly
// partitions made ahead, and drops the months past the retention (audit.retentionMonths), by the
// register's clock. A month's partition is made before its first entry (so that entries do not
// pile up in the default partition); one made late takes the rows of its month out of the default
// in the same transaction. A partition is dropped only when its whole month ended at or before the
// cutoff (its upper bound is exclusive): never one that may hold an entry inside the period.
//
// Each partition is made or dropped in a transaction of its own; between them the job stops when
// the process stops or the lease is lost, and the next run goes on (making or dropping again what
// another run did is a no-op).

import {
  auditPartitions,
  createAuditPartition,
  dropAuditPartition,
  monthsBefore,
  partitionAfter,
} from '../store/audit-partitions.js';
import type { Job, JobContext } from './job.js';

export interface AuditPartitionsOptions {
  /** Months the audit trail keeps an entry (audit.retentionMonths). */
  readonly retentionMonths: number;
  readonly intervalMs: number;
  /** Months after the current one whose partitions are made ahead (default 2). */
  readonly monthsAhead?: number;
}

export const AUDIT_MONTHS_AHEAD = 2;

const proceed = (ctx: JobContext) => !ctx.signal.aborted && ctx.stillHolds();

export function auditPartitionsJob(options: AuditPartitionsOptions): Job {
  const { retentionMonths } = options;
  if (!Number.isInteger(retentionMonths) || retentionMonths < 1)
    throw new RangeError('retentionMonths must be a positive integer');
  const ahead = options.monthsAhead ?? AUDIT_MONTHS_AHEAD;
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
        if (await ctx.db.transaction((tx) => createAuditPartition(tx, p))) ctx.count('created_partitions');
      }
      const cutoff = monthsBefore(now, retentionMonths);
      for (const p of await auditPartitions(ctx.db)) {
        if (p.end > cutoff) break;
        if (!proceed(ctx)) return;
        if (await ctx.db.transaction((tx) => dropAuditPartition(tx, p))) ctx.count('dropped_partitions');
      }
    },
  };
}
