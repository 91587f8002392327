// The register's messages to citizens (one-time codes now; reminders and notices later), as the
// outbox keeps them (docs/minprofil.md#the-outbox). A message is written in the same transaction as
// the change that causes it, so that a crash loses neither or both, and is delivered after commit
// by the outbox's delivery worker.

import type { Queryable } from '../store/database.js';

export type OutboxChannel = 'epost' | 'sms';

/** A message to write to the outbox. */
export interface OutboxMessage {
  /**
   * What the message is for (`engangskode`): the only part of a message that operational logs and
   * metrics may name. Recipient and text are personal data.
   */
  readonly kind: string;
  readonly channel: OutboxChannel;
  /** An e-mail address (epost) or a mobile number as the register holds it (sms). */
  readonly recipient: string;
  /** The e-mail's subject; empty for SMS. */
  readonly subject: string;
  readonly text: string;
}

/** A message as the outbox holds it (the dev inbox lists these). */
export interface StoredOutboxMessage extends OutboxMessage {
  readonly id: number;
  readonly createdAt: Date;
  readonly attempts: number;
  readonly deliveredAt: Date | null;
  /** Where it went: `smtp`, `sms`, `dev-inbox`. */
  readonly deliveredTo: string | null;
  readonly failedAt: Date | null;
}

/** Writes a message in the caller's transaction (`tx`), due at once. */
export type EnqueueMessage = (tx: Queryable, message: OutboxMessage, now: Date) => Promise<void>;
