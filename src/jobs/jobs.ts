// The jobs this register runs, from its configuration (docs/jobs.md#configuration): one list for
// `krr serve`, `krr jobs run`, `krr jobs status` and the health endpoint, so they all name the same.

import type { KrrConfig } from '../config/config.js';
import type { Job } from './job.js';
import type { JobState } from './jobs.runner.js';
import { auditPartitionsJob } from './audit-partitions.job.js';
import { reminderJob } from './reminder.job.js';
import { retentionJob } from './retention.job.js';

const MINUTE_MS = 60_000;

/** The configured jobs, enabled ones only. */
export function configuredJobs(config: KrrConfig): Job[] {
  const jobs: Job[] = [];
  const { reminder, retention } = config.jobs;
  if (reminder.enabled) {
    jobs.push(
      reminderJob({
        afterMonths: reminder.afterMonths,
        intervalMs: reminder.intervalMinutes * MINUTE_MS,
        minprofilUrl: `${config.publicUrl}/minprofil`,
        pageSize: reminder.pageSize,
      }),
    );
  }
  if (retention.enabled)
    jobs.push(retentionJob({ days: retention.days, intervalMs: retention.intervalMinutes * MINUTE_MS }));
  // Always on: without it the trail's entries pile up in the default partition and are never
  // dropped (docs/jobs.md#audit-partitions). Hourly is plenty for months made two ahead.
  jobs.push(
    auditPartitionsJob({ retentionMonths: config.audit.retentionMonths, intervalMs: 60 * MINUTE_MS }),
  );
  return jobs;
}

/** A job's state in the health endpoint's details (docs/jobs.md#running-them): no personal data. */
export function healthOfJob(state: JobState, now: Date): Record<string, unknown> {
  const last = state.last;
  const running = state.lease !== undefined && state.lease.until >= now;
  return {
    status: last?.outcome === 'failed' ? 'FAILING' : 'UP',
    running,
    ...(last
      ? {
          lastRun: {
            outcome: last.outcome,
            startedAt: last.startedAt.toISOString(),
            ...(last.endedAt ? { endedAt: last.endedAt.toISOString() } : {}),
            counts: last.counts,
          },
        }
      : {}),
  };
}
