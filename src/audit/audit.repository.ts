import type { Database, Queryable } from '../store/database.js';

/** One lookup, as the audit trail keeps it: the one place identifiers asked for are recorded. */
export interface AuditEntry {
  readonly at: Date;
  readonly clientId: string | null;
  readonly consumer: string | null;
  readonly supplier: string | null;
  readonly endpoint: string;
  readonly identifiers: readonly string[];
  readonly status: number;
  /**
   * A self-service event's changed field names, comma-separated (docs/minprofil.md#audit): never
   * a value. Null for lookups.
   */
  readonly detail?: string | null;
}

// NUL, and UTF-16 surrogates without their other half.
// eslint-disable-next-line no-control-regex -- NUL is what is looked for: PostgreSQL text cannot hold it
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * What was asked is kept as asked, except what text cannot hold: PostgreSQL refuses NUL, and PGlite
 * garbles a text[] holding a lone surrogate ("malformed array literal"). Malformed identifiers are
 * refused with 422 and audited; without this the audit insert failed and the answer was a 500.
 */
export function storableText(value: string): string {
  return value.replace(UNSTORABLE, '\ufffd');
}

/** An identifier has 11 characters: more of a value asked for is never worth keeping. */
export const AUDIT_VALUE_CHARS = 11;
/** A lookup asks for at most 1000 identifiers (docs/lookup.md#request); an entry keeps no more. */
export const AUDIT_MAX_VALUES = 1000;

/**
 * The values an entry keeps of what was asked: each cut to 11 characters and made storable, at
 * most 1000 of them (docs/errors.md#audit-trail). A refused request can carry any strings, as long
 * as the body allows; without the cut, 50 such requests grew the audit trail by 52 MB.
 */
export function auditedValues(values: readonly string[]): string[] {
  const kept = values.length > AUDIT_MAX_VALUES ? values.slice(0, AUDIT_MAX_VALUES) : values;
  return kept.map((v) => storableText(v.length > AUDIT_VALUE_CHARS ? v.slice(0, AUDIT_VALUE_CHARS) : v));
}

/** What `krr audit` asks of the trail (docs/operations.md#audit-trail): one person's or one consumer's entries. */
export type AuditQuery = (
  | { readonly person: string; readonly consumer?: undefined }
  | { readonly consumer: string; readonly person?: undefined }
) & {
  /** From this instant (inclusive); none: the start of the trail. */
  readonly from?: Date;
  /** Before this instant; none: now. */
  readonly to?: Date;
};

/** An entry as the trail holds it, with its id (the order of `search`). */
export interface StoredAuditEntry extends AuditEntry {
  readonly id: number;
}

interface AuditRow {
  id: number;
  at: string;
  client_id: string | null;
  consumer: string | null;
  supplier: string | null;
  endpoint: string;
  identifiers: string[];
  status: number;
  detail: string | null;
}

const STORED_COLUMNS = `id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, client_id,
  consumer, supplier, endpoint, identifiers, status, detail`;

function storedEntryOf(r: AuditRow): StoredAuditEntry {
  return {
    id: Number(r.id),
    at: new Date(r.at),
    clientId: r.client_id,
    consumer: r.consumer,
    supplier: r.supplier,
    endpoint: r.endpoint,
    identifiers: r.identifiers,
    status: Number(r.status),
    ...(r.detail !== null ? { detail: r.detail } : {}),
  };
}

export class AuditRepository {
  constructor(private readonly db: Database) {}

  /**
   * `q`: the caller's transaction, when the entry must commit with what it records (a
   * self-service change and its audit entry land together or not at all).
   */
  async record(entry: AuditEntry, q: Queryable = this.db): Promise<void> {
    await q.query(
      `insert into audit_log (at, client_id, consumer, supplier, endpoint, identifiers, status, detail)
       values ($1::text::timestamptz, $2, $3, $4, $5, $6::text[], $7, $8)`,
      [
        entry.at.toISOString(),
        entry.clientId,
        entry.consumer,
        entry.supplier,
        entry.endpoint,
        auditedValues(entry.identifiers),
        entry.status,
        entry.detail ?? null,
      ],
    );
  }

  /**
   * The entries `query` asks for, oldest first, a page at a time (never the whole trail in
   * memory). A person's are found through the GIN index on the identifiers, materialised first so
   * that the planner does not walk the whole trail in id order instead (as the lookup history,
   * docs/minprofil.md#lookup-history); a consumer's through the index on `at` within the range.
   */
  async *search(query: AuditQuery, pageSize = 1000): AsyncGenerator<StoredAuditEntry> {
    const from = query.from?.toISOString() ?? '-infinity';
    const to = query.to?.toISOString() ?? 'infinity';
    let after = 0;
    for (;;) {
      const rows =
        query.person !== undefined
          ? await this.db.query<AuditRow>(
              `with mine as materialized (
                 select id from audit_log where identifiers @> array[$1::text]
                   and at >= $2::text::timestamptz and at < $3::text::timestamptz
               )
               select ${STORED_COLUMNS} from audit_log
               where id in (select id from mine) and id > $4 order by id limit $5`,
              [query.person, from, to, after, pageSize],
            )
          : await this.db.query<AuditRow>(
              `select ${STORED_COLUMNS} from audit_log
               where consumer = $1 and at >= $2::text::timestamptz and at < $3::text::timestamptz and id > $4
               order by id limit $5`,
              [query.consumer, from, to, after, pageSize],
            );
      for (const r of rows) yield storedEntryOf(r);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  /** The newest entries first; for operators and tests. */
  async latest(limit: number): Promise<AuditEntry[]> {
    const rows = await this.db.query<AuditRow>(
      `select ${STORED_COLUMNS} from audit_log order by id desc limit $1`,
      [limit],
    );
    return rows.map((r) => {
      const { id: _id, ...entry } = storedEntryOf(r);
      return entry;
    });
  }
}
