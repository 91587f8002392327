import type { Database, Queryable, StoreTransaction, TransactionOptions } from '../store/database.js';
import { FRESHNESS_MONTHS, freshnessEnd } from '../freshness/freshness.js';
import type { Person } from '../person/person.js';
import { renderForWrite } from './person.prepare.js';
import { recordOf } from '../answer/answer.render.js';
import { PersonRepository } from './person.repository.js';

/** Writes inside one open transaction. */
export interface PersonWriteSession {
  write(persons: readonly Person[]): Promise<void>;
  /**
   * The persons who show `orgno`'s certificate (no certificate of their own) get new change ids,
   * without being rewritten: their answers changed, so feed readers must get them again.
   */
  providerCertificateChanged(orgno: string): Promise<number>;
  /** A person as the register holds it now, read under the write lock (read, change, write). */
  find(personidentifikator: string): Promise<Person | undefined>;
  /**
   * Removes persons from the register (the test-data API, docs/testdata.md#delete): the entry is
   * gone, and the removal gets a change id, so that feed readers and the lookup cache learn of it
   * (docs/change-feed.md#removed-persons). Returns the identifiers that were registered.
   */
  remove(identifiers: readonly string[]): Promise<string[]>;
  /** Removes every person, as `remove` does. Returns how many. */
  removeAll(): Promise<number>;
  /** Whether the register holds `identifier` or has removed it (read under the write lock). */
  everUsed(identifier: string): Promise<boolean>;
  /** The same transaction, for what must commit together with the persons (a sync cursor). */
  readonly tx: Queryable;
  /**
   * The mailbox providers' current certificates (orgno -> base64), read under the write lock: what
   * `renderForWrite` needs when persons are rendered elsewhere (the import's worker threads).
   */
  providerCertificates(): Promise<ReadonlyMap<string, string>>;
  /**
   * The bulk path (import): persons rendered by `renderForWrite` with these provider certificates
   * and encoded by `CopyTuples` (person.columns.ts), loaded with COPY. Changes land as with `write`.
   */
  bulk(): PersonBulkWrite;
}

export interface PersonBulkWrite {
  /**
   * `tuples`: one binary COPY tuple per person (`CopyTuples`), in the order of `identifiers` (each
   * at most once in the whole bulk write). Registered persons whose answer changes get a new
   * change id, unchanged ones keep theirs, new ones are added.
   */
  write(tuples: Uint8Array, identifiers: readonly string[]): Promise<void>;
  /** Ends the bulk write (before the session commits). */
  finish(): Promise<void>;
}

/**
 * Serialises the register's writers. Taken first in every write transaction and held until it
 * commits, it makes change ids commit-ordered: a transaction takes its ids only after the one
 * before it is visible, so a feed reader that sees id n has already been able to see every id
 * below n (docs/change-feed.md#no-missed-changes).
 */
const WRITE_LOCK = 72617202;

/**
 * The register's one write path: every writer (import, the person's own changes, mailbox
 * providers, sync) comes through here, so every write is rendered once and gets a change id in the
 * same transaction that changes the person.
 */
export class PersonWriter {
  private readonly repository: PersonRepository;

  constructor(private readonly db: Database) {
    this.repository = new PersonRepository(db);
  }

  async write(persons: readonly Person[]): Promise<void> {
    await this.session((s) => s.write(persons));
  }

  /**
   * Runs `fn` in one transaction: all its writes land together, or none of them. Writers run one
   * at a time (see WRITE_LOCK); keep sessions short, as a long one holds the others back.
   */
  private bulk(tx: StoreTransaction): PersonBulkWrite {
    let registerWasEmpty: Promise<boolean> | undefined;
    let merged = false;
    // The indexes dropped for a load into an empty register, made again in finish().
    let droppedIndexes: Promise<string[]> | undefined;
    return {
      write: async (tuples, identifiers) => {
        if (identifiers.length === 0) return;
        // Into an empty register every person is new: no lookups, straight into the table, whose
        // indexes are built once at the end (the import refuses duplicates before they get here).
        // All in this transaction: a failed import rolls the drop back with the rows.
        // The rows are written frozen, so the first lookups after the import do not each set hint
        // bits on (and dirty) every page they read.
        if (await (registerWasEmpty ??= this.repository.isEmpty(tx))) {
          await (droppedIndexes ??= (async () => {
            const statements = await this.repository.dropIndexes(tx);
            await this.repository.truncateEmpty(tx);
            return statements;
          })());
          await this.repository.copyNew(tx, [tuples], { frozen: true });
          return;
        }
        // A block of persons none of whom is registered is copied straight in, too.
        const registered = await this.repository.registered(tx, identifiers);
        if (registered.size === 0) await this.repository.copyNew(tx, [tuples]);
        else {
          await this.repository.merge(tx, [tuples], {
            firstInTransaction: !merged,
            allRegistered: registered.size === identifiers.length,
          });
          merged = true;
        }
      },
      finish: async () => {
        if (droppedIndexes) await this.repository.createIndexes(tx, await droppedIndexes);
      },
    };
  }

  /**
   * `long`: an import's bulk session, without the statement timeout (docs/operations.md#timeouts);
   * a request's session keeps it.
   */
  async session<T>(
    fn: (session: PersonWriteSession) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    return this.db.transaction(async (tx: StoreTransaction) => {
      await tx.query(`select pg_advisory_xact_lock(${WRITE_LOCK})`);
      let providerCertificates: Map<string, string> | undefined;
      const certificates = async () =>
        (providerCertificates ??= new Map(
          (
            await tx.query<{ orgno: string; certificate: string }>(
              'select orgno, certificate from mailbox_provider',
            )
          ).map((r) => [r.orgno, r.certificate]),
        ));
      return fn({
        tx,
        write: async (persons) => {
          const known = await certificates();
          await this.repository.upsert(
            tx,
            persons.map((p) => renderForWrite(p, known)),
          );
        },
        providerCertificates: certificates,
        bulk: () => this.bulk(tx),
        providerCertificateChanged: (orgno) => this.repository.touchInheritingPersons(tx, orgno),
        remove: (identifiers) => this.repository.remove(tx, identifiers),
        removeAll: () => this.repository.removeAll(tx),
        everUsed: (identifier) => this.repository.everUsed(tx, identifier),
        find: async (personidentifikator) => {
          const [found] = await this.repository.findMany([personidentifikator], tx);
          return found ? recordOf(found) : undefined;
        },
      });
    }, options);
  }
}

/**
 * Renders every stored flip instant again when the register's records were rendered with another
 * period of the 18-month rule than FRESHNESS_MONTHS (docs/freshness.md#changing-the-period), and
 * records the period. Called when the register's store is opened; once the period matches, it is
 * one small read. Under the write lock, in one transaction: a concurrent writer waits, and a
 * crash leaves the old flips and the old period together. No change ids: the persons' answers
 * are the same bytes, only the instant their varslingsstatus flips has moved. Returns how many
 * persons it rendered again.
 */
export async function renderFlipsForThePeriod(db: Database, pageSize = 10_000): Promise<number> {
  const period = String(FRESHNESS_MONTHS);
  const recorded = (q: Queryable) =>
    q.query<{ value: string }>(`select value from register_rule where name = 'freshness_months'`);
  if ((await recorded(db))[0]?.value === period) return 0;
  return db.transaction(
    async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(${WRITE_LOCK})`);
      if ((await recorded(tx))[0]?.value === period) return 0; // another process did it meanwhile
      let after = '';
      let done = 0;
      for (;;) {
        const rows = await tx.query<{ p: string; basis: number }>(
          `select personidentifikator as p, varsling_basis as basis from person
         where varsling_flip is not null and personidentifikator > $1
         order by personidentifikator limit $2`,
          [after, pageSize],
        );
        if (rows.length === 0) break;
        const flips = rows.map((r) => ({ p: r.p, f: freshnessEnd(r.basis) }));
        // The header is `V|<basis>|<flip>|...` (answer/answer.record.ts): only the flip changes.
        await tx.query(
          `update person set varsling_flip = t.f,
           lookup = regexp_replace(lookup, '^V\\|([0-9]+)\\|[0-9]+\\|', 'V|\\1|' || t.f || '|')
         from json_to_recordset(($1::text)::json) as t(p text, f bigint)
         where person.personidentifikator = t.p`,
          [JSON.stringify(flips)],
        );
        done += rows.length;
        after = rows[rows.length - 1]!.p;
      }
      await tx.query(
        `insert into register_rule (name, value) values ('freshness_months', $1)
       on conflict (name) do update set value = excluded.value`,
        [period],
      );
      return done;
      // Long work: every person with a flip, at start (docs/operations.md#timeouts).
    },
    { long: true },
  );
}
