// The store's own sockets to PostgreSQL (TCP_NODELAY, see driverSocket): connection errors
// still reach the driver, so a refused connection is a StoreUnavailableError (503) every time and
// never an uncaught 'error' event; small writes after a COPY are not held back by Nagle's
// algorithm (the driver's own sockets waited for the server's delayed ACK, about 40 ms, each time);
// and a connection whose socket closed while postgres.js had a write pending serves again.

import assert from 'node:assert/strict';
import { createServer, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { StoreUnavailableError } from '../../src/errors/errors.js';
import type { Database } from '../../src/store/database.js';
import { namesOneHost, openPostgres } from '../../src/store/postgres.database.js';
import { freshStoreConfig, skipReason } from '../support/stores.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the store sockets', () => {
  it('a refused connection is a StoreUnavailableError, again and again, never an uncaught error', async () => {
    const port = await freePort();
    const db = await openPostgres({
      url: `postgres://postgres@127.0.0.1:${port}/none`,
      connectTimeoutSeconds: 2,
    });
    try {
      for (let i = 0; i < 20; i++) {
        await assert.rejects(db.query('select 1'), StoreUnavailableError);
        await assert.rejects(
          db.transaction((tx) => tx.query('select 1')),
          StoreUnavailableError,
        );
      }
    } finally {
      await db.close();
    }
  });

  it('names one host: the URL with one host, or PGHOST without a host in the URL', () => {
    assert.equal(namesOneHost('postgres://u:p@db.example:5432/krr'), true);
    assert.equal(namesOneHost('postgres://u@a:5432,b:5432/krr'), false);
    assert.equal(namesOneHost('postgres://a,b/krr'), false);
  });
});

/**
 * A fresh PostgreSQL store on one connection for the enclosing suite (opened before its tests,
 * removed after them): every statement is on the one session, whose state a test can read.
 */
function storeOnOneConnection(): { readonly db: Database } {
  let db: Database | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  before(async () => {
    const fresh = await freshStoreConfig('postgres');
    cleanup = fresh.cleanup;
    const config = fresh.config as { url: string; schema: string };
    db = await openPostgres({ url: config.url, schema: config.schema, poolSize: 1 });
  });
  after(async () => {
    await db?.close();
    await cleanup?.();
  });
  return {
    get db() {
      return db!;
    },
  };
}

describe('the store sockets on PostgreSQL', { skip: await skipReason('postgres') }, () => {
  const store = storeOnOneConnection();

  it('a statement right after a COPY does not wait for a delayed ACK', async () => {
    const rounds = 40;
    const row = Buffer.from('x'.repeat(70_000) + '\n'); // more than a loopback segment
    const times: number[] = [];
    await store.db.transaction(async (tx) => {
      await tx.query('create temporary table copied (t text) on commit drop');
      for (let i = 0; i < rounds; i++) {
        const started = performance.now();
        await tx.copyFrom('copied (t)', row, 'text');
        await tx.query('select 1');
        times.push(performance.now() - started);
      }
    });
    // With Nagle's algorithm on, every round waited about 40 ms for the server's delayed ACK. The
    // median, not the mean: on a busy 2-core machine a few rounds wait for the CPU, not the ACK.
    const median = times.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
    assert.ok(median < 20, `${median.toFixed(1)} ms per COPY and statement (median)`);
  });
});

describe('the store statements on PostgreSQL', { skip: await skipReason('postgres') }, () => {
  // One connection: every statement below is on the session whose prepared statements are read.
  const store = storeOnOneConnection();

  const preparedCount = async (text: string) =>
    (
      await store.db.query<{ n: number }>(
        'select count(*)::int8 as n from pg_prepared_statements where statement = $1',
        [text],
      )
    )[0]!.n;

  it('prepares a statement with parameters once per connection, and none without', async () => {
    const withParameters = 'select $1::int8 + 1 as n';
    for (let i = 0; i < 3; i++) {
      assert.deepEqual([...(await store.db.query(withParameters, [i]))], [{ n: i + 1 }]);
      const [raw] = await store.db.queryRaw(withParameters, [i]);
      assert.equal(raw![0]!.toString(), String(i + 1));
    }
    assert.equal(await preparedCount(withParameters), 1);
    const withoutParameters = 'select 41 + 1 as n';
    assert.deepEqual([...(await store.db.query(withoutParameters))], [{ n: 42 }]);
    assert.equal(await preparedCount(withoutParameters), 0);
  });

  it('a prepared statement still answers after its table changed shape', async () => {
    await store.db.query('create table shaped (id int8 primary key, a text)');
    await store.db.query('insert into shaped values ($1, $2)', [1, 'x']);
    const select = 'select * from shaped where id = $1';
    assert.deepEqual([...(await store.db.query(select, [1]))], [{ id: 1, a: 'x' }]);
    await store.db.query('alter table shaped add column b text');
    assert.deepEqual([...(await store.db.query(select, [1]))], [{ id: 1, a: 'x', b: null }]);
    // First used again inside a transaction, where a failed statement could not simply be retried.
    await store.db.query('alter table shaped add column c text');
    await store.db.transaction(async (tx) => {
      assert.deepEqual([...(await tx.query(select, [1]))], [{ id: 1, a: 'x', b: null, c: null }]);
    });
  });
});

/** This process's TCP sockets (Node keeps no public list of them). */
function openSockets(): Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h): h is Socket => h instanceof Socket);
}

describe(
  'a socket closed under a pending write, on PostgreSQL',
  { skip: await skipReason('postgres') },
  () => {
    // One connection: the statements after the close need the connection whose socket closed.
    const store = storeOnOneConnection();

    // postgres.js keeps the statement it did not send: a short one is never sent, a long one (but
    // below the 1 KB it sends at once) goes out ahead of the next session's startup message.
    for (const [what, statement] of [
      ['a short statement', 'select 1 as one'],
      ['a statement of nearly 1 KB', `select 1 as one -- ${'x'.repeat(930)}`],
    ] as const) {
      it(`${what} pending: the next statements are answered, not left to the connect timeout`, async () => {
        const [row] = await store.db.query<{ port: number }>('select inet_client_port() as port');
        const socket = openSockets().find((s) => s.localPort === row!.port);
        assert.ok(socket, `the store's socket (local port ${row!.port})`);
        // postgres.js sends a statement from a setImmediate. Begun in the check phase, the send
        // waits for the next turn of the event loop, and the socket's close (destroyed here) comes
        // first, in this turn's close phase: the close finds the send pending.
        const cut = await new Promise<unknown>((resolve) =>
          setImmediate(() => {
            resolve(
              store.db.query(statement).then(
                () => undefined,
                (err: unknown) => err,
              ),
            );
            socket.destroy();
          }),
        );
        assert.ok(cut instanceof StoreUnavailableError, `the statement on the closed socket: ${String(cut)}`);
        for (let i = 0; i < 3; i++) {
          assert.deepEqual([...(await store.db.query('select $1::int8 as n', [i]))], [{ n: i }]);
        }
        await store.db.transaction(async (tx) => {
          assert.deepEqual([...(await tx.query('select 2 as two'))], [{ two: 2 }]);
        });
      });
    }
  },
);

describe(
  'a statement sent right after its connection failed, on PostgreSQL',
  { skip: await skipReason('postgres') },
  () => {
    // One connection: the next statement would be queued on the one whose socket failed.
    const store = storeOnOneConnection();

    it(
      'is answered on a new connection, not left on the failed one (docs/operations.md#after-an-outage)',
      { timeout: 60_000 },
      async () => {
        const [row] = await store.db.query<{ port: number }>('select inet_client_port() as port');
        const socket = openSockets().find((s) => s.localPort === row!.port);
        assert.ok(socket, `the store's socket (local port ${row!.port})`);
        const slow = store.db.query('select pg_sleep(5)');
        await new Promise((resolve) => setTimeout(resolve, 200));
        // The socket fails while a statement is in flight. The next statement is sent at once, from
        // the failure's own continuation: before Node reports the socket's close.
        socket.destroy(Object.assign(new Error('connection reset (test)'), { code: 'ECONNRESET' }));
        const next = await slow.then(
          () => assert.fail('the statement on the failed socket succeeded'),
          (err: unknown) => {
            assert.ok(err instanceof StoreUnavailableError, String(err));
            return store.db.query<{ n: number }>('select $1::int8 as n', [7]);
          },
        );
        assert.deepEqual([...next], [{ n: 7 }]);
      },
    );
  },
);
