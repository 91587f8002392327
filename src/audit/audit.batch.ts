// Group commit for the audit trail: lookups that finish while an insert is running are written
// together by the next one, a single statement, instead of queueing one round trip each. Every
// caller still awaits its own entry's insert, so no answer leaves before its lookup is recorded.

import type { Database } from '../store/database.js';
import { storableText } from './audit.repository.js';
import type { AuditEntry } from './audit.repository.js';

interface Pending {
  readonly entry: AuditEntry;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** At most this many entries per statement (a 1000-identifier lookup is about 14 KB of JSON). */
const MAX_BATCH = 64;

const INSERT = `insert into audit_log (at, client_id, consumer, supplier, endpoint, identifiers, status)
  select at, client_id, consumer, supplier, endpoint, identifiers, status
  from json_to_recordset(($1::text)::json)
    as t(at timestamptz, client_id text, consumer text, supplier text, endpoint text, identifiers text[], status smallint)`;

export class AuditBatch {
  private queue: Pending[] = [];
  private running = 0;

  /** `concurrency`: how many inserts may run at once (each takes a connection). */
  constructor(
    private readonly db: Database,
    private readonly concurrency = 2,
  ) {}

  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (this.running < this.concurrency) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running++;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.db.query(INSERT, [
            JSON.stringify(
              batch.map(({ entry: e }) => ({
                at: e.at.toISOString(),
                client_id: e.clientId,
                consumer: e.consumer,
                supplier: e.supplier,
                endpoint: e.endpoint,
                identifiers: e.identifiers.map(storableText),
                status: e.status,
              })),
            ),
          ]);
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running--;
    }
  }
}
