// The feed client's side of the change feed (docs/change-feed.md#krr-sync) against a real HTTP server on
// loopback whose answer each test chooses: the request it sends, the answer shapes it accepts, and how it
// sorts failures into refusals (4xx, not retried; a refused Maskinporten token renewed once) and retryable
// ones (5xx, network, timeout). No message carries the token.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors/errors.js';
import { FeedClient, normalizeSourceUrl } from './feed.client.js';
import { staticToken } from './maskinporten.client.js';
import type { TokenProvider } from './maskinporten.client.js';
import { isRetryable, SourceAnswerError, SourceRefusedError, SourceUnavailableError } from './sync.errors.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6ImtycjpnbG9iYWwvaGVudGVuZHJpbmcucmVhZCJ9.c2lnbmF0dXJl';

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Handler = (req: Seen, res: ServerResponse) => void;

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const PAGE = { list: [], fraEndringsId: 0, tilEndringsId: 200000000, sisteEndringsId: 200000000 };

describe('FeedClient (one page of hentEndringer over HTTP)', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  let seen: Seen[] = [];

  before(async () => {
    const answer = async (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const s = { method: req.method, url: req.url, headers: req.headers, body };
      seen.push(s);
      handler(s, res);
    };
    server = createServer((req, res) => void answer(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen = [];
    handler = (_req, res) => json(res, 200, PAGE);
  });

  const client = (auth: TokenProvider = staticToken(TOKEN), timeoutMs?: number) =>
    new FeedClient({ from: `${base}//`, auth, ...(timeoutMs ? { timeoutMs } : {}) });

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e as Error,
    );

  it('POSTs {"fraEndringsId": n} as JSON with the bearer token to <from>/rest/v2/krr/hentEndringer', async () => {
    const answer = {
      list: [{ personidentifikator: 'x' }],
      fraEndringsId: 7,
      tilEndringsId: 200000003,
      sisteEndringsId: 200000009,
    };
    handler = (_req, res) => json(res, 200, answer);
    assert.deepEqual(await client().fetchPage(7), answer);
    assert.equal(seen.length, 1);
    const [req] = seen;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.url, '/rest/v2/krr/hentEndringer');
    assert.equal(req!.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(req!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req!.body), { fraEndringsId: 7 });
  });

  it('refuses answers that are not a feed page', async () => {
    for (const bad of [
      '<html>hello</html>',
      [],
      { list: {}, fraEndringsId: 0, tilEndringsId: 1, sisteEndringsId: 1 },
      { list: [], fraEndringsId: 0, tilEndringsId: '1', sisteEndringsId: 1 },
      { list: [], fraEndringsId: 0, tilEndringsId: 1 },
      { list: [], fraEndringsId: -1, tilEndringsId: 1, sisteEndringsId: 1.5 },
    ]) {
      handler = (_req, res) => json(res, 200, bad);
      const err = await failure(client().fetchPage(0));
      assert.ok(err instanceof SourceAnswerError, JSON.stringify(bad));
      assert.equal(isRetryable(err), false);
    }
  });

  it('stops reading an answer past its ceiling: chunked without end, or declared too large', async () => {
    const small = (auth: TokenProvider = staticToken(TOKEN)) =>
      new FeedClient({ from: base, auth, maxAnswerBytes: 64 * 1024 });
    let sent = 0;
    let closed: Promise<void> = Promise.resolve();
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Far more than the ceiling, in chunks, as long as the client reads.
      closed = new Promise((resolve) => res.on('close', () => resolve()));
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    };
    const endless = await failure(small().fetchPage(0));
    assert.ok(endless instanceof SourceAnswerError, String(endless));
    assert.match(endless.message, /larger than 65536 bytes/);
    assert.equal(isRetryable(endless), false);
    await closed;
    assert.ok(sent < 8 * 1024 * 1024, `the client stopped reading (${sent} bytes sent)`);

    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1 << 20) });
      res.end(Buffer.alloc(1 << 20, 0x20));
    };
    const declared = await failure(small().fetchPage(0));
    assert.ok(declared instanceof SourceAnswerError);
    assert.doesNotMatch(declared.message, new RegExp(TOKEN));
  });

  it('4xx is a SourceRefusedError with the error body’s detail and a hint, not retried', async () => {
    handler = (_req, res) =>
      json(
        res,
        403,
        {
          errors: [
            {
              id: '6f1c7c1e-0000-4000-8000-000000000000',
              status: '403',
              title: 'Forbidden',
              detail: `missing scope; you sent ${TOKEN}`,
            },
          ],
        },
        { 'www-authenticate': 'Bearer error="insufficient_scope"' },
      );
    const err = await failure(client().fetchPage(0));
    assert.ok(err instanceof SourceRefusedError);
    assert.equal(err.status, 403);
    assert.equal(err.detail, 'missing scope; you sent [redacted]');
    assert.match(err.message, /HTTP 403: missing scope; you sent \[redacted\] \(the token lacks a scope/);
    assert.ok(!err.message.includes(TOKEN));
    assert.equal(isRetryable(err), false);
    assert.equal(seen.length, 1);

    handler = (_req, res) =>
      json(res, 404, { errors: [{ status: '404', title: 'Not Found', detail: 'no route' }] });
    const notFound = await failure(client().fetchPage(0));
    assert.ok(notFound instanceof SourceRefusedError);
    assert.match(notFound.message, /HTTP 404: no route \(is http:\/\/127\.0\.0\.1:\d+ a krr register\?/);

    handler = (_req, res) => json(res, 400, 'not json at all');
    const plain = await failure(client().fetchPage(0));
    assert.equal(plain.message, 'the source refused the change feed request: HTTP 400');
  });

  it('a 401 with a renewable token provider is retried once with a new token; a static token is not', async () => {
    handler = (req, res) =>
      req.headers.authorization === 'Bearer fresh'
        ? json(res, 200, PAGE)
        : json(res, 401, { errors: [{ status: '401', detail: 'expired' }] });
    let current = 'stale';
    let invalidated = 0;
    const renewable: TokenProvider = {
      renewable: true,
      token: () => Promise.resolve(current),
      invalidate() {
        invalidated++;
        current = 'fresh';
      },
    };
    assert.deepEqual(await client(renewable).fetchPage(0), PAGE);
    assert.equal(invalidated, 1);
    assert.deepEqual(
      seen.map((s) => s.headers.authorization),
      ['Bearer stale', 'Bearer fresh'],
    );

    // Refused again after renewal: a refusal, after exactly one retry.
    seen = [];
    current = 'stale';
    const always: TokenProvider = { ...renewable, invalidate: () => invalidated++ };
    const err = await failure(client(always).fetchPage(0));
    assert.ok(err instanceof SourceRefusedError);
    assert.equal(err.status, 401);
    assert.equal(seen.length, 2);

    seen = [];
    const refused = await failure(client(staticToken('stale')).fetchPage(0));
    assert.ok(refused instanceof SourceRefusedError);
    assert.equal(seen.length, 1);
  });

  it('5xx, 429 and 408 are retryable SourceUnavailableErrors', async () => {
    for (const status of [500, 502, 503, 429, 408]) {
      handler = (_req, res) => json(res, status, { errors: [{ status: String(status), detail: 'busy' }] });
      const err = await failure(client().fetchPage(0));
      assert.ok(err instanceof SourceUnavailableError, String(status));
      assert.equal(isRetryable(err), true);
      assert.match(err.message, new RegExp(`answered HTTP ${status}`));
    }
  });

  it('a redirect is not followed (it would carry the token elsewhere)', async () => {
    handler = (_req, res) => {
      res.writeHead(307, { location: 'http://elsewhere.invalid/rest/v2/krr/hentEndringer' });
      res.end();
    };
    const err = await failure(client().fetchPage(0));
    assert.ok(err instanceof SourceRefusedError);
    assert.match(
      err.message,
      /HTTP 307 \(the source redirects elsewhere; give the final base URL as --from\)/,
    );
    assert.equal(seen.length, 1);
  });

  it('no answer within the timeout, and a source not listening, are retryable', async () => {
    handler = () => {}; // never answers
    const started = Date.now();
    const slow = await failure(client(staticToken(TOKEN), 200).fetchPage(0));
    assert.ok(slow instanceof SourceUnavailableError);
    assert.match(slow.message, /no answer within 200 ms/);
    assert.ok(Date.now() - started < 5000);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = await failure(
      new FeedClient({ from: `http://127.0.0.1:${port}`, auth: staticToken(TOKEN) }).fetchPage(0),
    );
    assert.ok(down instanceof SourceUnavailableError);
    assert.match(down.message, /cannot reach the source http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('a connection closed under the request is sent again once; closed again, it is retryable', async () => {
    let closes = 1;
    handler = (req, res) => {
      if (closes-- > 0) res.socket?.destroy();
      else json(res, 200, PAGE);
    };
    assert.deepEqual(await client().fetchPage(0), PAGE);
    assert.equal(seen.length, 2);

    seen = [];
    handler = (_req, res) => res.socket?.destroy();
    const err = await failure(client().fetchPage(0));
    assert.ok(err instanceof SourceUnavailableError);
    assert.equal(isRetryable(err), true);
    assert.equal(seen.length, 2);
  });

  it('--from must be a plain http(s) base URL; trailing slashes are dropped', () => {
    assert.equal(normalizeSourceUrl('https://krr.example.no/'), 'https://krr.example.no');
    assert.equal(normalizeSourceUrl('https://krr.example.no/base//'), 'https://krr.example.no/base');
    assert.throws(() => normalizeSourceUrl('krr.example.no'), ConfigError);
    assert.throws(() => normalizeSourceUrl('ftp://krr.example.no'), ConfigError);
    assert.throws(() => normalizeSourceUrl('https://user:pw@krr.example.no'), ConfigError);
    assert.throws(() => normalizeSourceUrl('https://krr.example.no/?x=1'), ConfigError);
  });
});
