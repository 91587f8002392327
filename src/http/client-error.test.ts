// Requests Node's HTTP parser refuses before fastify sees them are answered with the error body
// (docs/errors.md#error-body, not fastify's own), over a real socket, and nothing of the request comes back.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { assertErrorBody } from '../../test/support/error-body.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

/** Sends `raw` on a fresh connection and reads until the server closes it. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.end(raw);
  });
}

function parse(answer: string): { statusCode: number; headers: Record<string, string>; body: string } {
  const [head, body = ''] = answer.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { statusCode: Number(statusLine!.split(' ')[1]), headers, body };
}

describe('the error body for requests Node cannot parse', () => {
  let t: TestApp;
  let port: number;
  before(async () => {
    t = await startTestApp('embedded');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as { port: number }).port;
  });
  after(async () => t?.close());

  it('answers a malformed request line 400', async () => {
    const secret = 'Bearer eyJhbGciOiJSUzI1NiJ9.secret-part.signature-part';
    const res = parse(await exchange(port, `NOT A REQUEST LINE\r\nAuthorization: ${secret}\r\n\r\n`));
    assertErrorBody(res, 400);
    assert.ok(!res.body.includes('secret-part'));
  });

  it('answers headers over the limit 431', async () => {
    const token = `eyJ${'x'.repeat(20_000)}`;
    const raw = `POST /rest/v2/personer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`;
    const res = parse(await exchange(port, raw));
    assertErrorBody(res, 431);
    assert.ok(!res.body.includes('xxxxxxxxxxx'));
  });
});
