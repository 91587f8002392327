// What the metrics read from the store at scrape time (docs/operations.md#metrics): a few cheap
// statements, through the repositories that own the tables where they offer the reading.

import { JobsRepository } from '../jobs/jobs.repository.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import type { Database } from '../store/database.js';
import { storedCursors } from '../sync/sync.service.js';
import type { StoreReadings } from './metrics.js';

/**
 * A sync source as a label: its origin and path only. The stored URL was normalized without
 * credentials, query or fragment (sync/feed.client.ts); parsing it again keeps it so whatever
 * the row holds. A value that is no URL is left out.
 */
export function sourceLabel(source: string): string | undefined {
  try {
    const url = new URL(source);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

export function storeReader(db: Database): () => Promise<StoreReadings> {
  const outbox = new OutboxRepository(db);
  const jobs = new JobsRepository(db);
  return async () => {
    const [counts, latestRuns, runCounts, cursors, folkeregister] = await Promise.all([
      outbox.counts(),
      jobs.latest(),
      // job_run keeps at most RUNS_KEPT runs of each job (jobs/jobs.repository.ts): a small table.
      db.query<{ job: string; outcome: string; runs: number }>(
        'select job, outcome, count(*)::int8 as runs from job_run group by job, outcome order by job, outcome',
      ),
      storedCursors(db),
      // One row, and the conflicts an operator has to look at (docs/folkeregister.md#conflicts).
      db.query<{ position: number | null; conflicts: number }>(
        `select (select last_sequence from folkeregister_position) as position,
                (select count(*) from folkeregister_conflict)::int8 as conflicts`,
      ),
    ]);
    return {
      outbox: counts,
      latestRuns,
      runCounts: runCounts.map((r) => ({ job: r.job, outcome: r.outcome, runs: Number(r.runs) })),
      syncCursors: cursors.flatMap((c) => {
        const source = sourceLabel(c.source);
        return source === undefined ? [] : [{ source, cursor: c.cursor }];
      }),
      folkeregister: {
        position: folkeregister[0]?.position == null ? undefined : Number(folkeregister[0].position),
        conflicts: Number(folkeregister[0]?.conflicts ?? 0),
      },
    };
  };
}
