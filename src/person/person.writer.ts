import type { Database, Queryable } from '../store/database.js';
import type { Person } from './person.js';
import { recordOf, renderPerson } from './person.render.js';
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
            persons.map((p) => renderPerson(withoutProviderCertificate(p, known))),
          );
        },
        providerCertificateChanged: (orgno) => this.repository.touchInheritingPersons(tx, orgno),
        find: async (personidentifikator) => {
          const [found] = await this.repository.findMany([personidentifikator], tx);
          return found ? recordOf(found) : undefined;
        },
      });
    });
  }
}

/**
 * A certificate equal to the current one of the person's mailbox provider is the provider's, not
 * the person's own: it is not stored with the person, so the provider's next certificate shows
 * for the person too. (Imports and synced feeds carry the effective certificate.)
 */
function withoutProviderCertificate(p: Person, providerCertificates: ReadonlyMap<string, string>): Person {
  if (!p.sertifikat || !p.digital_post) return p;
  if (providerCertificates.get(p.digital_post.postkasseleverandoeradresse) !== p.sertifikat) return p;
  const { sertifikat: _inherited, ...rest } = p;
  return rest;
}
