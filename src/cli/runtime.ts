// Shared by the commands: the config's store, opened and migrated, and the rules built from config.

import { isEncryptionCertificate } from '../certificate/certificate-check.js';
import type { KrrConfig } from '../config/config.js';
import type { PersonRules } from '../person/person.js';
import type { Database } from '../store/database.js';
import { openStore } from '../register/open-store.js';

export function personRules(config: KrrConfig): PersonRules {
  return { allowSynthetic: config.allowSyntheticIdentifiers, isCertificate: isEncryptionCertificate };
}

/** Opens the store for the length of `fn` and always closes it (the embedded store's lock with it). */
export async function withStore<T>(config: KrrConfig, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openStore(config.store);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
