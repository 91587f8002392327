// Where a dev server is reached and the issuer it accepts, recorded with the store when it starts,
// so that `krr token` run without host, port or public URL mints tokens that server accepts (a
// server on `--port 18080` and a bare `krr token` on the same data directory agree).

import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KrrConfig } from '../config/config.js';
import type { Database, StoreConfig } from '../store/database.js';

export interface DevIdentity {
  readonly publicUrl: string;
  readonly issuer: string;
}

const FILE = 'dev-identity.json';
const SETTING = 'dev_identity';

function parse(text: string | undefined): DevIdentity | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<DevIdentity>;
    return typeof v.publicUrl === 'string' && typeof v.issuer === 'string'
      ? { publicUrl: v.publicUrl, issuer: v.issuer }
      : undefined;
  } catch {
    return undefined;
  }
}

export async function recordDevIdentity(
  store: StoreConfig,
  db: Database,
  identity: DevIdentity,
): Promise<void> {
  const text = JSON.stringify(identity);
  if (store.kind === 'embedded') {
    // Written whole, then renamed into place: a reader never sees half a file.
    const path = join(store.dataDir, FILE);
    const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, path);
    return;
  }
  await db.query(
    'insert into register_setting (name, value) values ($1, $2) on conflict (name) do update set value = excluded.value',
    [SETTING, text],
  );
}

/** What the last dev server on the store recorded; reads no database for the embedded store. */
export async function recordedDevIdentity(
  store: StoreConfig,
  db: Database | undefined,
): Promise<DevIdentity | undefined> {
  if (store.kind === 'embedded') {
    try {
      return parse(readFileSync(join(store.dataDir, FILE), 'utf8'));
    } catch {
      return undefined;
    }
  }
  if (!db) return undefined;
  const [row] = await db.query<{ value: string }>('select value from register_setting where name = $1', [
    SETTING,
  ]);
  return parse(row?.value);
}

/**
 * The server `krr token` mints for (its base URL and Maskinporten-like issuer): the configured one;
 * or, when nothing decides it (no devIssuer, publicUrl, host or port), the one the last dev server
 * on the store recorded.
 */
export async function devIdentityForToken(config: KrrConfig, db: Database | undefined): Promise<DevIdentity> {
  const configured = { publicUrl: config.publicUrl, issuer: config.auth.devIssuer };
  if (!config.auth.devIssuerDefaulted) return configured;
  return (await recordedDevIdentity(config.store, db)) ?? configured;
}
