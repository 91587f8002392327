// A real HTTP server for tests (node:http) on 127.0.0.1 and a port of its own, standing in for an
// SMS gateway or any other receiver of JSON POSTs. It keeps every request, answers 200 (or, told
// so, 500 to the first N), and lets a test await the next one:
//
//   const gateway = await startHttpReceiver({ failFirst: 2 });
//   ... KRR_SMS_URL=gateway.url ...
//   const post = await gateway.next((p) => p.status === 200); // { path, headers, body, status }
//   await gateway.close();

import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  readonly method: string;
  /** The path and query asked for. */
  readonly path: string;
  /** Lower-case names, as node:http gives them. */
  readonly headers: IncomingHttpHeaders;
  /** The body parsed as JSON (undefined when it is not JSON), and as received. */
  readonly body: unknown;
  readonly rawBody: string;
  /** What the receiver answered with. */
  readonly status: number;
  /** When it arrived (Date.now()). */
  readonly at: number;
}

export interface TestHttpReceiver {
  /** `http://127.0.0.1:PORT/` (any path is accepted). */
  readonly url: string;
  /** Every request so far, in order of arrival, whatever it was answered. */
  readonly received: readonly ReceivedPost[];
  /**
   * The first request matching `filter` (default: any) that no earlier next call returned, waiting
   * for it if it has not arrived; rejects after `timeoutMs` (default 10 s).
   */
  next(filter?: (post: ReceivedPost) => boolean, timeoutMs?: number): Promise<ReceivedPost>;
  /** Answers the next `count` requests with `status` (default 500). */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

export interface HttpReceiverOptions {
  /** Answer the first `failFirst` requests with 500. */
  readonly failFirst?: number;
}

export async function startHttpReceiver(options: HttpReceiverOptions = {}): Promise<TestHttpReceiver> {
  const received: ReceivedPost[] = [];
  const taken = new Set<ReceivedPost>();
  const waiters = new Set<() => void>();
  let failing = options.failFirst ?? 0;
  let failStatus = 500;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const status = failing > 0 ? failStatus : 200;
      if (failing > 0) failing--;
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        rawBody,
        status,
        at: Date.now(),
      });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"status":"accepted"}' : '{"status":"error"}');
      for (const wake of [...waiters]) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    next(filter = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const post = received.find((p) => !taken.has(p) && filter(p));
          if (!post) return false;
          taken.add(post);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(post);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    failNext(count, status = 500) {
      failing = count;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
