// Runs the register's jobs (docs/jobs.md): in `krr serve` and in `krr jobs run`, in any number of
// krr processes on one store. Each looks every few seconds for a due job and runs it under a
// lease in the store, so that a job runs in one place at a time; a killed process's lease runs
// out and another process takes the job over (docs/jobs.md#one-place-at-a-time).

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { KrrError } from '../errors/errors.js';
import type { Database } from '../store/database.js';
import type { Clock } from '../time/clock.js';
import type { Job, JobLog } from './job.js';
import { JobsRepository } from './jobs.repository.js';
import type { JobLease, JobRun, RunOutcome } from './jobs.repository.js';

/** The register's clock as the runner reads it: now, and a version that grows when it is moved. */
export interface VersionedClock extends Clock {
  version(): number;
}

export interface JobsRunnerOptions {
  readonly db: Database;
  readonly clock: VersionedClock;
  readonly jobs: readonly Job[];
  readonly log: JobLog;
  /** How often to look for a due job; default 5 s. */
  readonly pollMs?: number;
  /** How long a lease lasts unless renewed; default 30 s. Renewed every third of it. */
  readonly leaseMs?: number;
  /** The wait before a failed run is tried again (at most the job's interval); default 5 minutes. */
  readonly retryMs?: number;
  /** Names this process in the store; default `host:pid:random`. */
  readonly holder?: string;
  /** The real clock (tests). */
  readonly realNow?: () => number;
}

/** What one attempt to run a job came to. */
export type RunResult =
  | {
      readonly job: string;
      readonly outcome: Exclude<RunOutcome, 'running' | 'abandoned'>;
      readonly runId: number;
    }
  /** Another process holds the job's lease. */
  | { readonly job: string; readonly outcome: 'elsewhere' };

/** A job's state, for `krr jobs status` and the health endpoint. */
export interface JobState {
  readonly name: string;
  readonly description: string;
  readonly intervalMs: number;
  readonly lease: JobLease | undefined;
  readonly last: JobRun | undefined;
}

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_POLL_MS = 5_000;
const DEFAULT_RETRY_MS = 5 * 60_000;

/**
 * A run's error as the store and the log keep it: a typed error's message (which never holds
 * personal data, errors/errors.ts), else only the error's type (a driver's message can quote a
 * row's values).
 */
export function safeJobError(err: unknown): string {
  if (err instanceof KrrError) return `${err.code}: ${err.message}`;
  const name = (err as { name?: unknown } | null)?.name;
  return `unexpected error (${typeof name === 'string' && /^\w{1,40}$/.test(name) ? name : 'unknown'})`;
}

export function defaultHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export class JobsRunner {
  readonly holder: string;
  private readonly repository: JobsRepository;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly retryMs: number;
  private readonly realNow: () => number;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> | undefined;
  private again = false;

  constructor(private readonly options: JobsRunnerOptions) {
    const names = new Set<string>();
    for (const job of options.jobs) {
      if (!/^[a-z][a-z-]*$/.test(job.name)) throw new Error(`a job's name must be [a-z-]+: ${job.name}`);
      if (names.has(job.name)) throw new Error(`two jobs named ${job.name}`);
      names.add(job.name);
    }
    this.holder = options.holder ?? defaultHolder();
    this.repository = new JobsRepository(options.db);
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    this.realNow = options.realNow ?? Date.now;
  }

  get jobs(): readonly Job[] {
    return this.options.jobs;
  }

  /** Looks for due jobs now and then every pollMs, until stop(). */
  start(): void {
    if (this.timer || this.stopping.signal.aborted) return;
    this.options.log.info({ jobs: this.options.jobs.map((j) => j.name) }, 'jobs: running');
    this.timer = setInterval(() => this.poke(), this.pollMs);
    this.timer.unref();
    this.poke();
  }

  /** Looks for due jobs now (a round in progress is followed by another). */
  poke(): void {
    if (this.stopping.signal.aborted) return;
    if (this.round) {
      this.again = true;
      return;
    }
    this.round = this.runDue()
      .catch((err: unknown) => {
        // The store is away, say: the next poll tries again.
        this.options.log.warn({ error: safeJobError(err) }, 'jobs: could not look for due jobs');
      })
      .finally(() => {
        this.round = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** Runs each due job whose lease it gets, one after the other. */
  async runDue(): Promise<RunResult[]> {
    const results: RunResult[] = [];
    const latest = new Map((await this.repository.latest()).map((r) => [r.job, r]));
    for (const job of this.options.jobs) {
      if (this.stopping.signal.aborted) break;
      if (!this.isDue(job, latest.get(job.name))) continue;
      results.push(await this.runNow(job.name));
    }
    return results;
  }

  /**
   * Due: never run; or its last run ended its interval ago (a failed one: its retry wait, an
   * abandoned one: at once); or the register's clock was moved since the last run started
   * (docs/jobs.md#schedule). A run marked running is another process's (or a killed one's,
   * which the lease decides).
   */
  isDue(job: Job, last: JobRun | undefined): boolean {
    if (!last) return true;
    if (last.outcome === 'running' || last.outcome === 'abandoned') return true; // the lease decides
    if (last.clockVersion !== this.options.clock.version()) return true;
    const wait = last.outcome === 'failed' ? Math.min(this.retryMs, job.intervalMs) : job.intervalMs;
    return (last.endedAt?.getTime() ?? 0) + wait <= this.realNow();
  }

  /** Runs `name` now, if no other process holds its lease. */
  async runNow(name: string): Promise<RunResult> {
    const job = this.options.jobs.find((j) => j.name === name);
    if (!job) throw new Error(`no job named ${name}`);
    if (!(await this.repository.acquire(job.name, this.holder, this.leaseMs))) {
      return { job: job.name, outcome: 'elsewhere' };
    }
    const { clock, db, log } = this.options;
    const counts: Record<string, number> = {};
    const ended = new AbortController();
    const onStop = () => ended.abort();
    this.stopping.signal.addEventListener('abort', onStop);
    let holds = true;
    let runId: number | undefined;
    let renewing: Promise<void> | undefined;
    // Renewed a third of the lease before it runs out, with the counts so far; a lost lease
    // (the store away too long, a paused process) stops the run.
    const renewal = setInterval(() => {
      renewing ??= (async () => {
        try {
          holds = await this.repository.renew(job.name, this.holder, this.leaseMs);
          if (holds && runId !== undefined) await this.repository.progress(runId, counts);
        } catch {
          // The store is away: the lease may still hold; the next renewal tells.
        }
        if (!holds) ended.abort();
      })().finally(() => (renewing = undefined));
    }, this.leaseMs / 3);
    renewal.unref();
    const started = this.realNow();
    try {
      runId = await this.repository.start(job.name, this.holder, clock.now(), clock.version());
      log.info({ job: job.name, run: runId }, 'jobs: run started');
      let outcome: Exclude<RunOutcome, 'running' | 'abandoned'> = 'ok';
      let error: string | null = null;
      try {
        await job.run({
          db,
          clock,
          log,
          signal: ended.signal,
          count: (key, n = 1) => {
            counts[key] = (counts[key] ?? 0) + n;
          },
          stillHolds: () => holds,
        });
        if (ended.signal.aborted) outcome = 'stopped';
      } catch (err) {
        outcome = ended.signal.aborted ? 'stopped' : 'failed';
        error = safeJobError(err);
      }
      if (!holds) error ??= 'the lease was lost';
      clearInterval(renewal);
      await renewing;
      await this.repository.finish(runId, outcome, counts, error);
      const logged = { job: job.name, run: runId, outcome, counts, ms: this.realNow() - started };
      if (outcome === 'failed') log.warn({ ...logged, error }, 'jobs: run failed');
      else log.info(logged, 'jobs: run ended');
      return { job: job.name, outcome, runId };
    } finally {
      clearInterval(renewal);
      await renewing;
      this.stopping.signal.removeEventListener('abort', onStop);
      await this.repository.release(job.name, this.holder).catch(() => {
        // The store is away: the lease runs out by itself.
      });
    }
  }

  /** Each job's lease and last run. */
  async states(): Promise<JobState[]> {
    return jobStates(this.options.db, this.options.jobs);
  }

  /** Stops looking for jobs and stops the run in progress at its next safe point. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }
}

/** Each of `jobs`' lease and last run, as the store holds them (any process's). */
export async function jobStates(db: Database, jobs: readonly Job[]): Promise<JobState[]> {
  const repository = new JobsRepository(db);
  const [latest, leases] = await Promise.all([repository.latest(), repository.leases()]);
  return jobs.map((j) => ({
    name: j.name,
    description: j.description,
    intervalMs: j.intervalMs,
    lease: leases.find((l) => l.name === j.name),
    last: latest.find((r) => r.job === j.name),
  }));
}
