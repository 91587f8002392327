// The outbox's senders (docs/minprofil.md#the-outbox): e-mail over SMTP, SMS as an HTTP POST to a
// gateway, and in dev mode the dev inbox. A sender delivers one message or throws; what it throws
// is recorded in the outbox's last_error and may reach the operational log, so a sender's error
// never carries the recipient or the text: a DeliveryError whose message is built only from codes
// (an SMTP reply code, an HTTP status, a system error code), never from what a server said.

import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { KrrError } from '../errors/errors.js';
import type { OutboxChannel, StoredOutboxMessage } from './outbox.js';

/** A failed delivery; its message holds no personal data (it is stored and logged). */
export class DeliveryError extends KrrError {
  readonly code = 'DELIVERY_FAILED';
  readonly status = 502;
}

export interface MessageSender {
  readonly channel: OutboxChannel;
  /** What the outbox records as delivered_to: `smtp`, `sms`, `dev-inbox`. */
  readonly destination: string;
  /** Delivers the message, or throws (a DeliveryError for what the other side refused). */
  deliver(message: StoredOutboxMessage): Promise<void>;
  /** Lets go of connections (the worker stopping). */
  close?(): Promise<void>;
}

/** A code from a library's error (`ECONNREFUSED`, `EAUTH`), when it looks like one and nothing else. */
function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,31}$/.test(code) ? code : undefined;
}

/** A time limit on each delivery: the worker's lease must outlast the slowest delivery. */
export const DELIVERY_TIMEOUT_MS = 30_000;

export interface SmtpOptions {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465); otherwise plain, upgraded with STARTTLS when offered. */
  readonly secure: boolean;
  readonly user?: string;
  readonly password?: string;
  /** The From address: `krr@example.no` or `KRR <krr@example.no>`. */
  readonly from: string;
  /** Per delivery (connecting, the greeting, each read); default DELIVERY_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/** E-mail over SMTP with nodemailer: one connection per message (few messages, no idle sockets). */
/**
 * The same Message-ID each time a message is sent: delivery is at least once (a worker killed
 * after the server accepted a message and before it recorded that sends it again), and a second
 * copy with the first one's id is recognisable as the same message (docs/minprofil.md#the-outbox).
 * The outbox's id and creation instant, at the sender's domain: nothing personal.
 */
export function messageIdOf(message: Pick<StoredOutboxMessage, 'id' | 'createdAt'>, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'krr.invalid';
  return `<outbox-${message.id}.${message.createdAt.getTime()}@${domain}>`;
}

export class SmtpSender implements MessageSender {
  readonly channel = 'epost' as const;
  readonly destination = 'smtp';
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(private readonly options: SmtpOptions) {
    const timeout = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      auth: options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      // nodemailer logs nothing unless asked; said here because its log would hold the addresses.
      logger: false,
      debug: false,
    });
  }

  async deliver(message: StoredOutboxMessage): Promise<void> {
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        to: message.recipient,
        subject: message.subject,
        text: message.text,
        messageId: messageIdOf(message, this.options.from),
      });
      // A server may accept the message but refuse the one recipient.
      if (info.rejected.length > 0) throw new DeliveryError('smtp: the recipient was refused');
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      const code = codeOf(err);
      const reply = (err as { responseCode?: unknown } | null)?.responseCode;
      const parts = ['smtp:', code ?? 'error', typeof reply === 'number' ? String(reply) : undefined];
      throw new DeliveryError(parts.filter((p) => p !== undefined).join(' '));
    }
  }

  async close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}

export interface SmsOptions {
  /** The gateway's URL; the message is POSTed there as JSON. */
  readonly url: string;
  /** One header sent with each POST (an API key): its name and value. */
  readonly headerName?: string;
  readonly headerValue?: string;
  /** Per delivery; default DELIVERY_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/**
 * A mobile number as the register holds it (`99999999`, `0047 999 99 999`, `+47 99999999`) in
 * E.164 form, as gateways take it: separators dropped, `00` as `+`, eight digits as a Norwegian
 * number (+47); any other number without a prefix already starts with its country code (Min
 * profil asks for one on foreign numbers).
 */
export function smsNumber(value: string): string {
  const plus = value.trimStart().startsWith('+');
  const digits = value.replace(/[^0-9]/g, '');
  if (plus) return `+${digits}`;
  if (digits.startsWith('00')) return `+${digits.slice(2)}`;
  if (digits.length === 8) return `+47${digits}`;
  return `+${digits}`;
}

/** The JSON body of an SMS POST (docs/minprofil.md#the-outbox). */
export interface SmsBody {
  readonly to: string;
  readonly text: string;
  /** The outbox message's id, as a string: a gateway can tell a repeated POST by it. */
  readonly reference: string;
}

/** SMS through an HTTP gateway: a POST of SmsBody; any 2xx is delivered, anything else a failure. */
export class SmsSender implements MessageSender {
  readonly channel = 'sms' as const;
  readonly destination = 'sms';

  constructor(private readonly options: SmsOptions) {}

  async deliver(message: StoredOutboxMessage): Promise<void> {
    const body: SmsBody = {
      to: smsNumber(message.recipient),
      text: message.text,
      reference: String(message.id),
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.headerName) headers[this.options.headerName] = this.options.headerValue ?? '';
    let status: number;
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        // The text is personal data: never sent on to wherever a redirect points.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? DELIVERY_TIMEOUT_MS),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError') throw new DeliveryError('sms: timeout');
      const code = codeOf((err as { cause?: unknown } | null)?.cause) ?? codeOf(err);
      throw new DeliveryError(`sms: ${code ?? 'network error'}`);
    }
    if (status < 200 || status > 299) throw new DeliveryError(`sms: HTTP ${status}`);
  }
}

/**
 * Dev mode's stand-in for a channel with no SMTP or SMS configured: the message stays in the outbox,
 * marked delivered to `dev-inbox`, and the dev inbox page (/dev/innboks) lists it.
 */
export class DevInboxSender implements MessageSender {
  readonly destination = 'dev-inbox';
  constructor(readonly channel: OutboxChannel) {}

  deliver(): Promise<void> {
    return Promise.resolve();
  }
}
