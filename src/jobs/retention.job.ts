// The retention job (docs/jobs.md#retention): what the register keeps only for a while goes once it
// is older than `days` days. Delivered and given-up outbox messages (they hold addresses, numbers
// and codes), spent one-time codes, and Min profil sessions that ended or went idle. A pending
// message is never touched, whatever its age: it is still to be delivered.
//
// Each batch is one statement (its own short transaction) of at most `pageSize` rows, so that a
// huge backlog never holds a long transaction or a long lock; between batches the job stops when
// the process stops or the lease is lost, and deleting again what another run deleted is harmless.

import type { Database } from '../store/database.js';
import { systemClock } from '../time/clock.js';
import type { Clock } from '../time/clock.js';
import type { Job, JobContext } from './job.js';

export interface RetentionOptions {
  /** Days a delivered or given-up message, a spent code, an ended session is kept (jobs.retention.days). */
  readonly days: number;
  readonly intervalMs: number;
  /** Rows deleted per statement (default 10 000). */
  readonly pageSize?: number;
  /**
   * The real clock, for the sessions: their times are real time (docs/minprofil.md#sessions), not
   * the register's clock. A test gives a frozen one.
   */
  readonly realClock?: Clock;
}

export const RETENTION_PAGE_SIZE = 10_000;

const DAY_MS = 24 * 3600_000;

const iso = (t: number) => new Date(t).toISOString();

/**
 * The delete of one batch: `where` picks the rows (with $1 the cutoff), at most $2 of them by
 * their `key`; answers how many went.
 */
function batchDelete(table: string, key: string, where: string): string {
  return `with gone as (
      delete from ${table} where ${key} in (select ${key} from ${table} where ${where} limit $2)
      returning 1
    )
    select count(*)::int8 as n from gone`;
}

// Outbox: created_at is the register's clock (enqueueMessage's `now`); the partial index of
// migration 16 finds these rows.
const DELETE_MESSAGES = batchDelete(
  'outbox',
  'id',
  `(delivered_at is not null or failed_at is not null) and created_at < $1::text::timestamptz`,
);

// Codes: created, used and expired on the register's clock (profile.service.ts). A code is spent
// when used (or replaced) or when it expired, whichever came first.
const DELETE_CODES = batchDelete(
  'profile_code',
  'id',
  `(used_at < $1::text::timestamptz or expires_at < $1::text::timestamptz)`,
);

// Sessions: real time. last_seen_at alone decides: a session ends at or after its last use
// (ended_at >= last_seen_at), and one unused for a day or more is past any idle timeout the
// config allows (at most 24 hours), so last_seen_at before the cutoff means ended or idle that
// long ago. It is the column the index of migration 11 covers.
const DELETE_SESSIONS = batchDelete('minprofil_session', 'id_hash', `last_seen_at < $1::text::timestamptz`);

async function deleteInBatches(
  ctx: JobContext,
  sql: string,
  cutoff: number,
  pageSize: number,
  countName: string,
): Promise<boolean> {
  for (;;) {
    if (ctx.signal.aborted || !ctx.stillHolds()) return false;
    const [row] = await ctx.db.query<{ n: number }>(sql, [iso(cutoff), pageSize]);
    const n = Number(row?.n ?? 0);
    if (n > 0) ctx.count(countName, n);
    if (n < pageSize) return true;
  }
}

async function failedMessages(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    'select count(*)::int8 as n from outbox where failed_at is not null',
  );
  return Number(row?.n ?? 0);
}

export function retentionJob(options: RetentionOptions): Job {
  const pageSize = options.pageSize ?? RETENTION_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new RangeError('pageSize must be a positive integer');
  const keepMs = options.days * DAY_MS;
  const realClock = options.realClock ?? systemClock;
  return {
    name: 'retention',
    description: `deletes delivered and given-up messages, spent codes and ended sessions older than ${options.days} days`,
    intervalMs: options.intervalMs,
    async run(ctx) {
      const cutoff = ctx.clock.now() - keepMs;
      const sessionCutoff = realClock.now() - keepMs;
      // Counted as 0 too, so that every run's record shows all four.
      for (const name of ['deleted_messages', 'deleted_codes', 'deleted_sessions']) ctx.count(name, 0);
      const done =
        (await deleteInBatches(ctx, DELETE_MESSAGES, cutoff, pageSize, 'deleted_messages')) &&
        (await deleteInBatches(ctx, DELETE_CODES, cutoff, pageSize, 'deleted_codes')) &&
        (await deleteInBatches(ctx, DELETE_SESSIONS, sessionCutoff, pageSize, 'deleted_sessions'));
      if (!done) {
        ctx.log.info({ job: 'retention' }, 'retention stopped before the end; the next run goes on');
        return;
      }
      // The given-up messages still kept (those of the last `days` days): what an operator can
      // still look into (docs/jobs.md#retention).
      ctx.count('failed_messages', await failedMessages(ctx.db));
    },
  };
}
