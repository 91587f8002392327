// The jobs' leases and runs in the store (docs/jobs.md#one-place-at-a-time). Leases are timed on
// the database's clock, so that krr processes on different machines agree on when one runs out.

import type { Database } from '../store/database.js';

export type RunOutcome = 'running' | 'ok' | 'failed' | 'stopped' | 'abandoned';

/** One run of a job as the store keeps it. */
export interface JobRun {
  readonly id: number;
  readonly job: string;
  /** The process that ran it (`host:pid:random`): no personal data. */
  readonly holder: string;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
  /** The register's clock at the start (epoch ms). */
  readonly registerAt: number;
  readonly clockVersion: number;
  readonly outcome: RunOutcome;
  readonly counts: Readonly<Record<string, number>>;
  readonly error: string | null;
}

/** Who holds a job's lease, and until when. */
export interface JobLease {
  readonly name: string;
  readonly holder: string;
  readonly until: Date;
}

interface RunRow {
  id: number;
  job: string;
  holder: string;
  started_ms: number;
  ended_ms: number | null;
  register_at: number;
  clock_version: number;
  outcome: RunOutcome;
  counts: string;
  error: string | null;
}

const ms = (column: string) => `floor(extract(epoch from ${column}) * 1000)::int8`;
const RUN_COLUMNS = `id, job, holder, ${ms('started_at')} as started_ms, ${ms('ended_at')} as ended_ms,
  register_at, clock_version, outcome, counts, error`;

function countsOf(text: string): Record<string, number> {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.fromEntries(
        Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number'),
      );
    }
  } catch {
    // a row written by hand: no counts
  }
  return {};
}

function runOf(r: RunRow): JobRun {
  return {
    id: Number(r.id),
    job: r.job,
    holder: r.holder,
    startedAt: new Date(Number(r.started_ms)),
    endedAt: r.ended_ms === null ? null : new Date(Number(r.ended_ms)),
    registerAt: Number(r.register_at),
    clockVersion: Number(r.clock_version),
    outcome: r.outcome,
    counts: countsOf(r.counts),
    error: r.error,
  };
}

/** How many runs of each job are kept: enough to see a pattern, never a growing table. */
export const RUNS_KEPT = 100;

export class JobsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Takes `name`'s lease for `holder` until `leaseMs` from now, when it is free, run out, or
   * already `holder`'s. One statement: of two processes asking at once, one gets it.
   */
  async acquire(name: string, holder: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `insert into job_lease (name, holder, until) values ($1, $2, now() + $3 * interval '1 millisecond')
       on conflict (name) do update set holder = excluded.holder, until = excluded.until
         where job_lease.until < now() or job_lease.holder = excluded.holder
       returning name`,
      [name, holder, leaseMs],
    );
    return rows.length === 1;
  }

  /** Extends `holder`'s lease on `name`; false when it is no longer `holder`'s. */
  async renew(name: string, holder: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `update job_lease set until = now() + $3 * interval '1 millisecond'
       where name = $1 and holder = $2 and until >= now() returning name`,
      [name, holder, leaseMs],
    );
    return rows.length === 1;
  }

  /** Gives `name`'s lease up, if `holder` still has it. */
  async release(name: string, holder: string): Promise<void> {
    await this.db.query('delete from job_lease where name = $1 and holder = $2', [name, holder]);
  }

  /** The leases held now (not run out). */
  async leases(): Promise<JobLease[]> {
    const rows = await this.db.query<{ name: string; holder: string; until_ms: number }>(
      `select name, holder, ${ms('until')} as until_ms from job_lease where until >= now() order by name`,
    );
    return rows.map((r) => ({ name: r.name, holder: r.holder, until: new Date(Number(r.until_ms)) }));
  }

  /**
   * Records a new run of `job` (under its lease). Runs of `job` still marked running are of a
   * process that lost the lease without ending them (killed): they are marked abandoned.
   */
  async start(job: string, holder: string, registerAt: number, clockVersion: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `update job_run set outcome = 'abandoned', ended_at = now() where job = $1 and outcome = 'running'`,
        [job],
      );
      const [row] = await tx.query<{ id: number }>(
        `insert into job_run (job, holder, register_at, clock_version) values ($1, $2, $3, $4) returning id`,
        [job, holder, registerAt, clockVersion],
      );
      return Number(row!.id);
    });
  }

  /** The counts so far of a run in progress. */
  async progress(id: number, counts: Readonly<Record<string, number>>): Promise<void> {
    await this.db.query(`update job_run set counts = $2 where id = $1 and outcome = 'running'`, [
      id,
      JSON.stringify(counts),
    ]);
  }

  /** Ends a run, and keeps only the newest RUNS_KEPT of its job. */
  async finish(
    id: number,
    outcome: Exclude<RunOutcome, 'running'>,
    counts: Readonly<Record<string, number>>,
    error: string | null,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ job: string }>(
        `update job_run set outcome = $2, counts = $3, error = $4, ended_at = now()
         where id = $1 returning job`,
        [id, outcome, JSON.stringify(counts), error],
      );
      if (!row) return;
      await tx.query(
        `delete from job_run where job = $1 and id <= (
           select id from job_run where job = $1 order by id desc offset $2 limit 1)`,
        [row.job, RUNS_KEPT],
      );
    });
  }

  /** The newest run of each job. */
  async latest(): Promise<JobRun[]> {
    const rows = await this.db.query<RunRow>(
      `select ${RUN_COLUMNS} from job_run r
       where id = (select max(id) from job_run where job = r.job) order by job`,
    );
    return rows.map(runOf);
  }

  /** The newest runs of `job`, newest first. */
  async history(job: string, limit: number): Promise<JobRun[]> {
    const rows = await this.db.query<RunRow>(
      `select ${RUN_COLUMNS} from job_run where job = $1 order by id desc limit $2`,
      [job, limit],
    );
    return rows.map(runOf);
  }
}
