// The one small interface both stores implement: the same SQL (PostgreSQL dialect, `$n`
// parameters) runs on a PostgreSQL server and on the embedded PGlite. Rows are plain objects whose
// int8 columns arrive as JavaScript numbers; they never leave the store's repositories.

export type StoreKind = 'postgres' | 'embedded';

/** PostgreSQL's timeouts (docs/operations.md#timeouts). */
export const DEFAULT_STATEMENT_TIMEOUT_SECONDS = 30;
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 5;

export interface Queryable {
  query<R extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface CopyOptions {
  /**
   * COPY's FREEZE: rows written already frozen and the pages marked all-visible, so the first
   * readers do not each set hint bits (and dirty every page) after a bulk load. Only for a table
   * created or truncated in the same transaction; rows show to every snapshot once committed.
   */
  readonly freeze?: boolean;
}

/** COPY's WITH list. */
export function copyOptions(format: 'text' | 'binary', options: CopyOptions): string {
  return `format ${format}${options.freeze ? ', freeze' : ''}`;
}

/** A transaction's connection: queries, and bulk loads with COPY. */
export interface StoreTransaction extends Queryable {
  /**
   * `COPY target FROM STDIN` of `data` in COPY's text or binary format, in this transaction.
   * `target` is a table with its column list: `person (a, b)`. Several parts are sent one after
   * the other, as if joined (without joining them in memory first).
   */
  copyFrom(
    target: string,
    data: Uint8Array | readonly Uint8Array[],
    format: 'text' | 'binary',
    options?: CopyOptions,
  ): Promise<void>;
}

export interface TransactionOptions {
  /**
   * Long-running work that must not be cut by the statement timeout (an import's COPY, migrations,
   * rendering every person again): on PostgreSQL it runs without the statement timeout and without
   * the client's silence guard (docs/operations.md#timeouts). The embedded store has neither.
   */
  readonly long?: boolean;
}

export interface Database extends Queryable {
  readonly kind: StoreKind;
  /**
   * Rows as arrays of the columns' text as bytes (null for SQL null), for values the register
   * keeps pre-rendered (lookup answers): no per-column decoding, no row objects.
   */
  queryRaw(text: string, params?: readonly unknown[]): Promise<(Buffer | null)[][]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * PostgreSQL only (the embedded store has one process): calls `onNotify` with the payload of
   * every NOTIFY on `channel`, and without one each time the listening connection is
   * (re)established, when a notification may have been missed. Resolves once listening; the
   * function it gives stops it.
   */
  listen?(channel: string, onNotify: (payload: string | undefined) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export type StoreConfig =
  | { readonly kind: 'embedded'; readonly dataDir: string }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly schema?: string;
      /** docs/operations.md#timeouts; 0: none. */
      readonly statementTimeoutSeconds?: number;
      readonly connectTimeoutSeconds?: number;
      /** Streaming replicas for reads (docs/operations.md#replicas); none: every read on `url`. */
      readonly readUrls?: readonly string[];
      /** A replica further behind than this is passed over (default 1). */
      readonly maxReplicaLagSeconds?: number;
    };
