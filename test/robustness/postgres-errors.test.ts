// The store's mapping of PostgreSQL connection failures, against the real server:
// a statement whose backend is terminated fails with StoreUnavailableError (503), and the stale
// 57P01 that postgres.js raises again on that connection's next statement is retried away, for
// single statements and transactions. Other database errors pass through unchanged.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { StoreUnavailableError } from '../../src/errors/errors.js';
import type { Database } from '../../src/store/database.js';
import { mapPostgresError, openPostgres } from '../../src/store/postgres.database.js';
import { freshStoreConfig, skipReason, TEST_DATABASE_URL } from '../support/stores.js';

describe('PostgreSQL connection errors in the store', { skip: await skipReason('postgres') }, () => {
  let db: Database;
  let cleanup: () => Promise<void>;
  let admin: postgres.Sql;
  let backend = 0;

  before(async () => {
    const fresh = await freshStoreConfig('postgres');
    cleanup = fresh.cleanup;
    const config = fresh.config as { url: string; schema: string };
    // One connection, so the statement after a termination runs on the terminated connection.
    db = await openPostgres({ url: config.url, schema: config.schema, poolSize: 1 });
    admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  });
  after(async () => {
    await db?.close();
    await admin?.end({ timeout: 1 });
    await cleanup?.();
  });

  /** Runs a slow statement, terminates its backend meanwhile, and returns how the statement failed. */
  async function terminatedMidStatement(): Promise<unknown> {
    const [row] = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
    backend = row!.pid;
    const slow = db.query('select pg_sleep(10)').then(
      () => undefined,
      (err: unknown) => err,
    );
    // Wait until the sleep runs on the server, then end its backend.
    for (;;) {
      const [active] =
        await admin`select count(*)::int as n from pg_stat_activity where pid = ${backend} and query like '%pg_sleep%' and state = 'active'`;
      if (active!.n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await admin`select pg_terminate_backend(${backend})`;
    return slow;
  }

  it('a statement whose backend is terminated fails with StoreUnavailableError; the next one succeeds', async () => {
    const err = await terminatedMidStatement();
    assert.ok(err instanceof StoreUnavailableError, `got ${String(err)}`);
    assert.equal(err.status, 503);
    assert.doesNotMatch(err.message, /127\.0\.0\.1|5432|postgres:/, 'no host or URL in the message');
    const [row] = await db.query<{ one: number }>('select 1 as one');
    assert.equal(row!.one, 1);
  });

  it('a transaction after the termination succeeds (its BEGIN met the stale 57P01 and was retried)', async () => {
    await terminatedMidStatement();
    const result = await db.transaction(async (tx) => {
      const [row] = await tx.query<{ two: number }>('select 2 as two');
      return row!.two;
    });
    assert.equal(result, 2);
  });

  it('errors that are not about reaching the database pass through unchanged', async () => {
    await assert.rejects(db.query('select * from no_such_table'), (err: unknown) => {
      assert.ok(!(err instanceof StoreUnavailableError));
      assert.equal((err as { code?: string }).code, '42P01');
      return true;
    });
    for (const code of ['23505', '42601', '22021', '40001', undefined]) {
      const err = Object.assign(new Error('x'), { code });
      assert.equal(mapPostgresError(err), err, String(code));
    }
    for (const code of [
      'ECONNREFUSED',
      'ECONNRESET',
      'CONNECTION_CLOSED',
      'CONNECT_TIMEOUT',
      '57P01',
      '08006',
      '08001',
    ]) {
      assert.ok(
        mapPostgresError(Object.assign(new Error('x'), { code })) instanceof StoreUnavailableError,
        code,
      );
    }
  });
});
