// One place that sees every statement a store runs, for the metrics (docs/operations.md#metrics):
// a Database wrapped so that each query, raw query, script and transaction reports how long it
// took and whether it failed, and how many are running at once (each holds one of the pool's
// connections). The observer gets no SQL text and no parameters: only the operation's kind.

import type { Database, StoreTransaction, TransactionOptions } from './database.js';

export type StoreOperation = 'query' | 'raw' | 'exec' | 'transaction';

/** What a wrapped store reports; it must not throw (a failing observer would fail the statement). */
export interface DatabaseObserver {
  /** An operation began: it holds (or waits for) a connection until `finished`. */
  started(operation: StoreOperation): void;
  finished(operation: StoreOperation, seconds: number, ok: boolean): void;
}

/** `db` with every operation reported to `observer`; `close`, `listen` and `kind` as they were. */
export function observeDatabase(db: Database, observer: DatabaseObserver): Database {
  async function timed<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    observer.started(operation);
    const start = process.hrtime.bigint();
    let ok = false;
    try {
      const result = await run();
      ok = true;
      return result;
    } finally {
      observer.finished(operation, Number(process.hrtime.bigint() - start) / 1e9, ok);
    }
  }
  return {
    kind: db.kind,
    query<R extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]) {
      return timed('query', () => db.query<R>(text, params));
    },
    queryRaw: (text, params) => timed('raw', () => db.queryRaw(text, params)),
    exec: (script) => timed('exec', () => db.exec(script)),
    // The options too: long work (an import through the test-data API) keeps its own pool.
    transaction<T>(fn: (tx: StoreTransaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
      return timed('transaction', () => db.transaction(fn, options));
    },
    ...(db.listen ? { listen: db.listen.bind(db) } : {}),
    close: () => db.close(),
  };
}
