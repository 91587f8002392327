import type { Database, Queryable } from '../store/database.js';
import type { Person } from './person.js';
import { renderPerson } from './person.render.js';
import { PersonRepository } from './person.repository.js';

/** Writes inside one open transaction. */
export interface PersonWriteSession {
  write(persons: readonly Person[]): Promise<void>;
}

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

  /** Runs `fn` in one transaction: all its writes land together, or none of them. */
  async session<T>(fn: (session: PersonWriteSession) => Promise<T>): Promise<T> {
    return this.db.transaction((tx: Queryable) =>
      fn({ write: (persons) => this.repository.upsert(tx, persons.map(renderPerson)) }),
    );
  }
}
