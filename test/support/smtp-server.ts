// A real SMTP server for tests (the `smtp-server` package) on 127.0.0.1 and a port of its own,
// collecting what it receives, parsed with `mailparser`. A test starts it, points krr's SMTP
// sender (or `KRR_SMTP_URL=server.url`) at it, and awaits the next message to a recipient:
//
//   const smtp = await startSmtpServer();
//   ... something sends a one-time code to kari@example.no ...
//   const mail = await smtp.nextTo('kari@example.no'); // { from, to, subject, text }
//   await smtp.close();
//
// No TLS (STARTTLS is not offered) and, unless `user` and `password` are given, no AUTH. The
// server can refuse the next messages with a temporary error (failNext), for retry tests.

import { SMTPServer } from 'smtp-server';
import type { SMTPServerSession } from 'smtp-server';
import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';

export interface ReceivedMail {
  /** The envelope's sender (MAIL FROM). */
  readonly from: string;
  /** The envelope's recipients (RCPT TO), as sent. */
  readonly to: readonly string[];
  /** The From header as written. */
  readonly fromHeader: string;
  readonly subject: string;
  /** The plain-text body, decoded. */
  readonly text: string;
  /** The Message-ID header, if any. */
  readonly messageId?: string;
  /** The user the client authenticated as, if it did. */
  readonly user?: string;
}

export interface TestSmtpServer {
  readonly host: string;
  readonly port: number;
  /** `smtp://127.0.0.1:PORT` (with `user:password@` when the server asks for them). */
  readonly url: string;
  /** Every message accepted so far, in order of arrival. */
  readonly received: readonly ReceivedMail[];
  /** How many messages were refused by failNext so far. */
  readonly refused: number;
  /**
   * The first accepted message to `recipient` (case-insensitive) that no earlier nextTo call
   * returned, waiting for it if it has not arrived; rejects after `timeoutMs` (default 10 s).
   */
  nextTo(recipient: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Refuses the next `count` messages with `451 try again later` (at DATA's end). */
  failNext(count: number): void;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Require AUTH PLAIN/LOGIN with these (over plain text: tests only). */
  readonly user?: string;
  readonly password?: string;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  const waiters = new Set<() => void>();
  let failing = 0;
  let refused = 0;
  const withAuth = options.user !== undefined;

  const server = new SMTPServer({
    secure: false,
    disabledCommands: withAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !withAuth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onData(stream: Readable, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      simpleParser(stream)
        .then((parsed) => {
          if (failing > 0) {
            failing--;
            refused++;
            const err = new Error('try again later') as Error & { responseCode: number };
            err.responseCode = 451;
            callback(err);
            return;
          }
          const mail: ReceivedMail = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            fromHeader: parsed.from?.text ?? '',
            subject: parsed.subject ?? '',
            text: (parsed.text ?? '').replace(/\n$/, ''),
            ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
            ...(typeof session.user === 'string' ? { user: session.user } : {}),
          };
          received.push(mail);
          callback();
          for (const wake of [...waiters]) wake();
        })
        .catch((err: Error) => callback(err));
    },
  });
  server.on('error', () => {
    // A client's broken connection; the tests see what arrived, not the server's own errors.
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  const credentials = withAuth
    ? `${encodeURIComponent(options.user ?? '')}:${encodeURIComponent(options.password ?? '')}@`
    : '';

  const find = (recipient: string) =>
    received.find((m) => !taken.has(m) && m.to.some((t) => t.toLowerCase() === recipient.toLowerCase()));

  return {
    host: '127.0.0.1',
    port,
    url: `smtp://${credentials}127.0.0.1:${port}`,
    received,
    get refused() {
      return refused;
    },
    nextTo(recipient, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = find(recipient);
          if (!mail) return false;
          taken.add(mail);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(mail);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no message to ${recipient} within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    failNext(count) {
      failing = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
