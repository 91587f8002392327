// The PostgreSQL store's timeouts (docs/operations.md#timeouts), against the real server: a
// statement that runs past the statement timeout fails with StoreTimeoutError (a 503), long work
// runs without the timeout, and a connection that goes silent in the middle of a statement (a TCP
// proxy that stops forwarding, test/robustness/tcp-proxy.ts) fails by the silence guard instead of
// hanging, after which the store serves again. Through a real `krr serve`: such a request is
// answered 503 STORE_UNAVAILABLE with the error body.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StoreTimeoutError, StoreUnavailableError } from '../../src/errors/errors.js';
import type { Database } from '../../src/store/database.js';
import { openPostgres } from '../../src/store/postgres.database.js';
import { freshDatabase, freshStoreConfig, skipReason, TEST_DATABASE_URL } from '../support/stores.js';
import { assertErrorBody } from '../support/error-body.js';
import { devToken, killHard, serve } from '../support/processes.js';
import type { Server } from '../support/processes.js';
import { TcpProxy } from './tcp-proxy.js';

// A hang fails the test by node:test's timeout instead of holding the run; never an assertion on time.
const HANG_MS = 60_000;

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('the statement timeout on PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let db: Database;
  let cleanup: () => Promise<void>;

  before(async () => {
    const fresh = await freshStoreConfig('postgres');
    cleanup = fresh.cleanup;
    const config = fresh.config as { url: string; schema: string };
    db = await openPostgres({ url: config.url, schema: config.schema, statementTimeoutSeconds: 1 });
  });
  after(async () => {
    await db?.close();
    await cleanup?.();
  });

  it('is the server setting of every connection', async () => {
    const [row] = await db.query<{ t: string }>("select current_setting('statement_timeout') as t");
    assert.equal(row!.t, '1s');
  });

  it(
    'a statement that runs longer fails with StoreTimeoutError (503), alone and in a transaction',
    { timeout: HANG_MS },
    async () => {
      const alone = await rejection(db.query('select pg_sleep(5)'));
      assert.ok(alone instanceof StoreTimeoutError, `alone: ${String(alone)}`);
      assert.ok(alone instanceof StoreUnavailableError);
      assert.equal(alone.status, 503);
      assert.equal(alone.code, 'STORE_UNAVAILABLE');
      assert.equal(alone.message, 'the store did not answer in time (57014)');

      const inTransaction = await rejection(db.transaction((tx) => tx.query('select pg_sleep(5)')));
      assert.ok(inTransaction instanceof StoreTimeoutError, `in a transaction: ${String(inTransaction)}`);

      // The connections serve on.
      assert.deepEqual([...(await db.query('select 1 as one'))], [{ one: 1 }]);
    },
  );

  it('long work runs without it', { timeout: HANG_MS }, async () => {
    const rows = await db.transaction(
      async (tx) => {
        await tx.query('select pg_sleep(1.5)');
        return tx.query<{ t: string }>("select current_setting('statement_timeout') as t");
      },
      { long: true },
    );
    assert.equal(rows[0]!.t, '0');
  });

  it('0 turns it off', async () => {
    const fresh = await freshStoreConfig('postgres');
    const config = fresh.config as { url: string; schema: string };
    const off = await openPostgres({ url: config.url, schema: config.schema, statementTimeoutSeconds: 0 });
    try {
      const [row] = await off.query<{ t: string }>("select current_setting('statement_timeout') as t");
      assert.equal(row!.t, '0');
    } finally {
      await off.close();
      await fresh.cleanup();
    }
  });
});

describe(
  'a connection that goes silent mid-statement, on PostgreSQL',
  { skip: await skipReason('postgres') },
  () => {
    let proxy: TcpProxy;
    let db: Database;
    let cleanup: () => Promise<void>;

    before(async () => {
      const fresh = await freshStoreConfig('postgres');
      cleanup = fresh.cleanup;
      const config = fresh.config as { url: string; schema: string };
      const target = new URL(TEST_DATABASE_URL);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.start();
      const viaProxy = new URL(config.url);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      // The guard waits for the statement timeout and the connect timeout's grace: 2 s.
      db = await openPostgres({
        url: viaProxy.toString(),
        schema: config.schema,
        poolSize: 1,
        statementTimeoutSeconds: 1,
        connectTimeoutSeconds: 1,
      });
    });
    after(async () => {
      await db?.close();
      await proxy?.stop();
      await cleanup?.();
    });

    for (const [what, run] of [
      ['a statement', (d: Database) => d.query('select 1 as one')],
      ['a transaction', (d: Database) => d.transaction((tx) => tx.query('select 1 as one'))],
    ] as const) {
      it(
        `${what} fails with StoreTimeoutError instead of hanging, and the store serves again`,
        { timeout: HANG_MS },
        async () => {
          assert.deepEqual([...(await run(db))], [{ one: 1 }]);
          // The open connection stays open but carries nothing more; the server never sees the
          // statement, so its own timeout cannot end it.
          proxy.silence();
          const err = await rejection(run(db));
          assert.ok(err instanceof StoreTimeoutError, `through the silent connection: ${String(err)}`);
          assert.equal(err.message, 'the store did not answer in time (KRR_CONNECTION_SILENT)');
          // The guard closed it; a new connection is forwarded.
          assert.deepEqual([...(await run(db))], [{ one: 1 }]);
        },
      );
    }

    it(
      'an idle connection, and one whose statement is answered slowly but in time, are left alone',
      { timeout: HANG_MS },
      async () => {
        const [before] = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
        // Longer than the guard's 2 s idle: nothing is awaited, nothing is closed.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        // An answer after 0.9 s: within the statement timeout, and within the guard.
        await db.query('select pg_sleep(0.9)');
        const [after] = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
        assert.equal(after!.pid, before!.pid, 'the same connection served throughout');
      },
    );
  },
);

describe('a silent database through krr serve', { skip: await skipReason('postgres') }, () => {
  let db: { url: string; cleanup(): Promise<void> };
  let proxy: TcpProxy;
  let server: Server | undefined;

  before(async () => {
    db = await freshDatabase('krr_timeouts');
    const target = new URL(TEST_DATABASE_URL);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
  });
  after(async () => {
    if (server) await killHard(server.child);
    await proxy?.stop();
    await db?.cleanup();
  });

  it(
    'a lookup on a connection gone silent is answered 503 STORE_UNAVAILABLE, and the next one 200',
    { timeout: HANG_MS },
    async () => {
      const viaProxy = new URL(db.url);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      // The config file's `database` block: the guard waits 2 s.
      const dir = await mkdtemp(join(tmpdir(), 'krr-timeouts-'));
      const config = join(dir, 'krr.json');
      await writeFile(
        config,
        JSON.stringify({ database: { statementTimeoutSeconds: 1, connectTimeoutSeconds: 1 } }),
      );
      server = await serve(['--dev', '--config', config, '--database', viaProxy.toString()]);
      const token = await devToken(['--database', db.url], 'krr:global/kontaktinformasjon.read');
      const lookup = () =>
        fetch(`${server!.base}/rest/v2/personer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ personidentifikatorer: ['31129956715'] }),
        });
      assert.equal((await lookup()).status, 200);
      proxy.silence();
      const res = await lookup();
      const body = await res.text();
      assert.equal(res.status, 503, body);
      assertErrorBody(
        { statusCode: 503, headers: { 'content-type': res.headers.get('content-type') }, body },
        503,
      );
      const [error] = (JSON.parse(body) as { errors: { detail: string }[] }).errors;
      assert.equal(error!.detail, 'the store did not answer in time (KRR_CONNECTION_SILENT)');
      assert.equal((await lookup()).status, 200);
    },
  );
});
