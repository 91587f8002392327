// The outbox in the store (docs/minprofil.md#the-outbox): writing a message in the caller's
// transaction, and reading the newest for the dev inbox. Claiming and marking are below, used by
// the delivery worker (outbox.delivery.ts).

import type { Database } from '../store/database.js';
import type { EnqueueMessage, OutboxChannel, OutboxMessage, StoredOutboxMessage } from './outbox.js';

/**
 * The channel a delivery worker listens on. One name for every schema: a worker woken by another
 * schema's message only finds nothing due, and its poll covers a missed notification anyway.
 */
export const OUTBOX_CHANNEL = 'krr_outbox';

/**
 * Writes `message` in `tx`, due at `now`, and notifies the delivery workers; PostgreSQL sends the
 * notification only when `tx` commits, so a worker never wakes for a message it cannot see yet,
 * and a rolled-back message is neither kept nor announced.
 */
export const enqueueMessage: EnqueueMessage = async (tx, message, now) => {
  const at = now.toISOString();
  await tx.query(
    `insert into outbox (kind, channel, recipient, subject, text, created_at, next_attempt_at)
     values ($1, $2, $3, $4, $5, $6::text::timestamptz, $6::text::timestamptz)`,
    [message.kind, message.channel, message.recipient, message.subject, message.text, at],
  );
  await tx.query(`select pg_notify('${OUTBOX_CHANNEL}', '')`);
};

/** An instant as epoch milliseconds, which both stores return as a number (int8). */
const ms = (column: string) => `floor(extract(epoch from ${column}) * 1000)::int8`;

/** The columns of a StoredOutboxMessage, in `select` form. */
export const STORED_COLUMNS = `id, kind, channel, recipient, subject, text, ${ms('created_at')} as created_ms,
  attempts, ${ms('delivered_at')} as delivered_ms, delivered_to, ${ms('failed_at')} as failed_ms`;

export interface StoredRow {
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

export function storedMessage(row: StoredRow): StoredOutboxMessage {
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

export class OutboxRepository {
  constructor(private readonly db: Database) {}

  /** Writes a message outside any other transaction (tools and tests; requests use enqueueMessage). */
  async enqueue(message: OutboxMessage, now: Date): Promise<void> {
    await this.db.transaction((tx) => enqueueMessage(tx, message, now));
  }

  /** The newest `limit` messages first, delivered or not (the dev inbox). */
  async recent(limit: number): Promise<StoredOutboxMessage[]> {
    const rows = await this.db.query<StoredRow>(
      `select ${STORED_COLUMNS} from outbox order by id desc limit $1`,
      [limit],
    );
    return rows.map(storedMessage);
  }

  /** One message by id, or undefined (tests and operators). */
  async byId(id: number): Promise<StoredOutboxMessage | undefined> {
    const rows = await this.db.query<StoredRow>(`select ${STORED_COLUMNS} from outbox where id = $1`, [id]);
    return rows[0] ? storedMessage(rows[0]) : undefined;
  }
}
