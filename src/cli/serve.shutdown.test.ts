// How `krr serve` stops (docs/operations.md#stopping), against a real server on a real port: from
// close() on, /health/ready answers 503 with the error body while /health/live stays 200 and
// requests are still served for the drain delay; then new connections are refused, a request in
// flight is answered (with Connection: close) and its lookup is in the audit trail; one that does
// not finish within the grace period loses its connection, and close() still ends.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { devKeyFor, mintDevToken } from '../auth/dev-issuer.js';
import { loadConfig } from '../config/config.js';
import type { CliValues } from '../config/config.js';
import { demoPersons } from '../demo/demo-data.js';
import { openStore } from '../register/open-store.js';
import type { StoreKind } from '../store/database.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startServer } from './serve.command.js';

async function freshStore(kind: StoreKind): Promise<{ values: CliValues; cleanup: () => Promise<void> }> {
  if (kind === 'postgres') {
    const database = await freshDatabase('krr_stop');
    return { values: { database: database.url }, cleanup: database.cleanup };
  }
  const dir = await mkdtemp(join(tmpdir(), 'krr-stop-'));
  await copyEmptyEmbeddedStore(join(dir, 'data'));
  return { values: { dataDir: join(dir, 'data') }, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A lookup whose body is sent in two parts: in flight, on a connection of its own, until `finish()`. */
function lookupInFlight(base: string, token: string, pid: string) {
  const body = JSON.stringify({ personidentifikatorer: [pid] });
  const half = Math.floor(body.length / 2);
  let req!: ClientRequest;
  const answer = new Promise<Answer>((resolve, reject) => {
    req = request(`${base}/rest/v2/personer`, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.write(body.slice(0, half));
  });
  // The first half has reached the server once its socket has written it.
  const sent = new Promise<void>((resolve) => req.once('socket', (s) => s.once('connect', () => resolve())));
  return { answer, sent, finish: () => req.end(body.slice(half)) };
}

async function status(url: string): Promise<number | 'refused'> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') return 'refused';
    throw err;
  }
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${String(value)}`);
    await sleep(25);
  }
}

for (const kind of STORE_KINDS) {
  describe(`krr serve stopping (${kind})`, { skip: await skipReason(kind) }, () => {
    it('drains: not ready at once, serving on; then no new connections, the request in flight answered and audited, the one past the grace period cut', async () => {
      const store = await freshStore(kind);
      try {
        const config = loadConfig(
          { ...store.values, dev: true, port: 0, logLevel: 'silent' },
          { KRR_SHUTDOWN_DRAIN_SECONDS: '1', KRR_SHUTDOWN_GRACE_SECONDS: '2', KRR_LOOKUP_CACHE_BYTES: '0' },
        );
        const server = await startServer(config, { demo: true });
        const base = server.localUrl;
        const pid = demoPersons(Date.now())[0]!.person.personidentifikator;
        const token = await mintDevToken(await devKeyFor(server.config.store, server.db), {
          issuer: server.config.auth.devIssuer,
          consumer: '0192:991825827',
          scopes: ['krr:global/kontaktinformasjon.read'],
        });
        assert.equal(await status(`${base}/health/ready`), 200);

        const finished = lookupInFlight(base, token, pid);
        const cut = lookupInFlight(base, token, pid);
        await Promise.all([finished.sent, cut.sent]);
        const closing = server.close({ drain: true });
        let closed = false;
        void closing.then(() => (closed = true));

        // The drain delay: not ready, with the error body; alive; still serving new connections.
        const ready = await fetch(`${base}/health/ready`);
        assert.equal(ready.status, 503);
        assert.match(ready.headers.get('content-type') ?? '', /^application\/json/);
        const body = (await ready.json()) as { errors: { status: string; detail: string }[] };
        assert.deepEqual(
          body.errors.map((e) => ({ status: e.status, detail: e.detail })),
          [{ status: '503', detail: 'the server is stopping' }],
        );
        assert.equal((await fetch(`${base}/health`)).status, 503);
        const live = await fetch(`${base}/health/live`);
        assert.equal(live.status, 200);
        assert.equal(live.headers.get('connection'), 'close', 'a stopping server closes its connections');
        assert.deepEqual(await live.json(), { status: 'UP' });

        // Then it stops accepting connections, while the requests in flight hold it open.
        await until(
          'new connections',
          () => status(`${base}/health/live`),
          (s) => s === 'refused',
        );
        assert.equal(closed, false, 'close() ended with requests in flight');

        finished.finish();
        const answer = await finished.answer;
        assert.equal(answer.status, 200, answer.body);
        assert.equal(answer.headers.connection, 'close');
        assert.equal(
          (JSON.parse(answer.body) as { personer: { personidentifikator: string }[] }).personer[0]!
            .personidentifikator,
          pid,
        );

        // The other never sends the rest of its body: the grace period ends it, and close() ends.
        await assert.rejects(cut.answer, /socket hang up|ECONNRESET/);
        await closing;

        const db = await openStore(config.store);
        try {
          const rows = await db.query<{ n: number }>(
            `select count(*)::int as n from audit_log where endpoint = '/rest/v2/personer' and $1 = any(identifiers)`,
            [pid],
          );
          assert.equal(rows[0]!.n, 1, 'the answered lookup is in the audit trail');
        } finally {
          await db.close();
        }
      } finally {
        await store.cleanup();
      }
    });
  });
}
