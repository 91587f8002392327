// The outbox in the store (docs/minprofil.md#the-outbox): writing a message in the caller's
// transaction, reading the newest for the dev inbox, and, for the delivery worker
// (outbox.delivery.ts), claiming due messages under a lease and marking what became of them.
//
// Exactly once with several krr processes on one PostgreSQL: a claim takes due rows with
// `FOR UPDATE SKIP LOCKED` (two claims at the same moment take different rows, neither waits) and
// stamps them with a lease (`claimed_until`) that keeps every other claim off them until it ends.
// The lease's end is also the claim's token: a worker marks a message only while the row still
// carries its lease, so a worker that outlived its lease (stalled past it) cannot overwrite what a
// later claim recorded. Deliveries are bounded well below the lease (the senders' timeouts) so
// that a lease does not end under a delivery still running. PGlite (one process) runs the same SQL.

import type { Database } from '../store/database.js';
import type { EnqueueMessage, OutboxChannel, OutboxMessage, StoredOutboxMessage } from './outbox.js';

/**
 * The channel a delivery worker listens on. One name for every schema: a worker woken by another
 * schema's message only finds nothing due, and its poll covers a missed notification anyway.
 */
export const OUTBOX_CHANNEL = 'krr_outbox';

/**
 * Writes `message` in `tx`, created at `now` (the register's clock) and due at once, and notifies
 * the delivery workers; PostgreSQL sends the notification only when `tx` commits, so a worker
 * never wakes for a message it cannot see yet, and a rolled-back message is neither kept nor
 * announced. Due at the database's real time, not at `now`: the delivery worker claims on the
 * real clock (a frozen test clock must not stop retries), so a register clock moved months ahead
 * must not hold its messages back until real time catches up (docs/minprofil.md#the-outbox).
 */
export const enqueueMessage: EnqueueMessage = async (tx, message, now) => {
  const at = now.toISOString();
  await tx.query(
    `insert into outbox (kind, channel, recipient, subject, text, created_at, next_attempt_at)
     values ($1, $2, $3, $4, $5, $6::text::timestamptz, least($6::text::timestamptz, now()))`,
    [message.kind, message.channel, message.recipient, message.subject, message.text, at],
  );
  await tx.query(`select pg_notify('${OUTBOX_CHANNEL}', '')`);
};

/** An instant as epoch milliseconds, which both stores return as a number (int8). */
const ms = (column: string) => `floor(extract(epoch from ${column}) * 1000)::int8`;

/** The columns of a StoredOutboxMessage, in `select` form, each qualified with `t.` when given. */
function storedColumns(t = ''): string {
  return `${t}id, ${t}kind, ${t}channel, ${t}recipient, ${t}subject, ${t}text, ${ms(`${t}created_at`)} as created_ms,
    ${t}attempts, ${ms(`${t}delivered_at`)} as delivered_ms, ${t}delivered_to, ${ms(`${t}failed_at`)} as failed_ms`;
}

interface StoredRow {
  id: number;
  kind: string;
  channel: OutboxChannel;
  recipient: string;
  subject: string;
  text: string;
  created_ms: number;
  attempts: number;
  delivered_ms: number | null;
  delivered_to: string | null;
  failed_ms: number | null;
}

function storedMessage(row: StoredRow): StoredOutboxMessage {
  const date = (value: number | null) => (value === null ? null : new Date(Number(value)));
  return {
    id: Number(row.id),
    kind: row.kind,
    channel: row.channel,
    recipient: row.recipient,
    subject: row.subject,
    text: row.text,
    createdAt: new Date(Number(row.created_ms)),
    attempts: Number(row.attempts),
    deliveredAt: date(row.delivered_ms),
    deliveredTo: row.delivered_to,
    failedAt: date(row.failed_ms),
  };
}

/** A claimed message: delivered by whoever holds `lease`, until `lease` ends. */
export interface ClaimedMessage extends StoredOutboxMessage {
  /** The lease's end (claimed_until): the claim's token for markDelivered and markFailed. */
  readonly lease: Date;
}

/** What a failed attempt left. */
export interface FailedAttempt {
  readonly attempts: number;
  /** Given up (failed_at stamped): no attempt follows. */
  readonly gaveUp: boolean;
  /** The next attempt's time, when not given up. */
  readonly nextAttemptAt: Date | null;
}

export interface Backoff {
  /** The wait after the first failed attempt; each further failure doubles it. */
  readonly firstMs: number;
  /** The longest wait between two attempts. */
  readonly maxMs: number;
}

/** The wait after the `attempts`-th failed attempt: first, doubled each time, at most max. */
export function backoffDelay(attempts: number, backoff: Backoff): number {
  // 2^(attempts-1) without overflowing to Infinity for absurd attempt counts.
  const factor = 2 ** Math.min(Math.max(attempts - 1, 0), 40);
  return Math.min(backoff.firstMs * factor, backoff.maxMs);
}

const iso = (at: Date) => at.toISOString();

export class OutboxRepository {
  constructor(private readonly db: Database) {}

  /** Writes a message outside any other transaction (tools and tests; requests use enqueueMessage). */
  async enqueue(message: OutboxMessage, now: Date): Promise<void> {
    await this.db.transaction((tx) => enqueueMessage(tx, message, now));
  }

  /** The newest `limit` messages first, delivered or not (the dev inbox). */
  async recent(limit: number): Promise<StoredOutboxMessage[]> {
    const rows = await this.db.query<StoredRow>(
      `select ${storedColumns()} from outbox order by id desc limit $1`,
      [limit],
    );
    return rows.map(storedMessage);
  }

  /** One message by id, or undefined (tests and operators). */
  async byId(id: number): Promise<StoredOutboxMessage | undefined> {
    const rows = await this.db.query<StoredRow>(`select ${storedColumns()} from outbox where id = $1`, [id]);
    return rows[0] ? storedMessage(rows[0]) : undefined;
  }

  /**
   * Claims at most `limit` messages due at `now` (a first attempt is due at once; a retry from its
   * next_attempt_at) that no unexpired lease holds, oldest first, under a lease until
   * `now + leaseMs`. A message whose worker stopped or died is claimed again once its lease ends.
   * Only messages of `channels` (those the worker has a sender for; default both).
   *
   * A first attempt is due whatever its next_attempt_at says: that is the enqueuer's `now`, the
   * register's clock, which the test-data API can freeze or move years ahead
   * (docs/testdata.md#the-clock); retries, leases and back-off count on the worker's clock alone.
   */
  async claimDue(
    now: Date,
    limit: number,
    leaseMs: number,
    channels: readonly OutboxChannel[] = ['epost', 'sms'],
  ): Promise<ClaimedMessage[]> {
    const lease = new Date(now.getTime() + leaseMs);
    const rows = await this.db.query<StoredRow>(
      `with due as (
         select id from outbox
         where delivered_at is null and failed_at is null
           and (attempts = 0 or next_attempt_at <= $1::text::timestamptz)
           and (claimed_until is null or claimed_until <= $1::text::timestamptz)
           and channel = any($4::text[])
         order by next_attempt_at, id
         limit $2
         for update skip locked
       )
       update outbox set claimed_until = $3::text::timestamptz
       from due where outbox.id = due.id
       returning ${storedColumns('outbox.')}`,
      [iso(now), limit, iso(lease), channels],
    );
    return rows.map((row) => ({ ...storedMessage(row), lease })).sort((a, b) => a.id - b.id);
  }

  /**
   * Records the delivery of a message claimed under `lease` to `deliveredTo` (`smtp`, `sms`,
   * `dev-inbox`). False when the row no longer carries that lease (another claim took over).
   */
  async markDelivered(id: number, lease: Date, deliveredTo: string, now: Date): Promise<boolean> {
    const rows = await this.db.query(
      `update outbox
       set delivered_at = $3::text::timestamptz, delivered_to = $4, claimed_until = null, last_error = null
       where id = $1 and claimed_until = $2::text::timestamptz
       returning id`,
      [id, iso(lease), iso(now), deliveredTo],
    );
    return rows.length === 1;
  }

  /**
   * Records a failed attempt of a message claimed under `lease`: one more attempt, `error` (a
   * description without personal data: the caller's to make sure), and the next attempt after the
   * back-off, or given up (failed_at) once `maxAttempts` attempts have failed. Undefined when the
   * row no longer carries that lease.
   */
  async markFailed(
    id: number,
    lease: Date,
    error: string,
    now: Date,
    retry: Backoff & { readonly maxAttempts: number },
  ): Promise<FailedAttempt | undefined> {
    const rows = await this.db.query<{ attempts: number }>(
      `select attempts from outbox where id = $1 and claimed_until = $2::text::timestamptz`,
      [id, iso(lease)],
    );
    if (!rows[0]) return undefined;
    const attempts = Number(rows[0].attempts) + 1;
    const gaveUp = attempts >= retry.maxAttempts;
    const next = gaveUp ? null : new Date(now.getTime() + backoffDelay(attempts, retry));
    const updated = await this.db.query(
      `update outbox
       set attempts = $3, last_error = $4, claimed_until = null,
           next_attempt_at = coalesce($5::text::timestamptz, next_attempt_at),
           failed_at = $6::text::timestamptz
       where id = $1 and claimed_until = $2::text::timestamptz
       returning id`,
      [id, iso(lease), attempts, error, next && iso(next), gaveUp ? iso(now) : null],
    );
    if (updated.length !== 1) return undefined;
    return { attempts, gaveUp, nextAttemptAt: next };
  }

  /** Gives back messages claimed under `lease` and not attempted (a worker stopping). */
  async release(ids: readonly number[], lease: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `update outbox set claimed_until = null
       where id = any($1::int8[]) and claimed_until = $2::text::timestamptz`,
      [ids, iso(lease)],
    );
  }

  /** The messages neither delivered nor given up (operators, tests). */
  async pendingCount(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `select count(*)::int8 as n from outbox where delivered_at is null and failed_at is null`,
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Messages waiting (neither delivered nor given up) and given up (failed_at set), for the
   * metrics (docs/operations.md#metrics): one statement, read at most every few seconds.
   */
  async counts(): Promise<{ pending: number; failed: number }> {
    const [row] = await this.db.query<{ pending: number; failed: number }>(
      `select count(*) filter (where delivered_at is null and failed_at is null)::int8 as pending,
         count(*) filter (where failed_at is not null)::int8 as failed
       from outbox where delivered_at is null`,
    );
    return { pending: Number(row?.pending ?? 0), failed: Number(row?.failed ?? 0) };
  }

  /** The last error of a message (tests: it must not hold personal data). */
  async lastError(id: number): Promise<string | null> {
    const [row] = await this.db.query<{ last_error: string | null }>(
      'select last_error from outbox where id = $1',
      [id],
    );
    return row?.last_error ?? null;
  }
}
