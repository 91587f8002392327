// A real HTTP server of the tests' own in front of a real krr: it forwards every request, records
// what the client sent, and on a test's word answers instead (503, 429 with Retry-After, 401), holds
// an answer back (timeouts, concurrency), breaks the connection, or replaces the answer (a signed
// answer re-signed by someone else). No mock of fetch: the client speaks HTTP to it.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly accept: string | undefined;
  readonly body: string;
}

/** What to do with a request instead of forwarding it. */
export type Rule =
  | { readonly answer: number; readonly headers?: Record<string, string>; readonly body?: string }
  | { readonly delayMs: number }
  | { readonly destroy: true }
  | { readonly replace: (forwarded: Forwarded) => Forwarded | Promise<Forwarded> };

export interface Forwarded {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const FORWARDED_HEADERS = ['content-type', 'www-authenticate', 'retry-after', 'vary', 'cache-control'];

export class FrontProxy {
  readonly seen: Seen[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Consulted for each request (after it is recorded); undefined forwards it. */
  rule: ((seen: Seen, index: number) => Rule | undefined) | undefined;
  /**
   * The first requests to this path are held until this many are in flight together (or 10 s
   * pass); then the gate is open for good.
   */
  gate: { path: string; together: number } | undefined;
  private waiting: (() => void)[] = [];
  private server: Server | undefined;
  base = '';

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Forgets what was seen and every rule. */
  reset(): void {
    this.seen.length = 0;
    this.rule = undefined;
    this.gate = undefined;
    this.maxInFlight = 0;
  }

  /** The requests seen to `path`. */
  to(path: string): Seen[] {
    return this.seen.filter((s) => s.path === path);
  }

  async close(): Promise<void> {
    for (const release of this.waiting) release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen: Seen = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0]!,
      authorization: req.headers.authorization,
      accept: req.headers.accept,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    const index = this.seen.push(seen) - 1;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.passGate(seen.path);
      const rule = this.rule?.(seen, index);
      if (rule && 'destroy' in rule) {
        req.socket.destroy();
        return;
      }
      if (rule && 'answer' in rule) {
        res.writeHead(rule.answer, { 'content-type': 'application/json', ...rule.headers });
        res.end(rule.body ?? '');
        return;
      }
      if (rule && 'delayMs' in rule) await new Promise((r) => setTimeout(r, rule.delayMs));
      if (res.destroyed || req.socket.destroyed) return;
      let forwarded = await this.forward(req, seen);
      if (rule && 'replace' in rule) forwarded = await rule.replace(forwarded);
      if (res.destroyed) return;
      res.writeHead(forwarded.status, forwarded.headers);
      res.end(forwarded.body);
    } finally {
      this.inFlight--;
    }
  }

  private passGate(path: string): Promise<void> {
    const gate = this.gate;
    if (!gate || gate.path !== path) return Promise.resolve();
    if (this.inFlight >= gate.together) {
      this.gate = undefined;
      for (const release of this.waiting.splice(0)) release();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async forward(req: IncomingMessage, seen: Seen): Promise<Forwarded> {
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'accept', 'authorization']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const res = await fetch(`${this.target}${req.url ?? '/'}`, {
      method: seen.method,
      headers,
      ...(seen.method === 'GET' || seen.method === 'HEAD' ? {} : { body: seen.body }),
      redirect: 'manual',
    });
    const out: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = res.headers.get(name);
      if (value !== null) out[name] = value;
    }
    return { status: res.status, headers: out, body: await res.text() };
  }
}
