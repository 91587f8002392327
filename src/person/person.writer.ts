import type { Database, Queryable } from '../store/database.js';
import type { Person } from './person.js';
import { renderPerson } from './person.render.js';
import { PersonRepository } from './person.repository.js';

/** Writes inside one open transaction. */
export interface PersonWriteSession {
  write(persons: readonly Person[]): Promise<void>;
  /** The same transaction, for what must commit together with the persons (a sync cursor). */
  readonly tx: Queryable;
}

/**
 * Serialises the register's writers. Taken first in every write transaction and held until it
 * commits, it makes change ids commit-ordered: a transaction takes its ids only after the one
 * before it is visible, so a feed reader that sees id n has already been able to see every id
 * below n (contract section 5: no reader may miss a change).
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
  async session<T>(fn: (session: PersonWriteSession) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx: Queryable) => {
      await tx.query(`select pg_advisory_xact_lock(${WRITE_LOCK})`);
      return fn({ tx, write: (persons) => this.repository.upsert(tx, persons.map(renderPerson)) });
    });
  }
}
