import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { StoreLockedError } from '../errors/errors.js';
import { copyOptions } from './database.js';
import type { Database, Queryable, StoreTransaction } from './database.js';

/** Where the embedded store keeps its database inside the data directory. */
export const EMBEDDED_DB_SUBDIR = 'pgdata';
const LOCK_FILE = 'krr.lock';

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one process's database: a second process opening the same directory would corrupt it.
 * A lock file with the holder's pid refuses the second one; a lock left by a dead process is taken over.
 */
function acquireLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processIsAlive(holder)) {
        throw new StoreLockedError(
          `the data directory ${dataDir} is in use by another krr process (pid ${holder}); stop it first, or use another --data-dir`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new StoreLockedError(`could not lock the data directory ${dataDir}`);
}

export async function openEmbedded(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const release = acquireLock(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(join(dataDir, EMBEDDED_DB_SUBDIR), {
      parsers: { 20: (x: string) => Number(x) },
      // A large import otherwise leaves about a gigabyte of WAL behind in the data directory.
      postgresqlconf: ['max_wal_size = 64MB', 'min_wal_size = 32MB', 'full_page_writes = off'],
    });
  } catch (err) {
    release();
    throw err;
  }

  const wrap = (q: Pick<PGlite, 'query'>): Queryable => ({
    async query<R extends object>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = await q.query<R>(text, params as unknown[]);
      return result.rows;
    },
  });
  const root = wrap(db);
  let closed = false;
  return {
    kind: 'embedded',
    query: root.query.bind(root),
    // PGlite decodes text in its own process memory anyway: the strings become bytes here.
    async queryRaw(text, params = []) {
      // The columns asked for this way are text (see Database.queryRaw).
      const result = await db.query<(string | null)[]>(text, params as unknown[], { rowMode: 'array' });
      return result.rows.map((row) =>
        row.map((v) => (v === null || v === undefined ? null : Buffer.from(String(v), 'utf8'))),
      );
    },
    async exec(script) {
      await db.exec(script);
    },
    async transaction(fn) {
      return db.transaction((tx) => {
        const t: StoreTransaction = {
          ...wrap(tx),
          // PGlite reads COPY's input from a Blob named /dev/blob.
          async copyFrom(target, data, format, options = {}) {
            await tx.query(`copy ${target} from '/dev/blob' with (${copyOptions(format, options)})`, [], {
              // Cast: with the DOM library in the program (preact's JSX types) BlobPart wants an
              // ArrayBuffer-backed view; PGlite takes any.
              blob: new Blob((data instanceof Uint8Array ? [data] : [...data]) as unknown as BlobPart[]),
            });
          },
        };
        return fn(t);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}
