// The same suite runs on both stores. PostgreSQL is the one at KRR_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test); each opened store gets a schema of its own, so test
// files can run in parallel. Where no PostgreSQL answers, its tests are skipped with the reason
// printed, except in CI (CI=true) or when KRR_TEST_DATABASE_URL is set: there it is a failure.
// KRR_TEST_STORES=postgres or =embedded runs the tests of one store only (the others are skipped,
// the reason printed); the default, and CI, is both.
//
// A new embedded store is a copy of an empty one made once (migrated, closed): PGlite's initdb
// costs seconds of CPU, a copy a fraction of one. The test runner makes that store once for the
// whole run and names it in KRR_TEST_EMBEDDED_TEMPLATE; otherwise each process makes its own.

import { existsSync, rmSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Database, StoreConfig, StoreKind } from '../../src/store/database.js';
import { openStore } from '../../src/register/open-store.js';

export const TEST_DATABASE_URL =
  process.env.KRR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const POSTGRES_REQUIRED = process.env.CI === 'true' || process.env.KRR_TEST_DATABASE_URL !== undefined;

export interface TestStore {
  readonly kind: StoreKind;
  readonly config: StoreConfig;
  readonly db: Database;
  /** Closes the store and removes its data (directory or schema). */
  dispose(): Promise<void>;
}

let postgresReachable: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL answers; otherwise why not. */
export function postgresUnavailableReason(): Promise<string | undefined> {
  postgresReachable ??= (async () => {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      await sql`select 1`;
      return undefined;
    } catch (err) {
      return `PostgreSQL at ${TEST_DATABASE_URL} is not reachable (${(err as Error).message})`;
    } finally {
      await sql.end({ timeout: 1 });
    }
  })();
  return postgresReachable;
}

/** Makes an empty embedded store in `dataDir`, brought up to date and closed, to be copied. */
export async function makeEmbeddedTemplate(dataDir: string): Promise<void> {
  const db = await openStore({ kind: 'embedded', dataDir });
  await db.close();
}

let ownTemplate: Promise<string> | undefined;

function embeddedTemplate(): Promise<string> {
  const shared = process.env.KRR_TEST_EMBEDDED_TEMPLATE;
  if (shared) {
    if (!existsSync(shared))
      throw new Error(`KRR_TEST_EMBEDDED_TEMPLATE names ${shared}, which is not there`);
    return Promise.resolve(shared);
  }
  ownTemplate ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'krr-test-template-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await makeEmbeddedTemplate(dir);
    return dir;
  })();
  return ownTemplate;
}

/**
 * Fills `dataDir` (missing or empty) with an empty embedded store that is up to date, as the first
 * command on a new data directory would leave it, but copied (see above).
 */
export async function copyEmptyEmbeddedStore(dataDir: string): Promise<void> {
  if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
    throw new Error(`${dataDir} is not empty`);
  }
  await cp(await embeddedTemplate(), dataDir, { recursive: true });
}

/** A config for a fresh store of `kind` (not opened). */
export async function freshStoreConfig(
  kind: StoreKind,
): Promise<{ config: StoreConfig; cleanup: () => Promise<void> }> {
  if (kind === 'embedded') {
    const dir = await mkdtemp(join(tmpdir(), 'krr-test-'));
    return { config: { kind, dataDir: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const schema = `krr_test_${randomBytes(6).toString('hex')}`;
  return {
    config: { kind, url: TEST_DATABASE_URL, schema },
    async cleanup() {
      const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop schema if exists ${schema} cascade`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}

/** A fresh store of `kind`, opened and up to date (embedded: a copy of the empty one, see above). */
export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  const { config, cleanup } = await freshStoreConfig(kind);
  if (config.kind === 'embedded') await copyEmptyEmbeddedStore(config.dataDir);
  const db = await openStore(config);
  return {
    kind,
    config,
    db,
    async dispose() {
      await db.close();
      await cleanup();
    },
  };
}

export const STORE_KINDS: readonly StoreKind[] = ['embedded', 'postgres'];

/** The stores whose tests run: KRR_TEST_STORES=postgres|embedded|both (the default). */
function selectedStores(): readonly StoreKind[] {
  const chosen = process.env.KRR_TEST_STORES ?? 'both';
  if (chosen === 'both') return STORE_KINDS;
  if (chosen === 'postgres' || chosen === 'embedded') return [chosen];
  throw new Error(`KRR_TEST_STORES=${chosen}: say postgres, embedded or both`);
}

/**
 * For `describe(..., { skip })`: the reason to skip `kind`'s tests, or false. Throws in CI when
 * PostgreSQL is missing, so a broken CI database fails the run instead of silently skipping.
 */
export async function skipReason(kind: StoreKind): Promise<string | false> {
  if (!selectedStores().includes(kind)) {
    const reason = `KRR_TEST_STORES=${process.env.KRR_TEST_STORES} leaves out the ${kind} store`;
    console.log(`# skipping the ${kind} store's tests: ${reason}`);
    return reason;
  }
  if (kind === 'embedded') return false;
  const reason = await postgresUnavailableReason();
  if (!reason) return false;
  if (POSTGRES_REQUIRED) throw new Error(`${reason}; CI and KRR_TEST_DATABASE_URL require it`);
  console.log(`# skipping the PostgreSQL tests: ${reason}`);
  return reason;
}

/**
 * A PostgreSQL database of its own (for processes, whose CLI has no schema option), dropped by
 * `cleanup` even while connections remain.
 */
export async function freshDatabase(prefix: string): Promise<{ url: string; cleanup: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async cleanup() {
      const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}
