// The same suite runs on both stores. PostgreSQL is the one at KRR_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test); each opened store gets a schema of its own, so test
// files can run in parallel. Where no PostgreSQL answers, its tests are skipped with the reason
// printed, except in CI (CI=true) or when KRR_TEST_DATABASE_URL is set: there it is a failure.

import { mkdtemp, rm } from 'node:fs/promises';
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

export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  const { config, cleanup } = await freshStoreConfig(kind);
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

/**
 * For `describe(..., { skip })`: the reason to skip `kind`'s tests, or false. Throws in CI when
 * PostgreSQL is missing, so a broken CI database fails the run instead of silently skipping.
 */
export async function skipReason(kind: StoreKind): Promise<string | false> {
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
