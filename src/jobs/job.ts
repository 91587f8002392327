// The register's own jobs (docs/jobs.md): work the register does by itself, on a schedule, in
// whichever krr process on the store gets to it first. A job is a plain object; the runner
// (jobs.runner.ts) decides when and where it runs, holds its lease, and records each run.

import type { Database } from '../store/database.js';
import type { Clock } from '../time/clock.js';

/** What a job logs with (pino's and fastify's loggers are such). Never personal data. */
export interface JobLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What the runner hands a job for one run. */
export interface JobContext {
  readonly db: Database;
  /**
   * The register's clock (docs/testdata.md#the-clock): what the job's rules read ("16 months
   * old", "older than 7 days"), so that the test-data clock drives them.
   */
  readonly clock: Clock;
  readonly log: JobLog;
  /** Aborted when the process stops or the lease is lost: stop at the next safe point. */
  readonly signal: AbortSignal;
  /**
   * Adds `n` (default 1) to the run's count `name` (`sent_epost`, `scanned`): recorded with the
   * run, shown by `krr jobs status` and the health endpoint. Names only, never personal data.
   */
  count(name: string, n?: number): void;
  /**
   * Whether this run still holds its lease. A job that commits in many transactions calls this
   * between them (cheap: the runner renews the lease in the background and answers from memory);
   * what must not happen twice is made safe by the job's own data (a unique row written in the
   * same transaction), not by the lease alone.
   */
  stillHolds(): boolean;
}

export interface Job {
  /** Stable, lower-case, `[a-z-]+`: `reminder`, `retention`. Named in `krr jobs run --job`. */
  readonly name: string;
  /** What it does, one line, for `krr jobs status`. */
  readonly description: string;
  /** How long after a run ends the next one is due (real time). */
  readonly intervalMs: number;
  /**
   * One run. Resolves when done (or stopped by `signal`); throws to record the run as failed.
   * It must be safe to stop at any point and start again, in this process or another.
   */
  run(ctx: JobContext): Promise<void>;
}
