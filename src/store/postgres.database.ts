import { connect } from 'node:net';
import type { Socket } from 'node:net';
import postgres from 'postgres';
import type { Database, Queryable } from './database.js';

// int8 (change ids, epoch milliseconds) as numbers: every value the register keeps is far below 2^53.
const int8AsNumber = {
  to: 20,
  from: [20],
  parse: (x: string) => Number(x),
  serialize: (x: number) => String(x),
};

export interface PostgresOptions {
  readonly url: string;
  /** Schema for the tables (tests give each run its own); default: the server's search_path. */
  readonly schema?: string;
  readonly poolSize?: number;
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const sql = postgres(options.url, {
    max: options.poolSize ?? 10,
    types: { int8: int8AsNumber },
    onnotice: () => {},
    connect_timeout: 10,
    // postgres.js takes a socket factory, though its types do not say so.
    ...({ socket: connectWithoutDelay } as object),
    connection: {
      application_name: 'krr',
      ...(options.schema ? { search_path: options.schema } : {}),
    },
  });
  if (options.schema) {
    await sql.unsafe(`create schema if not exists "${options.schema.replace(/"/g, '""')}"`);
  }

  const wrap = (s: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<R extends object>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      const rows = await s.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return rows as unknown as R[];
    },
  });
  const root = wrap(sql);
  return {
    kind: 'postgres',
    query: root.query,
    async exec(script) {
      await sql.unsafe(script).simple();
    },
    async transaction(fn) {
      return (await sql.begin((tx) =>
        fn({ ...wrap(tx), copyFrom: (target, data, format) => copyFrom(tx, target, data, format) }),
      )) as Awaited<ReturnType<typeof fn>>;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

/** COPY FROM STDIN on the transaction's connection; settles when the server has taken every row. */
async function copyFrom(
  tx: postgres.TransactionSql,
  target: string,
  data: Uint8Array,
  format: 'text' | 'binary',
): Promise<void> {
  const query = tx.unsafe(`copy ${target} from stdin with (format ${format})`);
  const stream = await query.writable();
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('finish', resolve);
    // An error the server reports after the last row fails the query, not the stream.
    query.catch(reject);
    stream.end(data);
  });
}

/**
 * postgres.js connects with Nagle's algorithm on: a statement sent right after a COPY then waits
 * for the server's delayed ACK, about 40 ms per COPY (an import's blocks spent most of their time
 * so). This connects as postgres.js would, with TCP_NODELAY.
 */
function connectWithoutDelay(options: {
  host: string[];
  port: number[];
  path?: string | false;
}): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = options.path
      ? connect(options.path)
      : connect({ host: options.host[0] ?? 'localhost', port: options.port[0] ?? 5432, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connecting to PostgreSQL timed out'));
    }, 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
