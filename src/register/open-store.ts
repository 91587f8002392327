import type { Database, StoreConfig } from '../store/database.js';
import { openEmbedded } from '../store/embedded.database.js';
import { migrate } from '../store/migrations.js';
import type { DataMigrations } from '../store/migrations.js';
import { openPostgres } from '../store/postgres.database.js';
import { ReplicaSet } from '../store/read-replicas.js';
import type { ReplicaSetOptions } from '../store/read-replicas.js';
import { renderMissingLookupRecords } from './person.legacy.js';
import { renderFlipsForThePeriod } from './person.writer.js';

/** The register's part of the store's migrations. */
export const REGISTER_DATA_MIGRATIONS: DataMigrations = {
  renderMissingLookupRecords: (tx) => renderMissingLookupRecords(tx),
};

/**
 * Opens the configured store, brings its schema up to date, and renders the stored flip instants
 * again if the 18-month rule's period changed since they were written.
 */
export async function openStore(config: StoreConfig): Promise<Database> {
  const db =
    config.kind === 'embedded'
      ? await openEmbedded(config.dataDir)
      : await openPostgres({
          url: config.url,
          ...(config.schema ? { schema: config.schema } : {}),
          ...(config.statementTimeoutSeconds !== undefined
            ? { statementTimeoutSeconds: config.statementTimeoutSeconds }
            : {}),
          ...(config.connectTimeoutSeconds !== undefined
            ? { connectTimeoutSeconds: config.connectTimeoutSeconds }
            : {}),
        });
  try {
    await migrate(db, REGISTER_DATA_MIGRATIONS);
    await renderFlipsForThePeriod(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/**
 * The configured read replicas of `primary` (docs/operations.md#replicas), checked in the
 * background until closed; undefined when none are configured. Their schema is the primary's
 * (replicated, never migrated here).
 */
export async function openReadReplicas(
  config: StoreConfig,
  primary: Database,
  options: Omit<ReplicaSetOptions, 'maxLagSeconds'> = {},
): Promise<ReplicaSet | undefined> {
  if (config.kind !== 'postgres' || !config.readUrls || config.readUrls.length === 0) return undefined;
  return ReplicaSet.open(
    primary,
    config.readUrls,
    {
      ...(config.schema ? { schema: config.schema } : {}),
      ...(config.statementTimeoutSeconds !== undefined
        ? { statementTimeoutSeconds: config.statementTimeoutSeconds }
        : {}),
      ...(config.connectTimeoutSeconds !== undefined
        ? { connectTimeoutSeconds: config.connectTimeoutSeconds }
        : {}),
    },
    {
      ...options,
      ...(config.maxReplicaLagSeconds !== undefined ? { maxLagSeconds: config.maxReplicaLagSeconds } : {}),
    },
  );
}
