import type { Database, StoreConfig } from '../store/database.js';
import { openEmbedded } from '../store/embedded.database.js';
import { migrate } from '../store/migrations.js';
import type { DataMigrations } from '../store/migrations.js';
import { openPostgres } from '../store/postgres.database.js';
import { renderMissingLookupRecords } from './person.legacy.js';

/** The register's part of the store's migrations. */
export const REGISTER_DATA_MIGRATIONS: DataMigrations = {
  renderMissingLookupRecords: (tx) => renderMissingLookupRecords(tx),
};

/** Opens the configured store and brings its schema up to date. */
export async function openStore(config: StoreConfig): Promise<Database> {
  const db =
    config.kind === 'embedded'
      ? await openEmbedded(config.dataDir)
      : await openPostgres({ url: config.url, ...(config.schema ? { schema: config.schema } : {}) });
  try {
    await migrate(db, REGISTER_DATA_MIGRATIONS);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
