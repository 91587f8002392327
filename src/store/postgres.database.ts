import { Socket } from 'node:net';
import postgres from 'postgres';
import { StoreTimeoutError, StoreUnavailableError } from '../errors/errors.js';
import {
  copyOptions,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  DEFAULT_STATEMENT_TIMEOUT_SECONDS,
} from './database.js';
import type { CopyOptions, Database, Queryable, TransactionOptions } from './database.js';

/**
 * The code a connection attempt fails with when postgres.js has lost the ability to write to its
 * connection (see driverSocket); the statement it carried was never sent, and is retried.
 */
const STALE_WRITE = 'KRR_DRIVER_STALE_WRITE';

/** The code of a connection the silence guard closed (see driverSocket, docs/operations.md#timeouts). */
const SILENT = 'KRR_CONNECTION_SILENT';

// The driver's and the server's ways of saying "the database cannot be reached right now": the
// socket failed or was closed (the server restarted, a proxy cut it, pg_terminate_backend), the
// connect timed out, or the server is shutting down / starting (57P01..57P03) or refused the
// connection (08xxx, too many connections). They become the one StoreUnavailableError (503), here in
// one place, so every route answers 503 with the contract's body while PostgreSQL is away and serves
// again once postgres.js has reconnected, without restarting krr.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  STALE_WRITE,
]);

/** The error to throw for `err`: StoreUnavailableError when the database is out of reach. */
export function mapPostgresError(err: unknown): unknown {
  const code = codeOf(err);
  // 57014 (query_canceled): the server's statement timeout; krr cancels nothing else.
  if (code === '57014' || code === SILENT) {
    return new StoreTimeoutError(`the store did not answer in time (${code})`);
  }
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) {
    // The driver's message is not passed on: it names hosts and ports, not something a client needs.
    return new StoreUnavailableError(`the store cannot be reached (${code})`);
  }
  return err;
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

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
  readonly connectTimeoutSeconds?: number;
  /** The server's statement_timeout for every statement but long work's; 0: none. */
  readonly statementTimeoutSeconds?: number;
  /** false: `schema` is not created when missing (a read-only standby, docs/operations.md#replicas). */
  readonly createSchema?: boolean;
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const oneHost = namesOneHost(options.url);
  const connectTimeout = options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS;
  const statementTimeout = options.statementTimeoutSeconds ?? DEFAULT_STATEMENT_TIMEOUT_SECONDS;
  // Two pools (docs/operations.md#timeouts): the statements of requests and most work, each bounded
  // by the server's statement timeout, and, opened when first needed, one for long work (an
  // import's COPY, migrations) without it. A connection of the first kind that has sent something
  // and heard nothing back for longer than the server could take (the statement timeout and the
  // connect timeout's grace) is closed by the silence guard (see driverSocket): the server's timeout
  // cannot end a statement whose answers the network no longer carries.
  const newPool = (kind: 'bounded' | 'long') =>
    postgres(options.url, {
      max: kind === 'bounded' ? (options.poolSize ?? 10) : Math.min(2, options.poolSize ?? 10),
      types: { int8: int8AsNumber },
      onnotice: () => {},
      // Bounded: while the database is unreachable a request answers 503 within this, never hangs.
      connect_timeout: connectTimeout,
      // Long work is rare (imports, migrations at start): its connections do not stay open idle.
      ...(kind === 'long' ? { idle_timeout: 30 } : {}),
      // postgres.js waits before reconnecting, by default up to 20 s once a few attempts have failed;
      // a request queued meanwhile waits that long for its 503, and service comes back that much
      // after PostgreSQL does. At most 1 s keeps both short; the attempts are cheap.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
      // postgres.js takes a socket factory, though its types do not say so.
      ...(oneHost
        ? ({
            socket: (o: DriverSocketOptions) =>
              driverSocket(
                o,
                kind === 'bounded' && statementTimeout > 0 ? (statementTimeout + connectTimeout) * 1000 : 0,
              ),
          } as object)
        : {}),
      connection: {
        application_name: 'krr',
        // A startup parameter: no statement of its own. In milliseconds; 0: none. As text: the
        // driver leaves out a parameter whose value is falsy, and '0' must override a default
        // timeout the database or role may set.
        statement_timeout: String(kind === 'bounded' ? statementTimeout * 1000 : 0) as unknown as number,
        ...(options.schema ? { search_path: options.schema } : {}),
      },
    });

  // The pool in use. It is replaced when one of its connections can no longer write (STALE_WRITE,
  // see driverSocket): postgres.js cannot repair such a connection, and the pool would keep
  // handing it statements that wait for the connect timeout. The old pool finishes what it was
  // given and closes.
  let sql = newPool('bounded');
  let long: postgres.Sql | undefined;
  const bounded = () => sql;
  const longPool = () => (long ??= newPool('long'));
  const retired = new Set<Promise<void>>();
  let closing = false;
  const replace = (stale: postgres.Sql) => {
    if (closing) return;
    if (stale === sql) sql = newPool('bounded');
    else if (stale === long) long = undefined;
    else return;
    const ended: Promise<void> = stale.end().then(
      () => undefined,
      () => undefined,
    );
    retired.add(ended);
    void ended.then(() => retired.delete(ended));
  };

  /**
   * Runs `run` on the pool in use; a connection error becomes StoreUnavailableError. Retried once:
   * a STALE_WRITE, on the new pool (that statement was never sent), and a 57P01
   * (admin_shutdown) where `mayRetry` says the work did not run: postgres.js keeps the 57P01 of a
   * backend terminated in the middle of a query and raises it again on that connection's first
   * statement after it reconnects, which can be long after the database came back; that statement
   * never ran. (The outage test saw such a stray 503 after service had returned.)
   */
  async function attempt<T>(
    run: (pool: postgres.Sql) => Promise<T>,
    mayRetry: () => boolean = () => false,
    current: () => postgres.Sql = bounded,
  ): Promise<T> {
    const pool = current();
    try {
      return await run(pool);
    } catch (err) {
      const code = codeOf(err);
      if (code === STALE_WRITE) replace(pool);
      if (code === STALE_WRITE || (code === '57P01' && mayRetry())) {
        const again = current();
        try {
          return await run(again);
        } catch (second) {
          if (codeOf(second) === STALE_WRITE) replace(again);
          throw mapPostgresError(second);
        }
      }
      throw mapPostgresError(err);
    }
  }

  if (options.schema && options.createSchema !== false) {
    const schema = `"${options.schema.replace(/"/g, '""')}"`;
    await attempt((pool) => pool.unsafe(`create schema if not exists ${schema}`));
  }

  // A single statement outside a transaction is retried once on 57P01: a terminated statement is
  // rolled back with its backend. Inside a transaction only the whole transaction may be retried.
  //
  // Outside a transaction, a statement with parameters runs as a named prepared statement kept by
  // its connection: parsed and planned once, then one round trip (Bind + Execute) each time.
  // postgres.js prepares its tagged queries so by default, but not `unsafe` ones, which it sends
  // unnamed with a Describe first: two round trips and a parse and plan every time. For an audit
  // insert or a one-person lookup that was more than half the work (a one-row query on 4
  // connections: 13,500 a second against 6,000). Every text with parameters the register sends is
  // a constant of its code, so what a connection keeps is bounded. Should a table change shape
  // under a kept statement ("cached plan must not change result type"), postgres.js prepares it
  // again and retries; inside a transaction it could not, so statements there stay unnamed (the
  // write paths, whose cost is elsewhere). A pooler in transaction mode must keep prepared
  // statements (PgBouncer 1.21+ with max_prepared_statements).
  const inTransaction = (tx: postgres.TransactionSql): Queryable => ({
    async query<R extends object>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      try {
        const rows = await tx.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: false });
        return rows as unknown as R[];
      } catch (err) {
        throw mapPostgresError(err);
      }
    },
  });
  return {
    kind: 'postgres',
    async query<R extends object>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      const rows = await attempt(
        (pool) =>
          pool.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: params.length > 0 }),
        () => true,
      );
      return rows as unknown as R[];
    },
    async queryRaw(text, params = []) {
      const rows = await attempt((pool) =>
        pool.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: params.length > 0 }).raw(),
      );
      return rows;
    },
    async exec(script) {
      await attempt((pool) => pool.unsafe(script).simple());
    },
    async transaction(fn, options?: TransactionOptions) {
      // Retried only when BEGIN itself failed, before any of fn's work was sent.
      let started = false;
      return (await attempt(
        (pool) =>
          pool.begin((tx) => {
            started = true;
            return fn({
              ...inTransaction(tx),
              copyFrom: (target, data, format, options) => copyFrom(tx, target, data, format, options),
            });
          }),
        () => !started,
        options?.long ? longPool : bounded,
      )) as Awaited<ReturnType<typeof fn>>;
    },
    async listen(channel, onNotify) {
      // On the pool in use: should it be replaced, its listening connection ends with it, and the
      // caller's poll (register/register-clock.ts) still picks changes up.
      const meta = await attempt((pool) =>
        pool.listen(
          channel,
          (payload) => onNotify(payload),
          () => onNotify(undefined),
        ),
      );
      return async () => {
        await meta.unlisten().catch(() => {});
      };
    },
    async close() {
      closing = true;
      await Promise.all([sql.end({ timeout: 5 }), long?.end({ timeout: 5 })]);
      // A retired pool still running a long statement is not waited for longer than that either.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(retired),
        new Promise((resolve) => (timer = setTimeout(resolve, 5000))),
      ]);
      clearTimeout(timer);
    },
  };
}

/** COPY FROM STDIN on the transaction's connection; settles when the server has taken every row. */
async function copyFrom(
  tx: postgres.TransactionSql,
  target: string,
  data: Uint8Array | readonly Uint8Array[],
  format: 'text' | 'binary',
  options: CopyOptions = {},
): Promise<void> {
  const parts = data instanceof Uint8Array ? [data] : data;
  const query = tx.unsafe(`copy ${target} from stdin with (${copyOptions(format, options)})`);
  const stream = await query.writable();
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('finish', resolve);
    // An error the server reports after the last row fails the query, not the stream.
    query.catch(reject);
    // Each part becomes its own CopyData message (the driver copies it once, into the message).
    for (const part of parts) stream.write(part);
    stream.end();
  });
}

interface DriverSocketOptions {
  readonly host: readonly string[];
  readonly port: readonly number[];
  readonly path?: string | false;
}

/**
 * A socket with TCP_NODELAY for postgres.js, whose own sockets keep Nagle's algorithm on: a COPY's
 * last bytes (and the statement after it) then wait for the server's delayed ACK, about 40 ms
 * each time; an import spent more than half its time so (200,000 persons: the driver's COPY took
 * 6.9 s where psql, which sets TCP_NODELAY, takes 2.7 s).
 *
 * The driver puts its 'error' and 'close' handlers on a factory's socket right after it gets it
 * (one microtask later) and then writes its startup message, without calling `connect` itself.
 * So the socket is handed over unconnected and starts connecting in a microtask queued here: that
 * runs in the same microtask checkpoint as the driver's continuation, before any process.nextTick
 * or I/O callback of this socket, so every connection error (also one Node raises at once, as a
 * refused connection during an outage) reaches the driver's handlers, which reconnect as they do
 * with their own sockets. (An earlier factory returned a socket already connecting: its error
 * could be emitted from a nextTick before the handlers were on, and killed the process.) The
 * driver's connect timeout starts after the factory returns and applies unchanged.
 *
 * It also watches for a fault of postgres.js 3.4.9 that no option avoids. The driver gathers a
 * connection's small writes and sends them from a setImmediate; when the connection's socket
 * closes while such a send is pending, it cancels the send but keeps the cancelled handle, so it
 * never schedules one again, and keeps the unsent bytes. Every later session on that connection
 * then sends nothing (or, once the kept bytes pass 1 KB, the dead session's statement ahead of its
 * startup message) and ends in CONNECT_TIMEOUT, long after the database is back: in the outage
 * test, where many sockets close at once and the statements their failures set off land on
 * connections whose close is next in line, one request in five seconds failed so after the
 * restore. A healthy connection has written its first message (startup, SSL or cancel request)
 * before its socket connects; this socket fails with STALE_WRITE when that has not happened one
 * turn of the event loop after connecting, or when the first bytes are not such a message. The
 * statement the attempt carried was never sent; the store retries it on a new pool.
 *
 * With `silenceMs` (the bounded pool's sockets), it is also the silence guard
 * (docs/operations.md#timeouts): once something has been written, an answer must begin within
 * `silenceMs`, and an answer that has begun must go on (each part within `silenceMs` of the last)
 * until it ends with ReadyForQuery. Otherwise the socket is destroyed with SILENT and the driver
 * fails what it carried. The server's statement timeout ends every statement well within that, so
 * only a network that no longer carries the answer trips it; TCP keepalive would not (a proxy or a
 * half-dead peer still acknowledges its probes, and Node 20 sets only its idle time). Under TLS
 * (sslmode) the driver takes the socket's reads over and its bytes cannot be read here: the guard
 * is off there, and the connection is left to TCP keepalive. An answer pipelined behind one that
 * has just ended is not waited for either (the guard cannot count them).
 *
 * And it tells the driver of a failed socket's error and of its close at once, the error right
 * before the close. Node emits the error first and the close a turn of the event loop later;
 * meanwhile the driver's pool still counts the connection as open and hands it the next statement
 * (a request's, or the store's own retry of the statement that just failed), which it queues
 * behind the failed one, and on the close fails nothing more: that statement waited until the
 * connection was next used, or forever (docs/operations.md#after-an-outage).
 *
 * Only for one host (see namesOneHost): with several, the driver's own sockets try them in turn.
 */
function driverSocket(options: DriverSocketOptions, silenceMs = 0): Socket {
  const socket = new Socket();
  socket.setNoDelay(true); // Node applies it once the socket has connected
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  let failure: { readonly error: unknown } | undefined;
  socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error') {
      failure ??= { error: args[0] };
      return true;
    }
    if (event === 'close' && failure) {
      const { error } = failure;
      failure = undefined;
      emit('error', error);
      return emit('close', true);
    }
    return emit(event, ...args);
  } as Socket['emit'];
  let wrote = false;
  let encrypted = false;
  let silence: NodeJS.Timeout | undefined;
  const silent = () =>
    socket.destroy(
      Object.assign(new Error(`no answer from the database within ${silenceMs} ms`), { code: SILENT }),
    );
  const watchWrites = () => {
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = function (this: Socket, ...args: unknown[]): boolean {
      if (!wrote) {
        wrote = true;
        if (!opensSession(args[0])) {
          socket.destroy(staleWrite('its first bytes were left over from a closed session'));
          return false;
        }
        encrypted = isSslRequest(args[0]);
      }
      if (silenceMs > 0 && !encrypted && !silence) silence = setTimeout(silent, silenceMs);
      return write(...args);
    };
  };
  if (silenceMs > 0) {
    // Before the driver's own listener: a Buffer the driver keeps is not changed here.
    socket.on('data', (data: Buffer) => {
      if (!silence) return; // a notification on an idle connection
      clearTimeout(silence);
      silence = encrypted || endsWithReadyForQuery(data) ? undefined : setTimeout(silent, silenceMs);
    });
    socket.once('close', () => clearTimeout(silence));
  }
  // (With sslnegotiation=direct the driver hands the socket to TLS at once and removes every
  // listener, this one too: TLS's own writes do not pass through `write`.)
  socket.once('connect', () =>
    setImmediate(() => {
      if (!wrote && !socket.destroyed) socket.destroy(staleWrite('nothing was written to it'));
    }),
  );
  queueMicrotask(() => {
    try {
      if (options.path) socket.connect(options.path);
      else socket.connect(options.port[0] ?? 5432, options.host[0]!);
      // After connect(), which puts Socket.prototype.write back on the socket.
      watchWrites();
    } catch (err) {
      socket.destroy(err as Error); // emitted on a later tick, to the driver's handlers
    }
  });
  return socket;
}

function staleWrite(why: string): Error {
  return Object.assign(new Error(`postgres.js cannot write to this connection: ${why}`), {
    code: STALE_WRITE,
  });
}

// What a session's first message says (after its length): protocol 3.0 or 3.2 startup,
// SSLRequest, CancelRequest, GSSENCRequest.
const SESSION_OPENERS = new Set([196608, 196610, 80877103, 80877102, 80877104]);

function isSslRequest(data: unknown): boolean {
  return (
    data instanceof Uint8Array &&
    data.length >= 8 &&
    Buffer.from(data.buffer, data.byteOffset, 8).readInt32BE(4) === 80877103
  );
}

/**
 * Whether `data` ends with a ReadyForQuery message ('Z', length 5, the transaction status): the
 * answer to everything sent so far is complete. (Bytes of a row that happen to look so end the
 * guard's wait early: it then protects less, never closes a working connection.)
 */
function endsWithReadyForQuery(data: Buffer): boolean {
  const n = data.length;
  return (
    n >= 6 &&
    data[n - 6] === 0x5a &&
    data.readInt32BE(n - 5) === 5 &&
    (data[n - 1] === 0x49 || data[n - 1] === 0x54 || data[n - 1] === 0x45)
  );
}

/** Whether `data` begins with the message a new session begins with. */
function opensSession(data: unknown): boolean {
  if (!(data instanceof Uint8Array) || data.length < 8) return false;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const length = bytes.readInt32BE(0);
  return length >= 8 && length <= bytes.length && SESSION_OPENERS.has(bytes.readInt32BE(4));
}

/** Whether the URL (or, without a host in it, PGHOST) names one host, as postgres.js reads them. */
export function namesOneHost(url: string): boolean {
  const authority = /^[a-z]+:\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(url)?.[1] ?? '';
  return !(authority || process.env.PGHOST || '').includes(',');
}
