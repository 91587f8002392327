// Crashes, with real processes on both stores:
// - `krr import` of a large file killed with SIGKILL while it writes leaves the register exactly as
//   before (export compared), and the next commands work (embedded: the dead process's lock is
//   taken over and PGlite's data directory opens again);
// - `krr serve` killed with SIGKILL under mailbox write load loses no acknowledged change: after a
//   restart the feed read from 0 pages without gaps and holds every acknowledged change in its
//   latest state, and agrees with the export.

import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { generateSelfSignedCertificate } from '../../src/certificate/certificate-generator.js';
import { syntheticPersons } from '../../src/demo/synthetic-persons.js';
import type { Person } from '../../src/person/person.js';
import { renderExportLine, renderPerson } from '../../src/answer/answer.render.js';
import type { StoreKind } from '../../src/store/database.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../support/stores.js';
import {
  assertOk,
  devToken,
  exited,
  killHard,
  krr,
  PROCESS_TIMEOUT_MS,
  serve,
  sleep,
  startKrr,
} from '../support/processes.js';
import type { Server } from '../support/processes.js';

const BIG = Number(process.env.KRR_CRASH_PERSONS ?? 150_000);
const PROVIDER = '984661185';

function jsonl(persons: Iterable<Person>): string {
  let out = '';
  for (const p of persons) out += `${renderExportLine(renderPerson(p))}\n`;
  return out;
}

/** Bytes under `dir`, recursively. */
function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    try {
      total += entry.isDirectory() ? sizeOf(path) : statSync(path).size;
    } catch {
      // a file removed meanwhile (WAL recycling)
    }
  }
  return total;
}

let big: Promise<string> | undefined;

/** The large import file (BIG persons, 140 MB by default): the same for both stores, written once. */
function bigImportFile(): Promise<string> {
  big ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'krr-crash-big-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'big.jsonl');
    await writeFile(file, jsonl(syntheticPersons(BIG, { seed: 2 })));
    return file;
  })();
  return big;
}

interface CliStore {
  readonly args: readonly string[];
  /** How much the store has written so far (grows with uncommitted rows too). */
  written(): Promise<number>;
  cleanup(): Promise<void>;
}

/** A new store: a data directory with an empty store in it (copied), or a database of its own. */
async function freshCliStore(kind: StoreKind, scratch: string): Promise<CliStore> {
  if (kind === 'embedded') {
    const dataDir = await mkdtemp(join(scratch, 'data-'));
    await copyEmptyEmbeddedStore(dataDir);
    return {
      args: ['--data-dir', dataDir],
      written: () => Promise.resolve(sizeOf(dataDir)),
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const database = await freshDatabase('krr_crash');
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  return {
    args: ['--database', database.url],
    // The table grows while the import's transaction writes, before anything is visible.
    written: async () => {
      const [row] = await sql<{ size: number }[]>`
        select coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 as size
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 't', 'i')`;
      return Number(row!.size);
    },
    async cleanup() {
      await sql.end({ timeout: 1 });
      await database.cleanup();
    },
  };
}

for (const kind of STORE_KINDS) {
  describe(`crashes (${kind})`, { skip: await skipReason(kind) }, () => {
    let scratch = '';
    const stores: CliStore[] = [];
    const servers: Server[] = [];
    const fresh = async () => {
      const s = await freshCliStore(kind, scratch);
      stores.push(s);
      return s;
    };

    before(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'krr-crash-'));
    });
    after(async () => {
      for (const s of servers) await killHard(s.child);
      await Promise.all(stores.map((s) => s.cleanup()));
      await rm(scratch, { recursive: true, force: true });
    });

    it('an import killed with SIGKILL while writing leaves the register as it was; the next import works', async () => {
      const store = await fresh();
      // The register before: 300 persons. The big file changes them all and adds many more.
      const baseFile = join(scratch, `base-${kind}.jsonl`);
      await writeFile(baseFile, jsonl(syntheticPersons(300, { seed: 1 })));
      assertOk(await krr(['import', baseFile, ...store.args]), 'the first import');
      const before_ = await krr(['export', ...store.args]);
      assertOk(before_, 'export before');
      const bigFile = await bigImportFile();

      const sizeBefore = await store.written();
      const child = startKrr(['import', bigFile, ...store.args]);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.stdout!.resume();
      const end = exited(child);
      // Kill once rows are being written: the store has grown by a few megabytes.
      const deadline = Date.now() + PROCESS_TIMEOUT_MS;
      while (child.exitCode === null) {
        const grown = (await store.written()) - sizeBefore;
        if (grown > 4 * 1024 * 1024) break;
        assert.ok(Date.now() < deadline, 'the import wrote nothing');
        await sleep(20);
      }
      assert.equal(child.exitCode, null, `the import ended before it could be killed: ${stderr}`);
      child.kill('SIGKILL');
      const killed = await end;
      assert.equal(killed.signal, 'SIGKILL');

      // The register is exactly as before: nothing of the killed import is visible.
      const afterKill = await krr(['export', ...store.args]);
      assertOk(afterKill, 'export after the kill (embedded: takes over the dead process lock)');
      assert.equal(afterKill.stdout, before_.stdout, 'the killed import changed the register');

      // And the store works: a new import commits, and a server starts on it.
      const nextFile = join(scratch, `next-${kind}.jsonl`);
      const next = [...syntheticPersons(320, { seed: 3 })].slice(300);
      await writeFile(nextFile, jsonl(next));
      assertOk(await krr(['import', nextFile, ...store.args]), 'the import after the kill');
      const afterNext = await krr(['export', ...store.args]);
      assertOk(afterNext, 'export after the next import');
      assert.equal(afterNext.stdout.split('\n').filter(Boolean).length, 320);
      const server = await serve(['--dev', ...store.args]);
      servers.push(server);
      await killHard(server.child);
    });

    it('a server killed with SIGKILL under mailbox writes loses no acknowledged change; the feed is gap-free', async () => {
      const store = await fresh();
      const PERSONS = [...syntheticPersons(400, { seed: 4 })].map((p): Person => ({
        personidentifikator: p.personidentifikator,
        status: 'AKTIV',
        reservasjon: 'NEI',
      }));
      const file = join(scratch, `mailbox-${kind}.jsonl`);
      await writeFile(file, jsonl(PERSONS));
      assertOk(await krr(['import', file, ...store.args]), 'import');
      const cert = await generateSelfSignedCertificate({
        commonName: 'crash provider',
        keyUsage: 'encryption',
      });
      const certFile = join(scratch, `cert-${kind}.pem`);
      await writeFile(certFile, cert.certificatePem);
      assertOk(
        await krr([
          'providers',
          'add',
          '--orgno',
          PROVIDER,
          '--name',
          'Digipost',
          '--cert',
          certFile,
          ...store.args,
        ]),
        'providers add',
      );
      // The dev issuer is the server's public URL: pinned, so that the tokens made now are accepted by
      // the server before and after its restart (which listens on another free port).
      const issuerArgs = ['--public-url', 'http://krr-crash-test.invalid'];
      const writeToken = await devToken(
        [...store.args, ...issuerArgs],
        'krr:global/postkasse.write',
        `0192:${PROVIDER}`,
      );
      const feedToken = await devToken(
        [...store.args, ...issuerArgs],
        'krr:global/hentendring.read krr:global/kontaktinformasjon.read krr:global/digitalpost.read',
      );

      let server = await serve(['--dev', ...issuerArgs, ...store.args]);
      servers.push(server);
      if (kind === 'embedded') {
        // One process per data directory: a second one is refused, clearly, while the server runs.
        const second = await krr(['export', ...store.args]);
        assert.notEqual(second.code, 0, 'export while a server holds the data directory must fail');
        assert.match(
          second.stderr,
          new RegExp(`in use by another krr process \\(pid ${server.child.pid}\\)`),
        );
        assert.doesNotMatch(second.stderr, /^\s+at /m, 'a clear message, not a stack trace');
      }

      // Each worker owns its persons and changes them one request at a time, so the latest
      // acknowledged address of a person is known; one request per worker may be in flight at the kill.
      const acknowledged = new Map<string, string | null>(); // null: the mailbox was deleted
      const inFlight = new Map<string, string | null>();
      let stop = false;
      let acks = 0;
      const unexpected: string[] = [];
      async function operate(
        operation: string,
        body: Record<string, unknown>,
        pid: string,
        value: string | null,
      ) {
        inFlight.set(pid, value);
        let res: Response;
        try {
          res = await fetch(`${server.base}/rest/v1/postkasse/${operation}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${writeToken}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        } catch {
          stop = true; // the server is gone: this change is neither acknowledged nor refused
          return;
        }
        const text = await res.text().catch(() => '');
        if (res.status !== 200 || (JSON.parse(text) as { status?: unknown }).status !== 'OK') {
          if (!stop) unexpected.push(`${operation} ${res.status} ${text}`);
          return;
        }
        inFlight.delete(pid);
        acknowledged.set(pid, value);
        acks++;
      }
      const WORKERS = 4;
      const workers = Array.from({ length: WORKERS }, async (_, w) => {
        const mine = PERSONS.filter((_, i) => i % WORKERS === w).map((p) => p.personidentifikator);
        for (let round = 0; !stop; round++) {
          for (const pid of mine) {
            if (stop) return;
            const address = `person.${w}.${round}#MB${String(round).padStart(2, '0')}`;
            const current = acknowledged.get(pid);
            if (current === undefined) {
              await operate(
                'opprettOgVelg',
                { personidentifikator: pid, virksomhetsidentifikator: PROVIDER, postkasseadresse: address },
                pid,
                address,
              );
            } else if (current !== null && round % 3 === 2) {
              await operate(
                'slett',
                { personidentifikator: pid, virksomhetsidentifikator: PROVIDER },
                pid,
                null,
              );
            } else if (current === null) {
              await operate(
                'opprettOgVelg',
                { personidentifikator: pid, virksomhetsidentifikator: PROVIDER, postkasseadresse: address },
                pid,
                address,
              );
            } else {
              await operate(
                'oppdater',
                { personidentifikator: pid, virksomhetsidentifikator: PROVIDER, postkasseadresse: address },
                pid,
                address,
              );
            }
          }
        }
      });

      const deadline = Date.now() + PROCESS_TIMEOUT_MS;
      while (acks < 600) {
        assert.ok(
          Date.now() < deadline && !stop,
          `only ${acks} writes acknowledged: ${unexpected.slice(0, 3).join('; ')}`,
        );
        await sleep(20);
      }
      server.child.kill('SIGKILL');
      await exited(server.child);
      stop = true;
      await Promise.all(workers);
      assert.deepEqual(unexpected, [], 'every write before the kill succeeded');

      // Restart on the same store (embedded: the dead server's lock is taken over).
      server = await serve(['--dev', ...issuerArgs, ...store.args]);
      servers.push(server);

      // The feed from 0: pages follow each other without gaps; each person once, ids ascending.
      const seen = new Map<string, Record<string, unknown>>();
      let fra = 0;
      for (let pages = 0; ; pages++) {
        assert.ok(pages < 100, 'the feed does not end');
        const res = await fetch(`${server.base}/rest/v2/krr/hentEndringer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${feedToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ fraEndringsId: fra }),
        });
        const text = await res.text();
        assert.equal(res.status, 200, text);
        const page = JSON.parse(text) as {
          list: Record<string, unknown>[];
          fraEndringsId: number;
          tilEndringsId: number;
          sisteEndringsId: number;
        };
        assert.equal(page.fraEndringsId, fra);
        assert.ok(page.tilEndringsId >= fra && page.tilEndringsId <= page.sisteEndringsId);
        for (const p of page.list) {
          const pid = String(p.personidentifikator);
          assert.ok(!seen.has(pid), 'a person appears once in a read from 0');
          seen.set(pid, p);
        }
        if (page.tilEndringsId === page.sisteEndringsId) break;
        assert.ok(page.list.length > 0 && page.tilEndringsId > fra, 'a page that moves on');
        fra = page.tilEndringsId;
      }
      assert.equal(seen.size, PERSONS.length, 'every person is in the feed');

      let checked = 0;
      for (const [pid, value] of acknowledged) {
        const dp = seen.get(pid)!.digital_post as { postkasseadresse?: string } | undefined;
        const shown = dp?.postkasseadresse ?? null;
        // The request in flight at the kill may or may not have committed; nothing older may show.
        const allowed = inFlight.has(pid) ? [value, inFlight.get(pid)] : [value];
        assert.ok(
          allowed.includes(shown),
          `an acknowledged change was lost: shows ${shown}, acknowledged ${value}`,
        );
        checked++;
      }
      assert.ok(checked > 100);

      // The feed agrees with the export: the same persons with the same mailboxes.
      await killHard(server.child);
      const exported = await krr(['export', ...store.args]);
      assertOk(exported, 'export');
      const lines = exported.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, PERSONS.length);
      for (const line of lines) {
        const fromFeed = seen.get(String(line.personidentifikator))!;
        assert.deepEqual(fromFeed.digital_post, line.digital_post);
      }
    });
  });
}
