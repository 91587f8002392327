// The observed store (docs/operations.md#metrics): each operation reported once, with its kind and
// whether it failed, and the count in flight back to zero however it ended; on both stores.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { observeDatabase } from './observed.database.js';
import type { Database } from './database.js';
import type { StoreOperation } from './observed.database.js';

for (const kind of STORE_KINDS) {
  describe(`the observed store (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let db: Database;
    let inFlight = 0;
    let most = 0;
    const seen: { operation: StoreOperation; ok: boolean }[] = [];
    before(async () => {
      store = await openTestStore(kind);
      db = observeDatabase(store.db, {
        started: () => {
          inFlight++;
          most = Math.max(most, inFlight);
        },
        finished: (operation, seconds, ok) => {
          inFlight--;
          assert.ok(seconds >= 0 && Number.isFinite(seconds));
          seen.push({ operation, ok });
        },
      });
    });
    after(async () => store?.dispose());

    it(
      "passes a transaction's options on: long work runs without the statement timeout",
      { skip: kind === 'embedded' ? 'the embedded store has no statement timeout' : false },
      async () => {
        const timeout = async (options?: { long: true }) =>
          (
            await db.transaction(
              (tx) => tx.query<{ statement_timeout: string }>('show statement_timeout'),
              options,
            )
          )[0]?.statement_timeout;
        assert.notEqual(await timeout(), '0', 'an ordinary transaction has the timeout');
        assert.equal(await timeout({ long: true }), '0', 'long work has none');
      },
    );

    it('reports each kind of operation with its outcome, and answers as the store does', async () => {
      seen.length = 0;
      assert.deepEqual([...(await db.query<{ n: number }>('select $1::int8 as n', [7]))], [{ n: 7 }]);
      const raw = await db.queryRaw('select $1::text', ['x']);
      assert.equal(raw[0]![0]!.toString('utf8'), 'x');
      await db.exec('select 1; select 2');
      const inside = await db.transaction(
        async (tx) => (await tx.query<{ n: number }>('select 3 as n'))[0]!.n,
      );
      assert.equal(inside, 3);
      await assert.rejects(db.query('select 1 / 0'));
      await assert.rejects(
        db.transaction(() => Promise.reject(new Error('rolled back'))),
        /rolled back/,
      );
      assert.deepEqual(seen, [
        { operation: 'query', ok: true },
        { operation: 'raw', ok: true },
        { operation: 'exec', ok: true },
        { operation: 'transaction', ok: true },
        { operation: 'query', ok: false },
        { operation: 'transaction', ok: false },
      ]);
      assert.equal(inFlight, 0);
      assert.equal(db.kind, kind);
      assert.equal(db.listen === undefined, store.db.listen === undefined);
    });

    it('counts concurrent operations in flight', async () => {
      most = 0;
      await Promise.all([1, 2, 3].map((n) => db.query('select $1::int8 as n', [n])));
      assert.ok(most >= 1 && most <= 3, String(most));
      assert.equal(inFlight, 0);
    });
  });
}
