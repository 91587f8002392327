// PostgreSQL going away under load: a real `krr serve` reaches its database through
// a TCP proxy of this test's own, while workers look persons up and read the feed. Its backends are
// terminated (pg_terminate_backend), the proxy is cut (refused and reset connections), then turned
// into a black hole (connections accepted, never answered), then restored. Throughout, every answer
// is a 200 or a 503 with the error body (docs/errors.md#error-body), never a 500 and never a hang; while the
// database is away /health/ready says 503; afterwards the same process serves everything again.
// The machine's PostgreSQL is never restarted: other test files share it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { syntheticPersons } from '../../src/demo/synthetic-persons.js';
import { PersonWriter } from '../../src/register/person.writer.js';
import { openStore } from '../../src/register/open-store.js';
import { freshDatabase, skipReason, TEST_DATABASE_URL } from '../support/stores.js';
import { assertErrorBody } from '../support/error-body.js';
import { BODY_ENDPOINTS } from './endpoints.js';
import { devToken, killHard, serve, sleep } from '../support/processes.js';
import type { Server } from '../support/processes.js';
import { TcpProxy } from './tcp-proxy.js';

const PERSONS = [...syntheticPersons(200, { seed: 3 })];
const LOOKUP = BODY_ENDPOINTS.find((e) => e.path === '/rest/v2/personer')!;
const FEED = BODY_ENDPOINTS.find((e) => e.path === '/rest/v2/krr/hentEndringer')!;
// Far above the store's bounded connect timeout (5 s): an answer slower than this is a hang.
const HANG_MS = 30_000;
const PHASE_DEADLINE_MS = Number(process.env.KRR_OUTAGE_DEADLINE_MS ?? 90_000);

interface Outcome {
  readonly phase: string;
  /** The phase when the answer came (a request can start before a phase change and end after). */
  readonly endPhase: string;
  readonly status: number | 'hang' | 'error';
  readonly detail: string;
  readonly ms: number;
}

describe(
  'PostgreSQL unreachable under load: 503, then full service without a restart',
  {
    skip: await skipReason('postgres'),
  },
  () => {
    let db: { url: string; cleanup(): Promise<void> };
    let proxy: TcpProxy;
    let server: Server | undefined;
    let admin: postgres.Sql;

    before(async () => {
      db = await freshDatabase('krr_outage');
      const store = await openStore({ kind: 'postgres', url: db.url });
      try {
        await new PersonWriter(store).write(PERSONS);
      } finally {
        await store.close();
      }
      const target = new URL(TEST_DATABASE_URL);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.start();
      admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    });

    after(async () => {
      if (server) await killHard(server.child);
      await proxy?.stop();
      await admin?.end({ timeout: 1 });
      await db?.cleanup();
    });

    it('answers 503 with the error body while the database is away, and 200 after, in one process', async () => {
      const viaProxy = new URL(db.url);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      server = await serve(['--dev', '--database', viaProxy.toString()]);
      const token = await devToken(
        ['--database', db.url],
        'krr:global/kontaktinformasjon.read krr:global/digitalpost.read krr:global/hentendring.read',
      );
      const base = server.base;

      let phase = 'up';
      let stop = false;
      const outcomes: Outcome[] = [];
      const ids = PERSONS.map((p) => p.personidentifikator);

      async function call(endpoint: typeof LOOKUP, body: unknown): Promise<void> {
        const text = JSON.stringify(body);
        const at = phase;
        const started = performance.now();
        const ms = () => Math.round(performance.now() - started);
        try {
          const res = await fetch(`${base}${endpoint.path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: text,
            signal: AbortSignal.timeout(HANG_MS),
          });
          const answer = await res.text();
          if (res.status === 503) {
            assertErrorBody(
              { statusCode: 503, headers: { 'content-type': res.headers.get('content-type') }, body: answer },
              503,
            );
          }
          outcomes.push({
            phase: at,
            status: res.status,
            detail: answer.slice(0, 200),
            ms: ms(),
            endPhase: phase,
          });
        } catch (err) {
          const hang = (err as Error).name === 'TimeoutError';
          outcomes.push({
            phase: at,
            status: hang ? 'hang' : 'error',
            detail: String(err),
            ms: ms(),
            endPhase: phase,
          });
        }
      }

      const workers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          if ((i + w) % 3 === 0) await call(FEED, { fraEndringsId: 0 });
          else {
            const start = (i * 17 + w * 50) % (ids.length - 20);
            await call(LOOKUP, { personidentifikatorer: ids.slice(start, start + 20) });
          }
        }
      });

      const summary = () => {
        const tally = new Map<string, number>();
        for (const o of outcomes)
          tally.set(`${o.phase} ${o.status}`, (tally.get(`${o.phase} ${o.status}`) ?? 0) + 1);
        const odd = outcomes.find((o) => o.status !== 200 && o.status !== 503);
        return `${JSON.stringify(Object.fromEntries(tally))}${odd ? `; e.g. ${JSON.stringify(odd)}` : ''}`;
      };
      const count = (p: string, status?: number) =>
        outcomes.filter((o) => o.phase === p && (status === undefined || o.status === status)).length;
      async function until(what: string, condition: () => boolean | Promise<boolean>) {
        const deadline = Date.now() + PHASE_DEADLINE_MS;
        while (!(await condition())) {
          assert.ok(
            Date.now() < deadline,
            `${what} did not happen within ${PHASE_DEADLINE_MS} ms; answers so far: ${summary()}; server: ${server!.output().slice(-2000)}`,
          );
          await sleep(50);
        }
      }
      const ready = async () => {
        const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(HANG_MS) });
        return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
      };

      try {
        await until('20 answers while up', () => count('up', 200) >= 20);

        // krr's connections are terminated by the server (57P01 admin_shutdown on the next use).
        phase = 'terminated';
        const killed = await admin`
        select pg_terminate_backend(pid) as ok from pg_stat_activity
        where datname = ${viaProxy.pathname.slice(1)} and application_name = 'krr'`;
        assert.ok(killed.length > 0, 'krr had connections to terminate');
        await until('answers after pg_terminate_backend', () => count('terminated') >= 20);

        // The way to the database is cut: connections reset, new ones refused.
        phase = 'cut';
        await proxy.cut();
        await until('503s while cut', () => count('cut', 503) >= 10);
        const down = await ready();
        assert.equal(down.status, 503, `/health/ready while cut: ${down.body}`);
        assertErrorBody(
          { statusCode: down.status, headers: { 'content-type': down.type }, body: down.body },
          503,
        );

        // A network that swallows packets: connections open but never answer. The bounded connect
        // timeout turns this into 503s too, instead of requests that wait forever.
        phase = 'blackhole';
        proxy.blackhole = true;
        await proxy.start();
        await until('503s through the black hole', () => count('blackhole', 503) >= 4);

        phase = 'restoring';
        await proxy.cut();
        proxy.blackhole = false;
        await proxy.start();
        await until('/health/ready 200 again', async () => (await ready()).status === 200);
        phase = 'restored';
        // Longer than the connect timeout: a connection attempt begun during the outage, or a
        // statement left on a connection that failed then, would have failed within this phase
        // (docs/operations.md#after-an-outage).
        const restoredAt = Date.now();
        await until(
          '40 answers and 6 s after the restore',
          () => count('restored') >= 40 && Date.now() - restoredAt >= 6000,
        );
      } finally {
        stop = true;
        await Promise.all(workers);
      }

      // For the reader of the test log: answers and the slowest per phase and status.
      const slowest = new Map<string, number>();
      for (const o of outcomes) {
        const key = `${o.phase} ${o.status}`;
        slowest.set(key, Math.max(slowest.get(key) ?? 0, o.ms));
      }
      console.log(`# answers: ${summary()}; slowest ms: ${JSON.stringify(Object.fromEntries(slowest))}`);
      const bad = outcomes.filter((o) => o.status !== 200 && o.status !== 503);
      assert.deepEqual(bad, [], 'only 200 and 503, never a 5xx other than 503, an error or a hang');
      const upAll = outcomes.filter((o) => o.phase === 'up' && o.endPhase === 'up' && o.status !== 200);
      assert.deepEqual(upAll, [], 'no 503 while the database was there');
      const afterRestore = outcomes.filter((o) => o.phase === 'restored' && o.status !== 200);
      assert.deepEqual(afterRestore, [], 'full service after the restore');
      assert.ok(
        server.child.exitCode === null && server.child.signalCode === null,
        'the same process served throughout',
      );
    });
  },
);
