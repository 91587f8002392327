import type { Database, Queryable, StoreTransaction } from '../store/database.js';
import { decodeLookupRecord, partsOfLookupRecord } from '../answer/answer.record.js';
import type { LookupRecord } from '../answer/answer.record.js';
import {
  assignFrom,
  changedBetween,
  COPY_HEADER,
  COPY_TRAILER,
  PERSON_COLUMN_LIST,
  derivedValuesOf,
  PERSON_COLUMNS,
} from './person.columns.js';
import type { RenderedPerson } from '../answer/answer.render.js';

export interface PersonRow {
  personidentifikator: string;
  status: 'AKTIV' | 'SLETTET';
  reserved: boolean;
  varsling_basis: number | null;
  epost_key: string | null;
  mobil_key: string | null;
  sertifikat: string | null;
  mailbox_provider: string | null;
  lookup: string;
}

/**
 * A person as answers show it, from PERSON_FROM: the person's own certificate, else the one of the
 * provider of its mailbox.
 */
export const PERSON_SELECT = `p.personidentifikator, p.status, p.reserved, p.varsling_basis, p.epost_key,
  p.mobil_key, coalesce(p.sertifikat, mp.sertifikat_fragment) as sertifikat, p.mailbox_provider, p.lookup`;
export const PERSON_FROM = 'person p left join mailbox_provider mp on mp.orgno = p.mailbox_provider';

export function personFromRow(row: PersonRow): RenderedPerson {
  return {
    personidentifikator: row.personidentifikator,
    status: row.status,
    reserved: row.reserved,
    varslingBasis: row.varsling_basis,
    ...partsOfLookupRecord(row.lookup),
    epostKey: row.epost_key,
    mobilKey: row.mobil_key,
    sertifikat: row.sertifikat,
    mailboxProvider: row.mailbox_provider,
  };
}

// A whole batch travels as one JSON text parameter: the same SQL on both drivers, one round trip.
// A person whose rendering did not change keeps its change id, so re-importing is not a change.
const UPSERT = `
  insert into person (${PERSON_COLUMN_LIST})
  select ${PERSON_COLUMN_LIST}
  from json_to_recordset(($1::text)::json)
    as t(${PERSON_COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')})
  on conflict (personidentifikator) do update set
    ${assignFrom('excluded')}, change_id = nextval('person_change_id'), updated_at = now()
  where ${changedBetween('person', 'excluded')}`;

/** The import's staging table: one block of an import into a register that has persons. */
const STAGING = 'krr_import_staging';

/**
 * A lookup's persons as pre-rendered bytes: the record, and the certificate shown (own, else the
 * provider's), in identifier order. The same statement is the benchmark's database ceiling.
 */
export const LOOKUP_SQL = `select p.lookup, coalesce(p.sertifikat, mp.sertifikat_fragment) as sertifikat
  from person p left join mailbox_provider mp on mp.orgno = p.mailbox_provider
  where p.personidentifikator = any($1::text[]) order by p.personidentifikator`;

/** The highest change id of a person or a removal, as an expression (one probe of each index). */
const LATEST_CHANGE_ID = `greatest((select max(change_id) from person), (select max(change_id) from person_removed))`;

/**
 * LOOKUP_SQL with the highest change id the statement's snapshot sees beside each row (computed
 * once): what a cache needs to tell whether rows from a replica are as new as what it already
 * holds (docs/operations.md#replicas).
 */
const LOOKUP_WITH_POSITION_SQL = `select p.lookup, coalesce(p.sertifikat, mp.sertifikat_fragment) as sertifikat,
    (select ${LATEST_CHANGE_ID}) as latest
  from person p left join mailbox_provider mp on mp.orgno = p.mailbox_provider
  where p.personidentifikator = any($1::text[]) order by p.personidentifikator`;

export class PersonRepository {
  constructor(private readonly db: Database) {}

  /** The registered persons among `identifiers`, in ascending identifier order. */
  async findMany(identifiers: readonly string[], q: Queryable = this.db): Promise<RenderedPerson[]> {
    if (identifiers.length === 0) return [];
    const rows = await q.query<PersonRow>(
      `select ${PERSON_SELECT} from ${PERSON_FROM}
       where p.personidentifikator = any($1::text[]) order by p.personidentifikator`,
      [identifiers],
    );
    return rows.map(personFromRow);
  }

  /** The lookup records of the registered persons among `identifiers` (sorted, unique), in that order. */
  async findLookupRecords(identifiers: readonly string[]): Promise<LookupRecord[]> {
    if (identifiers.length === 0) return [];
    const rows = await this.db.queryRaw(LOOKUP_SQL, [identifiers]);
    return rows.map(([record, sertifikat]) => decodeLookupRecord(record!, sertifikat ?? null));
  }

  /**
   * findLookupRecords, and the highest change id of the statement's snapshot (undefined when no
   * person was found: there is nothing to compare then).
   */
  async findLookupRecordsWithPosition(
    identifiers: readonly string[],
  ): Promise<{ records: LookupRecord[]; latest: number | undefined }> {
    if (identifiers.length === 0) return { records: [], latest: undefined };
    const rows = await this.db.queryRaw(LOOKUP_WITH_POSITION_SQL, [identifiers]);
    const latest = rows[0]?.[2];
    return {
      records: rows.map(([record, sertifikat]) => decodeLookupRecord(record!, sertifikat ?? null)),
      latest: latest == null ? undefined : Number(latest.toString()),
    };
  }

  /**
   * The persons changed or removed after `changeId` (at most `limit`, oldest change first) and the
   * highest change id, in one statement: one snapshot, so every change up to `latest` is listed
   * (or more than `limit` were), whichever server answers (docs/operations.md#replicas).
   */
  async changesUpTo(
    changeId: number,
    limit: number,
  ): Promise<{ latest: number; changed: { id: string; changeId: number }[] }> {
    const rows = await this.db.query<{
      latest: number | null;
      personidentifikator: string | null;
      change_id: number | null;
    }>(
      `select s.latest, c.personidentifikator, c.change_id
       from (select coalesce(${LATEST_CHANGE_ID}, 0) as latest) s
       left join lateral (
         select personidentifikator, change_id from (
           (select personidentifikator, change_id from person where change_id > $1 order by change_id limit $2)
           union all
           (select personidentifikator, change_id from person_removed where change_id > $1 order by change_id limit $2)
         ) u order by change_id limit $2
       ) c on true
       order by c.change_id`,
      [changeId, limit],
    );
    return {
      latest: rows[0]?.latest ?? 0,
      changed: rows.flatMap((r) =>
        r.personidentifikator === null || r.change_id === null
          ? []
          : [{ id: r.personidentifikator, changeId: r.change_id }],
      ),
    };
  }

  /**
   * The highest change id of a person or a removal (docs/change-feed.md#removed-persons), or 0 for
   * a register that never had one: one probe of each change id index.
   */
  async latestChangeId(): Promise<number> {
    const [row] = await this.db.query<{ m: number | null }>(
      `select greatest((select max(change_id) from person), (select max(change_id) from person_removed)) as m`,
    );
    return row?.m ?? 0;
  }

  /**
   * Identifiers of the persons changed or removed after `changeId`, at most `limit`, oldest
   * change first.
   */
  async changedSince(changeId: number, limit: number): Promise<{ id: string; changeId: number }[]> {
    const rows = await this.db.query<{ personidentifikator: string; change_id: number }>(
      `select personidentifikator, change_id from (
         (select personidentifikator, change_id from person where change_id > $1 order by change_id limit $2)
         union all
         (select personidentifikator, change_id from person_removed where change_id > $1 order by change_id limit $2)
       ) c order by change_id limit $2`,
      [changeId, limit],
    );
    return rows.map((r) => ({ id: r.personidentifikator, changeId: r.change_id }));
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('select count(*)::int8 as n from person');
    return row?.n ?? 0;
  }

  /** Every person in identifier order, a page at a time (keyset paging: no cursor, same SQL on both stores). */
  async *scan(pageSize = 5000): AsyncGenerator<RenderedPerson[]> {
    let after = '';
    for (;;) {
      const rows = await this.db.query<PersonRow>(
        `select ${PERSON_SELECT} from ${PERSON_FROM}
         where p.personidentifikator > $1 order by p.personidentifikator limit $2`,
        [after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map(personFromRow);
      after = rows[rows.length - 1]!.personidentifikator;
      if (rows.length < pageSize) return;
    }
  }

  /**
   * Writes persons (insert or replace) inside the caller's transaction; every person whose answer
   * changes gets a new change id. Callers go through PersonWriter, the register's one write path.
   */
  async upsert(tx: Queryable, persons: readonly RenderedPerson[]): Promise<void> {
    if (persons.length === 0) return;
    const batch = persons.map((p) => {
      const row: Record<string, unknown> = {};
      const derived = derivedValuesOf(p);
      for (const c of PERSON_COLUMNS) row[c.name] = c.value(p, derived);
      return row;
    });
    await tx.query(UPSERT, [JSON.stringify(batch)]);
  }

  /** Whether the register holds no person (bulk loads go straight into an empty register). */
  async isEmpty(tx: Queryable): Promise<boolean> {
    const [row] = await tx.query<{ any: boolean }>('select exists (select 1 from person) as any');
    return !row?.any;
  }

  /**
   * Drops the person table's indexes and its primary key, in the caller's transaction, and returns
   * the statements that make them again, from their definitions as the migrations left them: a
   * bulk load into an empty register then builds each index once, from sorted keys, instead of
   * inserting every person into each B-tree one by one. The caller refuses a duplicate identifier
   * itself, and making the primary key again would refuse one too (failing the transaction).
   *
   * DROP INDEX locks the table (ACCESS EXCLUSIVE) until the transaction ends: readers wait for the
   * import to commit and then see the register with all its persons and indexes; nobody ever sees
   * the table without them, and a failed or killed import rolls the drop back with the rows.
   */
  async dropIndexes(tx: Queryable): Promise<string[]> {
    const [primary] = await tx.query<{ name: string; definition: string }>(
      `select quote_ident(conname) as name, pg_get_constraintdef(oid) as definition
       from pg_constraint where conrelid = 'person'::regclass and contype = 'p'`,
    );
    const indexes = await tx.query<{ name: string; definition: string }>(
      `select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as name,
              pg_get_indexdef(i.indexrelid) as definition
       from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
       where i.indrelid = 'person'::regclass and not i.indisprimary
       order by c.relname`,
    );
    if (primary) await tx.query(`alter table person drop constraint ${primary.name}`);
    if (indexes.length > 0) await tx.query(`drop index ${indexes.map((i) => i.name).join(', ')}`);
    return [
      ...(primary ? [`alter table person add constraint ${primary.name} ${primary.definition}`] : []),
      ...indexes.map((i) => i.definition),
    ];
  }

  /** Makes again the indexes `dropIndexes` dropped (its returned statements). */
  async createIndexes(tx: Queryable, statements: readonly string[]): Promise<void> {
    // Sorts of a large register in memory rather than in temporary files, and room for a parallel
    // worker per build (the server's default of 64 MB allows at most one). For this transaction only.
    if (this.db.kind === 'postgres') await tx.query(`set local maintenance_work_mem = '256MB'`);
    for (const statement of statements) await tx.query(statement);
  }

  /** Which of `identifiers` are registered. */
  async registered(tx: Queryable, identifiers: readonly string[]): Promise<Set<string>> {
    if (identifiers.length === 0) return new Set();
    const rows = await tx.query<{ personidentifikator: string }>(
      'select personidentifikator from person where personidentifikator = any($1::text[])',
      [identifiers],
    );
    return new Set(rows.map((r) => r.personidentifikator));
  }

  /**
   * Adds persons who are not registered yet, as binary COPY tuples of `CopyTuples`
   * (person.columns.ts); each gets a new change id (the column's default). The caller knows none
   * of them is registered. `frozen`: after `truncateEmpty` in the same transaction.
   */
  async copyNew(
    tx: StoreTransaction,
    tuples: readonly Uint8Array[],
    options: { readonly frozen?: boolean } = {},
  ): Promise<void> {
    if (tuples.length === 0) return;
    await tx.copyFrom(`person (${PERSON_COLUMN_LIST})`, [COPY_HEADER, ...tuples, COPY_TRAILER], 'binary', {
      freeze: options.frozen ?? false,
    });
  }

  /**
   * Empties the (already empty) person table by TRUNCATE in the caller's transaction, so that
   * `copyNew(..., { frozen: true })` may load it frozen (COPY FREEZE requires a table created or
   * truncated in the same transaction). The caller holds the writers' lock and has seen the table
   * empty; the ACCESS EXCLUSIVE lock is the one `dropIndexes` takes anyway.
   */
  async truncateEmpty(tx: Queryable): Promise<void> {
    await tx.query('truncate person');
  }

  /**
   * Writes persons of whom some may be registered, as binary COPY tuples: they are copied into a
   * temporary table, registered persons whose answer changes are rewritten with a new change id
   * (unchanged ones keep theirs, as in `upsert`), and the others are added.
   */
  async merge(
    tx: StoreTransaction,
    tuples: readonly Uint8Array[],
    options: { readonly firstInTransaction: boolean; readonly allRegistered: boolean },
  ): Promise<void> {
    if (tuples.length === 0) return;
    if (options.firstInTransaction)
      await tx.query(
        `create temporary table if not exists ${STAGING} (${PERSON_COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')}) on commit drop`,
      );
    await tx.copyFrom(`${STAGING} (${PERSON_COLUMN_LIST})`, [COPY_HEADER, ...tuples, COPY_TRAILER], 'binary');
    await tx.query(
      `update person set ${assignFrom('s')}, change_id = nextval('person_change_id'), updated_at = now()
       from ${STAGING} s
       where person.personidentifikator = s.personidentifikator and ${changedBetween('person', 's')}`,
    );
    if (!options.allRegistered)
      await tx.query(
        `insert into person (${PERSON_COLUMN_LIST})
       select ${PERSON_COLUMNS.map((c) => `s.${c.name}`).join(', ')} from ${STAGING} s
       where not exists (select 1 from person p where p.personidentifikator = s.personidentifikator)`,
      );
    await tx.query(`truncate ${STAGING}`);
  }

  /**
   * Removes the registered persons among `identifiers`, in the caller's transaction: each removal
   * is kept with a new change id (docs/change-feed.md#removed-persons). Returns the identifiers
   * that were registered.
   */
  async remove(tx: Queryable, identifiers: readonly string[]): Promise<string[]> {
    if (identifiers.length === 0) return [];
    const rows = await tx.query<{ personidentifikator: string }>(
      `with gone as (
         delete from person where personidentifikator = any($1::text[]) returning personidentifikator
       )
       insert into person_removed (personidentifikator)
       select personidentifikator from gone order by personidentifikator
       on conflict (personidentifikator) do update set change_id = nextval('person_change_id')
       returning personidentifikator`,
      [identifiers],
    );
    return rows.map((r) => r.personidentifikator);
  }

  /** Removes every person, as `remove` does (a reset of the register). Returns how many. */
  async removeAll(tx: Queryable): Promise<number> {
    const [row] = await tx.query<{ n: number }>(
      `with gone as (delete from person returning personidentifikator),
       kept as (
         insert into person_removed (personidentifikator)
         select personidentifikator from gone order by personidentifikator
         on conflict (personidentifikator) do update set change_id = nextval('person_change_id')
         returning 1
       )
       select count(*)::int8 as n from kept`,
    );
    return row?.n ?? 0;
  }

  /** Whether `identifier` is registered or was ever removed (an identifier the register has used). */
  async everUsed(tx: Queryable, identifier: string): Promise<boolean> {
    const [row] = await tx.query<{ used: boolean }>(
      `select exists (select 1 from person where personidentifikator = $1)
           or exists (select 1 from person_removed where personidentifikator = $1) as used`,
      [identifier],
    );
    return row?.used ?? false;
  }

  /** New change ids for the persons who show the provider's certificate; their rows are not rewritten. */
  async touchInheritingPersons(tx: Queryable, orgno: string): Promise<number> {
    const rows = await tx.query(
      `update person set change_id = nextval('person_change_id'), updated_at = now()
       where mailbox_provider = $1 and sertifikat is null and status = 'AKTIV'
       returning personidentifikator`,
      [orgno],
    );
    return rows.length;
  }
}
