import type { Database, StoreConfig } from './database.js';
import { openEmbedded } from './embedded.database.js';
import { migrate } from './migrations.js';
import { openPostgres } from './postgres.database.js';

/** Opens the configured store and brings its schema up to date. */
export async function openStore(config: StoreConfig): Promise<Database> {
  const db =
    config.kind === 'embedded'
      ? await openEmbedded(config.dataDir)
      : await openPostgres({ url: config.url, ...(config.schema ? { schema: config.schema } : {}) });
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
