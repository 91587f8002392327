// `krr jobs run` and `krr jobs status` (docs/jobs.md#running-them): the commands' work, kept out
// of cli/main.ts (which only declares them).

import type { KrrConfig } from '../config/config.js';
import { ConfigError, KrrError } from '../errors/errors.js';
import type { Job, JobLog } from '../jobs/job.js';
import { configuredJobs } from '../jobs/jobs.js';
import { jobStates, JobsRunner } from '../jobs/jobs.runner.js';
import type { JobState, RunResult } from '../jobs/jobs.runner.js';
import { outboxDeliveryFor } from '../outbox/outbox.delivery.js';
import { RegisterClock } from '../register/register-clock.js';
import { openStore } from '../register/open-store.js';
import { listenForStop } from './stop-signal.js';
import { withStore } from './runtime.js';

export interface JobsRunOptions {
  readonly once?: boolean;
  /** `--job NAME` (repeatable): only these. */
  readonly job?: readonly string[];
  /** `--no-delivery`: false. */
  readonly delivery?: boolean;
}

/** A `--once` run failed: the command exits non-zero. */
export class JobFailedError extends KrrError {
  readonly code = 'JOB_FAILED';
  readonly status = 500;
}

/** The jobs `names` picks out of the configured ones (all when none named). */
export function selectJobs(config: KrrConfig, names: readonly string[] | undefined): Job[] {
  const jobs = configuredJobs(config);
  if (!names || names.length === 0) return jobs;
  const known = new Map(jobs.map((j) => [j.name, j]));
  return names.map((name) => {
    const job = known.get(name);
    if (!job) {
      const list = jobs.map((j) => j.name).join(', ') || 'none (all are turned off)';
      throw new ConfigError(`--job ${name}: no such job is configured; the configured jobs are ${list}`);
    }
    return job;
  });
}

/** The log for a command: one line per event on stderr, without personal data (jobs log none). */
function lineLog(err: NodeJS.WritableStream): JobLog {
  const line = (obj: object, msg: string) => {
    const o = obj as Record<string, unknown>;
    const parts = Object.entries(o)
      .filter(([k]) => k !== 'counts')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    if (o.counts && typeof o.counts === 'object') parts.push(countsText(o.counts as Record<string, number>));
    err.write(`${msg}${parts.length ? ` (${parts.join(' ')})` : ''}\n`);
  };
  return { info: line, warn: line };
}

export function countsText(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(' ');
}

function resultLine(r: RunResult, states: readonly JobState[]): string {
  if (r.outcome === 'elsewhere') {
    const lease = states.find((s) => s.name === r.job)?.lease;
    return `${r.job}: running in another process${lease ? ` (${lease.holder})` : ''}; not run here`;
  }
  const last = states.find((s) => s.name === r.job)?.last;
  const counts = last && last.id === r.runId ? countsText(last.counts) : '-';
  const error = last && last.id === r.runId && last.error ? `: ${last.error}` : '';
  return `${r.job}: ${r.outcome}${error} (${counts})`;
}

/**
 * `krr jobs run`: with `--once`, runs each selected job now (whatever its schedule) and exits;
 * otherwise runs them on their schedule, and delivers the outbox, until SIGINT or SIGTERM.
 */
export async function runJobs(
  config: KrrConfig,
  opts: JobsRunOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  const jobs = selectJobs(config, opts.job);
  if (jobs.length === 0) throw new ConfigError('no job is configured to run (docs/jobs.md#configuration)');
  const stop = listenForStop();
  const db = await openStore(config.store);
  let clock: RegisterClock | undefined;
  let runner: JobsRunner | undefined;
  const log = lineLog(err);
  try {
    clock = await RegisterClock.open(db);
    runner = new JobsRunner({
      db,
      clock,
      jobs,
      log,
      pollMs: config.jobs.pollSeconds * 1000,
      leaseMs: config.jobs.leaseSeconds * 1000,
    });
    if (opts.once) {
      // A signal stops the run in progress at its next safe point, recorded as stopped.
      void stop.stopped.then(() => runner?.stop());
      const results: RunResult[] = [];
      for (const job of jobs) {
        if (stop.requested) break;
        results.push(await runner.runNow(job.name));
      }
      const states = await jobStates(db, jobs);
      for (const r of results) out.write(`${resultLine(r, states)}\n`);
      const failed = results.filter((r) => r.outcome === 'failed' || r.outcome === 'stopped');
      if (failed.length > 0)
        throw new JobFailedError(
          `${failed.map((r) => `${r.job} ${r.outcome}`).join(', ')}: see krr jobs status`,
        );
      return;
    }
    const delivery = opts.delivery === false ? undefined : outboxDeliveryFor(config, db, log);
    await delivery?.start();
    runner.start();
    out.write(
      `krr is running the jobs ${jobs.map((j) => j.name).join(', ')}${delivery ? ' and delivering the outbox' : ''}\n`,
    );
    const reason = await stop.stopped;
    await runner.stop();
    await delivery?.stop();
    out.write(`krr stopped the jobs (${reason})\n`);
  } finally {
    stop.dispose();
    await runner?.stop();
    await clock?.close();
    await db.close();
  }
}

function durationText(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** `krr jobs status`: each configured job's lease and last run, as the store holds them. */
export async function jobsStatus(
  config: KrrConfig,
  opts: { json?: boolean },
  out: NodeJS.WritableStream,
): Promise<void> {
  const jobs = configuredJobs(config);
  const states = await withStore(config, (db) => jobStates(db, jobs));
  if (opts.json) {
    out.write(`${JSON.stringify(states.map(stateJson), null, 2)}\n`);
    return;
  }
  if (states.length === 0) {
    out.write('no job is configured (docs/jobs.md#configuration)\n');
    return;
  }
  for (const s of states) {
    const now = Date.now();
    const running = s.lease && s.lease.until.getTime() >= now ? `running in ${s.lease.holder}` : 'idle';
    out.write(`${s.name}: ${s.description}\n  ${running}; every ${durationText(s.intervalMs)}\n`);
    const last = s.last;
    if (!last) {
      out.write('  never run\n');
      continue;
    }
    const took = last.endedAt
      ? `, took ${durationText(last.endedAt.getTime() - last.startedAt.getTime())}`
      : '';
    out.write(
      `  last run ${last.startedAt.toISOString()}${took}: ${last.outcome}${last.error ? ` (${last.error})` : ''}\n` +
        `  counts: ${countsText(last.counts)}\n`,
    );
  }
}

function stateJson(s: JobState): Record<string, unknown> {
  return {
    name: s.name,
    description: s.description,
    intervalMs: s.intervalMs,
    lease: s.lease ? { holder: s.lease.holder, until: s.lease.until.toISOString() } : null,
    lastRun: s.last
      ? {
          id: s.last.id,
          holder: s.last.holder,
          startedAt: s.last.startedAt.toISOString(),
          endedAt: s.last.endedAt?.toISOString() ?? null,
          registerAt: new Date(s.last.registerAt).toISOString(),
          outcome: s.last.outcome,
          counts: s.last.counts,
          error: s.last.error,
        }
      : null,
  };
}
