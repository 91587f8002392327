import type { Database, Queryable, StoreTransaction } from '../store/database.js';
import { decodeLookupRecord, encodeLookupRecord, flipOf } from '../lookup/lookup.record.js';
import type { LookupRecord } from '../lookup/lookup.record.js';
import {
  assignFrom,
  changedBetween,
  COPY_HEADER,
  COPY_TRAILER,
  PERSON_COLUMN_LIST,
  derivedValuesOf,
  PERSON_COLUMNS,
} from './person.columns.js';
import type { RenderedPerson } from './person.render.js';

export interface PersonRow {
  personidentifikator: string;
  status: 'AKTIV' | 'SLETTET';
  reserved: boolean;
  varsling_basis: number | null;
  base: string;
  epost: string | null;
  mobil: string | null;
  epost_key: string | null;
  mobil_key: string | null;
  digital_post: string | null;
  sertifikat: string | null;
  spraak: string | null;
  mailbox_provider: string | null;
}

/**
 * A person as answers show it, from PERSON_FROM: the person's own certificate, else the one of the
 * provider of its mailbox.
 */
export const PERSON_SELECT = `p.personidentifikator, p.status, p.reserved, p.varsling_basis, p.base, p.epost, p.mobil,
  p.epost_key, p.mobil_key, p.digital_post, coalesce(p.sertifikat, mp.sertifikat_fragment) as sertifikat, p.spraak,
  p.mailbox_provider`;
export const PERSON_FROM = 'person p left join mailbox_provider mp on mp.orgno = p.mailbox_provider';

export function personFromRow(row: PersonRow): RenderedPerson {
  return {
    personidentifikator: row.personidentifikator,
    status: row.status,
    reserved: row.reserved,
    varslingBasis: row.varsling_basis,
    base: row.base,
    epost: row.epost,
    mobil: row.mobil,
    epostKey: row.epost_key,
    mobilKey: row.mobil_key,
    digitalPost: row.digital_post,
    sertifikat: row.sertifikat,
    spraak: row.spraak,
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
  where ${changedBetween('person', 'excluded')}
     or person.lookup is null`;

/** The import's staging table: one block of an import into a register that has persons. */
const STAGING = 'krr_import_staging';

/**
 * A lookup's persons as pre-rendered bytes: the record, and the certificate shown (own, else the
 * provider's), in identifier order. The same statement is the benchmark's database ceiling.
 */
export const LOOKUP_SQL = `select p.lookup, coalesce(p.sertifikat, mp.sertifikat_fragment) as sertifikat
  from person p left join mailbox_provider mp on mp.orgno = p.mailbox_provider
  where p.personidentifikator = any($1::text[]) order by p.personidentifikator`;

/** The advisory lock that serialises the register's writers (see PersonWriter). */
export const PERSON_WRITE_LOCK = 72617202;

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
    return rows.map(([record, sertifikat]) => {
      if (!record) throw new Error('a person has no lookup record: the store was not opened by this version');
      return decodeLookupRecord(record, sertifikat ?? null);
    });
  }

  /** The highest change id, or 0 for an empty register: one probe of the change id index. */
  async latestChangeId(): Promise<number> {
    const [row] = await this.db.query<{ m: number | null }>('select max(change_id) as m from person');
    return row?.m ?? 0;
  }

  /** Identifiers of the persons changed after `changeId`, at most `limit`, oldest change first. */
  async changedSince(changeId: number, limit: number): Promise<{ id: string; changeId: number }[]> {
    const rows = await this.db.query<{ personidentifikator: string; change_id: number }>(
      'select personidentifikator, change_id from person where change_id > $1 order by change_id limit $2',
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

  /**
   * Renders the lookup record of persons written before it existed (schema version 5), without
   * new change ids: their answers do not change. Runs under the writers' lock, a page at a time.
   */
  async backfillLookupRecords(pageSize = 5000): Promise<number> {
    let done = 0;
    for (;;) {
      const n = await this.db.transaction(async (tx) => {
        await tx.query(`select pg_advisory_xact_lock(${PERSON_WRITE_LOCK})`);
        const rows = await tx.query<PersonRow>(
          `select ${PERSON_SELECT} from ${PERSON_FROM} where p.lookup is null limit $1`,
          [pageSize],
        );
        if (rows.length === 0) return 0;
        const batch = rows.map((row) => {
          const p = personFromRow(row);
          const f = flipOf(p);
          return { p: p.personidentifikator, l: encodeLookupRecord(p, f), f };
        });
        await tx.query(
          `update person set lookup = t.l, varsling_flip = t.f
           from json_to_recordset(($1::text)::json) as t(p text, l text, f bigint)
           where person.personidentifikator = t.p`,
          [JSON.stringify(batch)],
        );
        return rows.length;
      });
      done += n;
      if (n < pageSize) return done;
    }
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
   * inserting every person into six B-trees one by one. The caller refuses a duplicate identifier
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
   * of them is registered.
   */
  async copyNew(tx: StoreTransaction, tuples: readonly Uint8Array[]): Promise<void> {
    if (tuples.length === 0) return;
    await tx.copyFrom(`person (${PERSON_COLUMN_LIST})`, [COPY_HEADER, ...tuples, COPY_TRAILER], 'binary');
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
