// Answer buffers are reused across responses (answer-buffers.ts): over real sockets, with many
// bulk lookups in flight, slow readers and clients hanging up mid-answer, every answer that arrives
// must be the one asked for, byte for byte. It fails when a buffer carries two answers in flight
// (checked: giving each buffer back as soon as it is taken fails it). What it cannot provoke on
// loopback is a buffer given back between the write and 'close': the kernel here takes a whole
// answer (up to 4 MB of send buffer) at once.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { syntheticPersons } from '../demo/synthetic-persons.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

const BOTH = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];
const PERSONS = [...syntheticPersons(1000, { seed: 7 })];
const IDS = PERSONS.map((p) => p.personidentifikator);

/** A few hundred persons from a seed: answers of 100 KB and more, which come from the pool. */
function pick(seed: number): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < 300 + (seed % 7) * 40; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(IDS[x % IDS.length]!);
  }
  return out;
}

function post(
  port: number,
  token: string,
  ids: readonly string[],
  hangUp: boolean,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ personidentifikatorer: ids });
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/rest/v2/personer',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          if (hangUp) {
            req.destroy();
            resolve(undefined);
          } else if (chunks.length === 1) {
            // A slow reader: the server's socket fills, and the rest of the answer waits in the
            // server's memory, where a buffer given back too early would be overwritten.
            res.pause();
            setTimeout(() => res.resume(), 30);
          }
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', (err) => (hangUp ? resolve(undefined) : reject(err)));
      },
    );
    req.on('error', (err) => (hangUp ? resolve(undefined) : reject(err)));
    req.end(body);
  });
}

for (const kind of STORE_KINDS) {
  describe(`answer buffers reused across responses (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let port: number;
    let token: string;

    before(async () => {
      t = await startTestApp(kind);
      await t.write(PERSONS);
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      port = (t.app.server.address() as AddressInfo).port;
      token = await t.token(BOTH);
    });
    after(async () => t?.close());

    it('answers each of many concurrent bulk lookups with its own persons, while others hang up', async () => {
      // The expected answers, one at a time (the first round also fills the cache).
      const seeds = Array.from({ length: 24 }, (_, i) => i + 1);
      const expected = new Map<number, string>();
      for (const seed of seeds) {
        const answer = await post(port, token, pick(seed), false);
        assert.ok(
          answer !== undefined && answer.length > 64 * 1024,
          `an answer large enough for the pool: ${answer?.length} ${answer?.slice(0, 80)}`,
        );
        expected.set(seed, answer);
      }
      for (let round = 0; round < 4; round++) {
        const results = await Promise.all(
          seeds.flatMap((seed) => [
            post(port, token, pick(seed), false).then((answer) => ({ seed, answer })),
            post(port, token, pick(seed), true).then(() => undefined),
          ]),
        );
        for (const r of results) {
          if (r === undefined) continue;
          assert.equal(r.answer, expected.get(r.seed), `seed ${r.seed}, round ${round}`);
        }
      }
    });
  });
}
