// The outbox's delivery worker (docs/minprofil.md#the-outbox): claims due messages, hands each to
// its channel's sender, and records what became of it. It wakes on PostgreSQL's `NOTIFY
// krr_outbox` (sent when a transaction that wrote a message commits) and polls besides, for a
// notification missed while the listening connection was down, for retries coming due, and on the
// embedded store, which has no LISTEN. Any number of workers may run on one PostgreSQL: claims and
// leases (outbox.repository.ts) give each message to one of them at a time.
//
// Stopping lets the round in flight finish (each delivery is bounded by its sender's timeout, well
// within the lease); a worker that dies instead leaves its messages claimed until their lease ends,
// when another worker, or this one restarted, claims them again. Nothing is lost either way.
//
// The log names a message by id, kind and channel only: recipients and texts are personal data.

import type { KrrConfig } from '../config/config.js';
import type { Database } from '../store/database.js';
import type { OutboxChannel } from './outbox.js';
import { OUTBOX_CHANNEL, OutboxRepository } from './outbox.repository.js';
import type { Backoff, ClaimedMessage } from './outbox.repository.js';
import { KrrError } from '../errors/errors.js';
import { DevInboxSender, SmsSender, SmtpSender } from './outbox.senders.js';
import type { MessageSender } from './outbox.senders.js';

/** What the worker logs with (pino's and fastify's loggers are such). */
export interface OutboxLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What became of one attempt (for tests and metrics: no personal data). */
export type DeliveryOutcome =
  | { readonly id: number; readonly result: 'delivered'; readonly deliveredTo: string }
  | {
      readonly id: number;
      readonly result: 'failed';
      readonly attempts: number;
      readonly gaveUp: boolean;
      readonly error: string;
    }
  /** The lease ended before the outcome could be recorded: another worker may try it again. */
  | { readonly id: number; readonly result: 'lease-lost' };

export interface OutboxDeliveryOptions {
  readonly db: Database;
  /** One sender per channel at most; a channel without one keeps its messages waiting. */
  readonly senders: readonly MessageSender[];
  readonly log: OutboxLog;
  /** Attempts at most; then the message is given up. */
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  /** The fallback poll; default 1 s on the embedded store (no LISTEN there), 10 s on PostgreSQL. */
  readonly pollMs?: number;
  /** How long a claim holds a message; default 2 minutes (four times a sender's timeout). */
  readonly leaseMs?: number;
  /** Messages claimed and delivered together at most; default 10. */
  readonly batchSize?: number;
  /** Told of each attempt's outcome. */
  readonly onOutcome?: (outcome: DeliveryOutcome) => void;
  readonly now?: () => Date;
}

export const DEFAULT_LEASE_MS = 120_000;

/**
 * A description of `err` fit for the store and the log: a typed error's message (which never holds
 * personal data: errors/errors.ts), else only the error's type.
 */
function safeError(err: unknown): string {
  if (err instanceof KrrError) return err.message;
  const name = (err as { name?: unknown } | null)?.name;
  return `unexpected error (${typeof name === 'string' && /^\w{1,40}$/.test(name) ? name : 'unknown'})`;
}

export class OutboxDelivery {
  private readonly outbox: OutboxRepository;
  private readonly senders = new Map<OutboxChannel, MessageSender>();
  private readonly now: () => Date;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  /** Set when woken during a round: the next round starts at once. */
  private woken = false;
  private wakeWaiter: (() => void) | undefined;

  constructor(private readonly options: OutboxDeliveryOptions) {
    this.outbox = new OutboxRepository(options.db);
    for (const sender of options.senders) {
      if (this.senders.has(sender.channel)) throw new Error(`two senders for ${sender.channel}`);
      this.senders.set(sender.channel, sender);
    }
    this.now = options.now ?? (() => new Date());
    this.pollMs = options.pollMs ?? (options.db.kind === 'postgres' ? 10_000 : 1000);
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.batchSize = options.batchSize ?? 10;
  }

  /** The channels with a sender, and where each delivers. */
  get destinations(): ReadonlyMap<OutboxChannel, string> {
    return new Map([...this.senders].map(([channel, sender]) => [channel, sender.destination]));
  }

  /** Starts listening (PostgreSQL) and delivering; resolves once the worker is running. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const to = (channel: OutboxChannel) => this.senders.get(channel)?.destination ?? 'none (messages wait)';
    this.options.log.info({ epost: to('epost'), sms: to('sms') }, 'outbox: delivering');
    if (this.options.db.listen) {
      try {
        // A notification, or the connection (re)established (when one may have been missed).
        const unlisten = await this.options.db.listen(OUTBOX_CHANNEL, () => this.wake());
        // Stopped while the listening connection was being set up.
        if (!this.running) return unlisten();
        this.stopListening = unlisten;
      } catch (err) {
        this.options.log.warn(
          { error: safeError(err) },
          'outbox: not listening for new messages; polling only',
        );
      }
    }
    this.loop = this.run();
  }

  /** Makes the worker look for due messages now. */
  wake(): void {
    this.woken = true;
    const waiter = this.wakeWaiter;
    this.wakeWaiter = undefined;
    waiter?.();
  }

  /** Stops: no new round; the round in flight finishes. Resolves once nothing is in flight. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.stopListening?.();
    this.stopListening = undefined;
    await this.loop;
    this.loop = undefined;
    for (const sender of this.senders.values()) await sender.close?.();
  }

  private async run(): Promise<void> {
    const channels = [...this.senders.keys()];
    while (this.running) {
      this.woken = false;
      let claimed = 0;
      try {
        if (channels.length > 0) claimed = await this.round(channels);
      } catch (err) {
        // The store away (503 elsewhere): tried again at the next poll.
        this.options.log.warn({ error: safeError(err) }, 'outbox: could not claim messages');
      }
      // A full batch: more may be due at once.
      if (claimed >= this.batchSize || this.woken) continue;
      await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.running || this.woken) return resolve();
      const timer = setTimeout(() => {
        this.wakeWaiter = undefined;
        resolve();
      }, this.pollMs);
      this.wakeWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One claim and its deliveries, side by side; how many were claimed. */
  private async round(channels: readonly OutboxChannel[]): Promise<number> {
    const messages = await this.outbox.claimDue(this.now(), this.batchSize, this.leaseMs, channels);
    await Promise.all(messages.map((m) => this.deliverOne(m)));
    return messages.length;
  }

  private async deliverOne(message: ClaimedMessage): Promise<void> {
    const sender = this.senders.get(message.channel)!;
    const about = { outboxId: message.id, kind: message.kind, channel: message.channel };
    let error: string | undefined;
    try {
      await sender.deliver(message);
    } catch (err) {
      error = safeError(err);
    }
    try {
      if (error === undefined) {
        if (await this.outbox.markDelivered(message.id, message.lease, sender.destination, this.now())) {
          this.options.log.info({ ...about, deliveredTo: sender.destination }, 'outbox: message delivered');
          this.options.onOutcome?.({ id: message.id, result: 'delivered', deliveredTo: sender.destination });
          return;
        }
      } else {
        const failed = await this.outbox.markFailed(message.id, message.lease, error, this.now(), {
          ...this.options.backoff,
          maxAttempts: this.options.maxAttempts,
        });
        if (failed) {
          this.options.log.warn(
            {
              ...about,
              attempts: failed.attempts,
              error,
              nextAttemptAt: failed.nextAttemptAt?.toISOString(),
            },
            failed.gaveUp ? 'outbox: message given up' : 'outbox: delivery failed; will retry',
          );
          this.options.onOutcome?.({
            id: message.id,
            result: 'failed',
            attempts: failed.attempts,
            gaveUp: failed.gaveUp,
            error,
          });
          return;
        }
      }
      this.options.log.warn(about, 'outbox: the lease ended before the outcome was recorded');
      this.options.onOutcome?.({ id: message.id, result: 'lease-lost' });
    } catch (err) {
      // Not recorded (the store away): the lease ends and the message is tried again.
      this.options.log.warn({ ...about, error: safeError(err) }, 'outbox: could not record an outcome');
    }
  }
}

/**
 * The senders a configuration gives: SMTP and SMS where configured; in dev mode the dev inbox for
 * a channel without one. Outside dev mode a channel without a sender has none: its messages wait
 * in the outbox until one is configured.
 */
export function sendersFromConfig(config: Pick<KrrConfig, 'dev' | 'smtp' | 'sms'>): MessageSender[] {
  const senders: MessageSender[] = [];
  if (config.smtp) senders.push(new SmtpSender(config.smtp));
  else if (config.dev) senders.push(new DevInboxSender('epost'));
  if (config.sms) senders.push(new SmsSender(config.sms));
  else if (config.dev) senders.push(new DevInboxSender('sms'));
  return senders;
}

/** A worker as `krr serve` runs it, from the configuration. */
export function outboxDeliveryFor(
  config: Pick<KrrConfig, 'dev' | 'smtp' | 'sms' | 'outbox'>,
  db: Database,
  log: OutboxLog,
  extra: Partial<Pick<OutboxDeliveryOptions, 'pollMs' | 'leaseMs' | 'onOutcome'>> = {},
): OutboxDelivery {
  return new OutboxDelivery({
    db,
    senders: sendersFromConfig(config),
    log,
    maxAttempts: config.outbox.maxAttempts,
    backoff: { firstMs: config.outbox.firstRetrySeconds * 1000, maxMs: config.outbox.maxRetrySeconds * 1000 },
    ...extra,
  });
}
