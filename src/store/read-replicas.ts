// PostgreSQL streaming replicas for reads (docs/operations.md#replicas). Lookups, the person
// endpoint and export read through a Database that sends each single statement to a replica that
// is known to be fresh, else to the primary; writes, transactions and LISTEN always go to the
// primary, as does everything else krr does.
//
// Freshness is measured, not assumed. Every checkIntervalMs the primary's WAL position
// (pg_current_wal_lsn) is sampled, and the time just before asking for it noted; then each replica
// is asked how far it has replayed (pg_last_wal_replay_lsn). A replica whose replay position is at
// or past a sample taken at time t has every transaction that committed before t (a commit returns
// once its WAL is written, so the position asked for after it is past it). Its staleness at any
// later moment is at most (now - t): that is its lag in seconds, and a statement goes to it only
// while that lag is within maxLagSeconds, judged when the statement is sent. A replica whose
// checks stop (unreachable, hung) thus ages out by itself within the bound. While the primary
// cannot be sampled no replica is known fresh, and reads go to the primary.
//
// A statement that fails on a replica because the replica is out of reach, or because recovery
// cancelled it (a conflict with the WAL being replayed, max_standby_streaming_delay), runs again on
// the primary; an unreachable replica is passed over until its next check succeeds. So a replica
// going away fails no request.
//
// Nothing here logs or labels a URL: replicas are known by their index in the configured list.

import { StoreUnavailableError } from '../errors/errors.js';
import type { Database, StoreTransaction, TransactionOptions } from './database.js';
import { openPostgres } from './postgres.database.js';
import type { PostgresOptions } from './postgres.database.js';

/** Default bound of a replica's lag (docs/operations.md#replicas): a write is seen everywhere within 1 s. */
export const DEFAULT_MAX_REPLICA_LAG_SECONDS = 1;
/** How often the primary and the replicas are asked for their WAL positions. */
export const DEFAULT_REPLICA_CHECK_MS = 250;

/**
 * SQLSTATEs of a statement a standby cancelled for a conflict with recovery: 40001 (snapshot,
 * lock, tablespace conflicts), 40P01 (a buffer pin deadlock with the startup process), 57P04 (the
 * database being dropped on the primary). On a read-only standby a plain read gets them for no
 * other reason.
 */
const RECOVERY_CONFLICT_CODES = new Set(['40001', '40P01', '57P04']);

export interface ReplicaStatus {
  /** The replica's place in the configured list (the metrics' label). */
  readonly index: number;
  /** Its last check succeeded (and it is a standby). */
  readonly reachable: boolean;
  /** Statements are sent to it now: reachable, and its lag is within the bound. */
  readonly healthy: boolean;
  /** Seconds it may be behind the primary (see above); undefined until it was first seen fresh. */
  readonly lagSeconds: number | undefined;
  /** Bytes of WAL it had not replayed at its last check; undefined until checked. */
  readonly lagBytes: number | undefined;
}

export interface ReplicaSetOptions {
  readonly maxLagSeconds?: number;
  readonly checkIntervalMs?: number;
  /** Called once when a replica stops or starts being used (index and why; never its URL). */
  readonly onChange?: (index: number, healthy: boolean, why: string) => void;
}

interface Replica {
  readonly index: number;
  readonly db: Database;
  /** The db statements are sent through (the metrics' observed one, see `router`). */
  reads: Database;
  reachable: boolean;
  /** performance.now() of the newest primary sample this replica had replayed; -Infinity: none. */
  freshAsOf: number;
  lagBytes: number | undefined;
  checking: boolean;
  /** What onChange was last told. */
  announced: boolean | undefined;
}

interface Sample {
  readonly at: number;
  readonly lsn: bigint;
}

/** A WAL position 'X/Y' (hex) as a number of bytes. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(text);
  if (!match) throw new Error('not a WAL position');
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export class ReplicaSet {
  private readonly replicas: Replica[];
  private readonly samples: Sample[] = [];
  private readonly maxLagMs: number;
  private readonly checkMs: number;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private closed = false;
  private next = 0;

  private constructor(
    private readonly primary: Database,
    dbs: readonly Database[],
    private readonly options: ReplicaSetOptions,
  ) {
    this.maxLagMs = (options.maxLagSeconds ?? DEFAULT_MAX_REPLICA_LAG_SECONDS) * 1000;
    this.checkMs = options.checkIntervalMs ?? DEFAULT_REPLICA_CHECK_MS;
    this.replicas = dbs.map((db, index) => ({
      index,
      db,
      reads: db,
      reachable: false,
      freshAsOf: -Infinity,
      lagBytes: undefined,
      checking: false,
      announced: undefined,
    }));
  }

  /**
   * Opens a pool to each replica (with the primary's schema and timeouts) and starts checking
   * them. `primary` is the store's own connection; it is only asked for its WAL position here.
   * A replica that cannot be reached at start is no error: it is used once it answers.
   */
  static async open(
    primary: Database,
    urls: readonly string[],
    connection: Omit<PostgresOptions, 'url'>,
    options: ReplicaSetOptions = {},
  ): Promise<ReplicaSet> {
    const dbs: Database[] = [];
    try {
      for (const url of urls) dbs.push(await openPostgres({ ...connection, url, createSchema: false }));
    } catch (err) {
      await Promise.all(dbs.map((db) => db.close()));
      throw err;
    }
    const set = new ReplicaSet(primary, dbs, options);
    // A first check, so that fresh replicas serve from the start; not waited for longer than a
    // moment: a replica out of reach (its connect timeout) must not hold the start up.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([set.check(), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    set.schedule();
    return set;
  }

  get size(): number {
    return this.replicas.length;
  }

  status(now = performance.now()): ReplicaStatus[] {
    return this.replicas.map((r) => ({
      index: r.index,
      reachable: r.reachable,
      healthy: this.usable(r, now),
      lagSeconds: r.freshAsOf === -Infinity ? undefined : Math.max(0, now - r.freshAsOf) / 1000,
      lagBytes: r.lagBytes,
    }));
  }

  /** Checks the replicas now (the background checks do so every checkIntervalMs). */
  async check(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    let sample: Sample;
    try {
      const at = performance.now();
      const [row] = await this.primary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
      sample = { at, lsn: parseLsn(row!.lsn) };
    } catch {
      return; // the primary is away: no replica can be shown fresh (see above)
    } finally {
      this.sampling = false;
    }
    this.samples.push(sample);
    // A sample older than the bound can no longer make a replica usable; a few more are kept so
    // that the lag shown can grow past the bound before it is only "older than the oldest sample".
    const keepAfter = sample.at - Math.max(10_000, 4 * this.maxLagMs);
    while (this.samples.length > 1 && this.samples[0]!.at < keepAfter) this.samples.shift();
    await Promise.all(this.replicas.map((r) => this.checkReplica(r, sample)));
  }

  private async checkReplica(r: Replica, latest: Sample): Promise<void> {
    if (r.checking) return; // the last check has not come back: the replica ages meanwhile
    r.checking = true;
    try {
      const [row] = await r.db.query<{ lsn: string | null; recovery: boolean }>(
        'select pg_last_wal_replay_lsn()::text as lsn, pg_is_in_recovery() as recovery',
      );
      if (!row?.recovery || row.lsn === null) {
        // Not a standby (a primary given as a read database): its position says nothing.
        r.reachable = false;
        this.announce(r, 'it is not a streaming standby');
        return;
      }
      const replayed = parseLsn(row.lsn);
      r.lagBytes = latest.lsn > replayed ? Number(latest.lsn - replayed) : 0;
      for (let i = this.samples.length - 1; i >= 0; i--) {
        const s = this.samples[i]!;
        if (s.lsn <= replayed) {
          if (s.at > r.freshAsOf) r.freshAsOf = s.at;
          break;
        }
      }
      r.reachable = true;
      this.announce(r, 'its lag is beyond the bound');
    } catch {
      r.reachable = false;
      this.announce(r, 'it cannot be reached');
    } finally {
      r.checking = false;
    }
  }

  private announce(r: Replica, whyNot: string): void {
    const healthy = this.usable(r, performance.now());
    if (r.announced === healthy) return;
    r.announced = healthy;
    this.options.onChange?.(r.index, healthy, healthy ? 'it is fresh' : whyNot);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, this.checkMs);
    this.timer.unref();
  }

  private usable(r: Replica, now: number): boolean {
    return r.reachable && now - r.freshAsOf <= this.maxLagMs;
  }

  /** A fresh replica, in turn; undefined: none (read from the primary). */
  private pick(): Replica | undefined {
    const now = performance.now();
    const n = this.replicas.length;
    for (let k = 0; k < n; k++) {
      const r = this.replicas[(this.next + k) % n]!;
      if (this.usable(r, now)) {
        this.next = (r.index + 1) % n;
        return r;
      }
    }
    return undefined;
  }

  /**
   * A Database for reads: `query` and `queryRaw` go to a fresh replica, else to `primary` (the
   * store as the app uses it, e.g. observed for the metrics); everything else goes to `primary`.
   * `wrap` is given each replica's pool once (the metrics observe it under its own role).
   */
  router(primary: Database, wrap: (db: Database, index: number) => Database = (db) => db): Database {
    for (const r of this.replicas) r.reads = wrap(r.db, r.index);
    const routed = async <T>(run: (db: Database) => Promise<T>): Promise<T> => {
      const r = this.pick();
      if (!r) return run(primary);
      try {
        return await run(r.reads);
      } catch (err) {
        if (err instanceof StoreUnavailableError) {
          r.reachable = false;
          this.announce(r, 'a statement could not reach it');
        } else if (!RECOVERY_CONFLICT_CODES.has(String((err as { code?: unknown }).code))) {
          throw err;
        }
        return run(primary);
      }
    };
    return {
      kind: primary.kind,
      query: (text, params) => routed((db) => db.query(text, params)),
      queryRaw: (text, params) => routed((db) => db.queryRaw(text, params)),
      exec: (script) => primary.exec(script),
      transaction<T>(fn: (tx: StoreTransaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
        return primary.transaction(fn, options);
      },
      ...(primary.listen ? { listen: primary.listen.bind(primary) } : {}),
      // The router owns nothing: the store and the replica set are closed by their owners.
      close: () => Promise.resolve(),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.all(this.replicas.map((r) => r.db.close()));
  }
}
