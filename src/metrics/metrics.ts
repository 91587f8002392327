// The app's metrics (docs/operations.md#metrics): one prom-client registry per app, so several apps
// in one process (the tests) never share or collide on a metric. The features know nothing of
// prom-client: they count in plain numbers (the lookup's and the cache's stats(), the audit batch's
// depth) or call a small observer (the store, the audit batch), and the collectors here read them
// when Prometheus scrapes. What the store holds (the outbox, the jobs' runs, the sync cursors) is
// read at scrape time too, by one set of cheap statements whose result is kept a few seconds.
//
// No label or value holds an identifier, an address, a token or a raw URL: routes are fastify's
// patterns (`/rest/v1/personer`), a request that matched none is `unmatched`, and the store's
// observer is told the kind of an operation, never its SQL or parameters.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditBatchObserver } from '../audit/audit.batch.js';
import type { JobRun, RunOutcome } from '../jobs/jobs.repository.js';
import type { LookupCacheStats } from '../lookup/lookup.cache.js';
import type { LookupStats } from '../lookup/lookup.service.js';
import type { DatabaseObserver, StoreOperation } from '../store/observed.database.js';
import type { ReplicaStatus } from '../store/read-replicas.js';

/** The route label of a request that matched no route (a path may hold anything, an identifier too). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export const RUN_OUTCOMES: readonly RunOutcome[] = ['running', 'ok', 'failed', 'stopped', 'abandoned'];

/** What the store holds that the metrics show, read at scrape time. */
export interface StoreReadings {
  readonly outbox: { readonly pending: number; readonly failed: number };
  /** The newest run of each job. */
  readonly latestRuns: readonly JobRun[];
  /** Runs kept of each job, by outcome. */
  readonly runCounts: readonly { readonly job: string; readonly outcome: string; readonly runs: number }[];
  readonly syncCursors: readonly { readonly source: string; readonly cursor: number }[];
  /** `krr folkeregister sync`'s position (undefined: never run) and its conflicts for the operator. */
  readonly folkeregister: { readonly position: number | undefined; readonly conflicts: number };
}

/** The in-process counts the collectors read at scrape time; each is optional (absent: not shown). */
export interface WatchedSources {
  lookup?: () => LookupStats;
  lookupCache?: () => LookupCacheStats;
  auditDepth?: () => number;
  /** The read replicas' state (docs/operations.md#replicas). */
  replicas?: () => readonly ReplicaStatus[];
}

export interface StoreSource {
  /** The store's readings; called at most once per `storeReadMs` (concurrent scrapes share one). */
  readonly read: () => Promise<StoreReadings>;
  readonly storeReadMs: number;
}

/** Latencies from a cached lookup (well below a millisecond) to a slow bulk one. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A counter whose value is a total kept elsewhere (a feature's stats()): set to it at each
 * scrape. The totals only grow, so it is a counter as Prometheus means it.
 */
function totalCounter(registry: Registry, name: string, help: string, read: () => number | undefined) {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const value = read();
      this.reset();
      if (value !== undefined) this.inc(value);
    },
  });
}

export class AppMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly requestSeconds: Histogram<'method' | 'route' | 'status'>;
  private readonly dbSeconds: Histogram<'role' | 'replica' | 'operation'>;
  private readonly dbFailures: Counter<'role' | 'replica' | 'operation'>;
  private readonly dbInFlight: Gauge<'role' | 'replica'>;
  private readonly auditWrites: Histogram;
  private readonly auditEntries: Counter;
  private readonly auditFailures: Counter;
  private readings: { at: number; value: Promise<StoreReadings | undefined> } | undefined;
  private readonly sources: WatchedSources = {};

  constructor(private readonly store?: StoreSource) {
    const sources = this.sources;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    this.requests = new Counter({
      name: 'krr_http_requests_total',
      help: "HTTP requests answered, by method, route pattern ('unmatched': no route) and status",
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'krr_http_request_duration_seconds',
      help: 'Time from a request to its answer, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });

    totalCounter(
      this.registry,
      'krr_lookups_total',
      'Lookups answered (200)',
      () => sources.lookup?.().lookups,
    );
    totalCounter(
      this.registry,
      'krr_lookup_persons_answered_total',
      'Persons in the answers of lookups (each identifier once per lookup)',
      () => sources.lookup?.().personsAnswered,
    );
    totalCounter(
      this.registry,
      'krr_lookup_cache_hits_total',
      'Persons asked for that the lookup cache answered',
      () => sources.lookupCache?.().hits,
    );
    totalCounter(
      this.registry,
      'krr_lookup_cache_misses_total',
      'Persons asked for that the lookup cache read from the store',
      () => sources.lookupCache?.().misses,
    );
    const cacheGauge = (name: string, help: string, read: (s: LookupCacheStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.reset();
          const stats = sources.lookupCache?.();
          if (stats) this.set(read(stats));
        },
      });
    cacheGauge('krr_lookup_cache_bytes', 'Bytes the lookup cache holds against its bound', (s) => s.bytes);
    cacheGauge(
      'krr_lookup_cache_answer_bytes',
      'Bytes of the answers the lookup cache holds (without its headers, index and unused room)',
      (s) => s.answerBytes,
    );
    cacheGauge('krr_lookup_cache_entries', 'Persons the lookup cache holds', (s) => s.entries);

    this.dbSeconds = new Histogram({
      name: 'krr_db_operation_duration_seconds',
      help: "Time of the store's operations (query, raw, exec, transaction), by store role (primary, replica and its index)",
      labelNames: ['role', 'replica', 'operation'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.dbFailures = new Counter({
      name: 'krr_db_operation_failures_total',
      help: "The store's operations that failed, by store role",
      labelNames: ['role', 'replica', 'operation'],
      registers,
    });
    this.dbInFlight = new Gauge({
      name: 'krr_db_operations_in_flight',
      help: "The store's operations running or waiting for a connection (pool use), by store role",
      labelNames: ['role', 'replica'],
      registers,
    });
    // The read replicas, by their index in the configured list (never a URL).
    const replicaGauge = (name: string, help: string, read: (s: ReplicaStatus) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['replica'],
        registers,
        collect() {
          this.reset();
          for (const status of sources.replicas?.() ?? []) {
            const value = read(status);
            if (value !== undefined) this.set({ replica: String(status.index) }, value);
          }
        },
      });
    replicaGauge(
      'krr_db_replica_healthy',
      '1 while reads are sent to the replica (reachable, lag within the bound), else 0',
      (s) => (s.healthy ? 1 : 0),
    );
    replicaGauge(
      'krr_db_replica_lag_seconds',
      'How far the replica may be behind the primary: seconds since a primary WAL position it had replayed was sampled',
      (s) => s.lagSeconds,
    );
    replicaGauge(
      'krr_db_replica_lag_bytes',
      "Bytes of the primary's WAL the replica had not replayed at its last check",
      (s) => s.lagBytes,
    );

    new Gauge({
      name: 'krr_audit_queue_depth',
      help: 'Audit entries waiting for their insert',
      registers,
      collect() {
        this.reset();
        const depth = sources.auditDepth?.();
        if (depth !== undefined) this.set(depth);
      },
    });
    this.auditWrites = new Histogram({
      name: 'krr_audit_write_duration_seconds',
      help: 'Time of one audit insert (a batch of entries)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.auditEntries = new Counter({
      name: 'krr_audit_entries_written_total',
      help: 'Audit entries written',
      registers,
    });
    this.auditFailures = new Counter({
      name: 'krr_audit_write_failures_total',
      help: 'Audit inserts that failed (their lookups failed with them)',
      registers,
    });

    this.storeGauges();
  }

  /** Adds in-process sources (the features are made after the registry). */
  watch(sources: WatchedSources): void {
    Object.assign(this.sources, sources);
  }

  /** Counts one answered request; `route` is the pattern, undefined when none matched. */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    const labels = {
      method: METHODS.has(method) ? method : 'other',
      route: route ?? UNMATCHED_ROUTE,
      status: String(status),
    };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, seconds);
  }

  /** The observer for one store, by its role (`primary`, `replica` with the replica's index). */
  databaseObserver(role: 'primary' | 'replica', replica?: string): DatabaseObserver {
    const labels = replica === undefined ? { role } : { role, replica };
    const inFlight = this.dbInFlight.labels(labels);
    inFlight.set(0);
    return {
      started: () => inFlight.inc(),
      finished: (operation: StoreOperation, seconds: number, ok: boolean) => {
        inFlight.dec();
        this.dbSeconds.observe({ ...labels, operation }, seconds);
        if (!ok) this.dbFailures.inc({ ...labels, operation });
      },
    };
  }

  readonly auditObserver: AuditBatchObserver = {
    written: (entries, seconds, ok) => {
      this.auditWrites.observe(seconds);
      if (ok) this.auditEntries.inc(entries);
      else this.auditFailures.inc();
    },
  };

  /** The text Prometheus scrapes. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * The store's readings, read again once `storeReadMs` has passed; a failed read is no value
   * (the gauges are absent and krr_metrics_store_read_ok is 0) rather than a failed scrape.
   */
  private storeReadings(): Promise<StoreReadings | undefined> {
    const store = this.store;
    if (!store) return Promise.resolve(undefined);
    const now = Date.now();
    if (this.readings === undefined || now - this.readings.at >= store.storeReadMs) {
      this.readings = { at: now, value: store.read().catch(() => undefined) };
    }
    return this.readings.value;
  }

  private storeGauges(): void {
    const registers = [this.registry];
    const readings = () => this.storeReadings();
    const readsStore = this.store !== undefined;
    const fromStore = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (gauge: Gauge<L>, r: StoreReadings) => void,
    ) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const r = await readings();
          this.reset();
          if (r) fill(this, r);
        },
      });
    new Gauge({
      name: 'krr_metrics_store_read_ok',
      help: "1 when the scrape's reading of the store (outbox, jobs, sync) succeeded, else 0",
      registers,
      async collect() {
        if (!readsStore) return;
        this.set((await readings()) ? 1 : 0);
      },
    });
    // A label even for these two: a gauge without labels always shows a value (0), and a failed
    // reading must show none.
    fromStore(
      'krr_outbox_messages',
      "Outbox messages by state: 'pending' (neither delivered nor given up), 'failed' (given up, failed_at set, and kept)",
      ['state'],
      (g, r) => {
        g.set({ state: 'pending' }, r.outbox.pending);
        g.set({ state: 'failed' }, r.outbox.failed);
      },
    );
    fromStore(
      'krr_job_last_run_start_timestamp_seconds',
      "When each job's newest run started (Unix time)",
      ['job'],
      (g, r) => {
        for (const run of r.latestRuns) g.set({ job: run.job }, run.startedAt.getTime() / 1000);
      },
    );
    fromStore(
      'krr_job_last_run_end_timestamp_seconds',
      "When each job's newest run ended (Unix time); absent while it runs",
      ['job'],
      (g, r) => {
        for (const run of r.latestRuns)
          if (run.endedAt) g.set({ job: run.job }, run.endedAt.getTime() / 1000);
      },
    );
    fromStore(
      'krr_job_last_run_outcome',
      "1 for the outcome of each job's newest run, 0 for the other outcomes",
      ['job', 'outcome'],
      (g, r) => {
        for (const run of r.latestRuns)
          for (const outcome of RUN_OUTCOMES)
            g.set({ job: run.job, outcome }, run.outcome === outcome ? 1 : 0);
      },
    );
    fromStore(
      'krr_job_runs',
      'Runs the store keeps of each job (its newest ones), by outcome',
      ['job', 'outcome'],
      (g, r) => {
        for (const c of r.runCounts) g.set({ job: c.job, outcome: c.outcome }, c.runs);
      },
    );
    fromStore(
      'krr_sync_cursor',
      'The last change id committed from each source that krr sync followed into this store',
      ['source'],
      (g, r) => {
        for (const c of r.syncCursors) g.set({ source: c.source }, c.cursor);
      },
    );
    fromStore(
      'krr_folkeregister_position',
      "The last sequence number of Folkeregisteret's event list applied to this store",
      [],
      (g, r) => {
        if (r.folkeregister.position !== undefined) g.set(r.folkeregister.position);
      },
    );
    fromStore(
      'krr_folkeregister_conflicts',
      'New identifiers from Folkeregisteret that were not applied and wait for the operator',
      [],
      (g, r) => g.set(r.folkeregister.conflicts),
    );
  }
}
