// Bad input below JSON: malformed HTTP sent over a raw socket to a listening server. Each gets an
// answer (no hang) with the error body (docs/errors.md#error-body), and the server keeps serving.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { assertErrorBody } from '../support/error-body.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { REGISTERED } from './endpoints.js';

/** Far above any honest answer: reaching it means the server left the client hanging. */
const HANG_MS = 20_000;

interface RawAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

describe('malformed HTTP over a real socket', () => {
  let t: TestApp;
  let port = 0;
  let token = '';

  before(async () => {
    t = await startTestApp('embedded');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
    token = await t.token(['krr:global/kontaktinformasjon.read']);
  });
  after(async () => t?.close());

  /** Writes `parts`, half-closes unless told not to, and reads one HTTP answer. */
  function raw(parts: readonly (string | Buffer)[], halfClose = true): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer within ${HANG_MS} ms: ${JSON.stringify(text)}`));
      }, HANG_MS);
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (text += d));
      socket.on('error', () => {}); // the server may reset after answering
      socket.on('close', () => {
        clearTimeout(timer);
        const [head = '', ...rest] = text.split('\r\n\r\n');
        const [statusLine = '', ...lines] = head.split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        resolve({ statusCode: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
      });
      for (const p of parts) socket.write(p);
      if (halfClose) socket.end();
    });
  }

  const head = (extra: string) =>
    `POST /rest/v2/personer HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/json\r\nConnection: close\r\n${extra}\r\n`;

  // Parts are made when the test runs: the token exists only after before().
  const CASES: ReadonlyArray<readonly [string, () => readonly (string | Buffer)[], number, boolean?]> = [
    ['a bad chunk size', () => [head('Transfer-Encoding: chunked\r\n'), 'zz\r\nabc\r\n0\r\n\r\n'], 400],
    [
      'a chunked body over the limit',
      () => [
        head('Transfer-Encoding: chunked\r\n'),
        ...Array.from({ length: 20 }, () => `10000\r\n${'a'.repeat(0x10000)}\r\n`),
        '0\r\n\r\n',
      ],
      413,
    ],
    [
      'a Content-Length over the limit (body never sent)',
      () => [head('Content-Length: 5000000\r\n'), '{"a":'],
      413,
      false,
    ],
    ['a body shorter than its Content-Length', () => [head('Content-Length: 100\r\n'), '{"a":1}'], 400],
    [
      'Content-Length with Transfer-Encoding',
      () => [head('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'), '0\r\n\r\n'],
      400,
    ],
    ['a Content-Length that is not a number', () => [head('Content-Length: abc\r\n'), '{}'], 400],
    ['a request line of garbage', () => ['GARBAGE\r\n\r\n'], 400],
    ['a NUL in the request line', () => ['POST /rest/v2/personer\u0000 HTTP/1.1\r\nHost: x\r\n\r\n'], 400],
    ['headers over the size limit', () => [head(`X-Big: ${'a'.repeat(20_000)}\r\n`), '{}'], 431],
  ];

  for (const [name, parts, status, halfClose] of CASES) {
    it(`${name}: ${status} with the error body`, async () => {
      const res = await raw(parts(), halfClose ?? true);
      assertErrorBody(res, status);
      assert.ok(!res.body.includes(token), 'the token is not echoed');
    });
  }

  it('serves a good request after all of them', async () => {
    const body = JSON.stringify({ personidentifikatorer: [REGISTERED] });
    const res = await raw([head(`Content-Length: ${Buffer.byteLength(body)}\r\n`), body], false);
    assert.equal(res.statusCode, 200, res.body);
  });
});
