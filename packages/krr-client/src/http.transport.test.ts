// The transport against a real HTTP server of the test's own: the answer-size bound, Retry-After
// beyond the longest wait, and retryAfterMs's two forms.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { retryAfterMs, Transport } from './http.transport.js';
import { KrrProtocolError } from './krr.errors.js';

describe('the transport', () => {
  let server: Server;
  let base = '';
  let requests = 0;

  before(async () => {
    server = createServer((req, res) => {
      requests++;
      if (req.url === '/large') {
        // Chunked, no Content-Length: the bound is found while reading.
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 8; i++) res.write('x'.repeat(1024));
        res.end();
      } else {
        res.writeHead(429, { 'retry-after': '3600' });
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('stops reading an answer larger than its bound', async () => {
    const transport = new Transport({ fetch, timeoutMs: 5_000, retries: 0, maxAnswerBytes: 4096 });
    await assert.rejects(transport.exchange(`${base}/large`, {}, 'GET /large'), (e: unknown) => {
      assert.ok(e instanceof KrrProtocolError);
      assert.equal(e.message, 'the answer to GET /large is larger than 4096 bytes');
      return true;
    });
    const roomy = new Transport({ fetch, timeoutMs: 5_000, retries: 0, maxAnswerBytes: 8192 });
    assert.equal((await roomy.exchange(`${base}/large`, {}, 'GET /large')).text.length, 8192);
  });

  it('gives up at once on a Retry-After longer than it waits', async () => {
    requests = 0;
    const transport = new Transport({ fetch, timeoutMs: 5_000, retries: 3 });
    const answer = await transport.withRetries(() => transport.exchange(`${base}/busy`, {}, 'GET /busy'));
    assert.equal(answer.status, 429);
    assert.equal(requests, 1);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '2' }), now), 2000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 12:00:30 GMT' }), now), 30_000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now), undefined);
    assert.equal(retryAfterMs(new Headers(), now), undefined);
  });
});
