#!/usr/bin/env node
// Import throughput, reproducibly: generates a synthetic register (`krr generate`), then runs
// `krr import` as a process (what an operator runs) into a fresh PostgreSQL database and a fresh
// embedded data directory, and again into the now full register (the "no change" case).
//
//   npm run build && node bench/import.mjs [--persons N] [--stores postgres,embedded]
//     [--database postgres://postgres@127.0.0.1:5432/postgres] [--compare OTHER/bin/krr.js]
//     [--providers] [--json FILE]
//
// --compare runs another build the same way right after each run (e.g. the previous release), so
// a machine loaded by other work still gives a fair ratio. --providers registers the demo mailbox
// providers first, as a real register has them (their persons' certificates are then inherited).
// Prints one line per run and, with --json, writes the figures as JSON.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    persons: { type: 'string', default: '1000000' },
    stores: { type: 'string', default: 'postgres,embedded' },
    database: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    compare: { type: 'string' },
    providers: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const persons = Number(values.persons);
const KRR = join(ROOT, 'bin/krr.js');
if (!existsSync(join(ROOT, 'dist/cli/bin.js'))) {
  console.error('run `npm run build` first');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'krr-bench-import-'));
const file = join(work, 'persons.jsonl');
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/**
 * @param {string} bin
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [options]
 */
function krr(bin, args, options = {}) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    ...options,
    env: { ...process.env, KRR_LOG_LEVEL: 'silent' },
  });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`krr ${args[0]} failed (${r.status}): ${r.stderr}`);
  return { stdout: String(r.stdout), seconds };
}

console.log(`generating ${persons} persons ...`);
{
  const fd = openSync(file, 'w');
  const r = spawnSync(process.execPath, [KRR, 'generate', '--persons', String(persons)], {
    stdio: ['ignore', fd, 'inherit'],
  });
  closeSync(fd);
  if (r.status !== 0) throw new Error('krr generate failed');
}

// The generated persons carry the demo providers' certificates.
const { DEMO_DIGIPOST_CERTIFICATE, DEMO_EBOKS_CERTIFICATE } = await import(
  join(ROOT, 'dist/demo/demo-certificates.js')
);
const providers = [
  ['984661185', 'Digipost', DEMO_DIGIPOST_CERTIFICATE],
  ['996460320', 'e-Boks', DEMO_EBOKS_CERTIFICATE],
].map(([orgno, name, certificate]) => {
  const certFile = join(work, `${orgno}.der`);
  writeFileSync(certFile, Buffer.from(certificate, 'base64'));
  return ['providers', 'add', '--orgno', orgno, '--name', name, '--cert', certFile];
});

async function freshPostgres() {
  const name = `krr_bench_import_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(values.database, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(values.database);
  url.pathname = `/${name}`;
  return {
    args: ['--database', url.toString()],
    async drop() {
      const sql = postgres(values.database, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}

function freshEmbedded() {
  const dir = mkdtempSync(join(work, 'data-'));
  return {
    args: ['--data-dir', dir],
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `imported N persons from L lines in S s (R persons/s)`: the import's own figure. */
/** @param {string} stdout */
function rateOf(stdout) {
  const m = /\((\d+) persons\/s\)/.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

/**
 * @param {string} bin
 * @param {string} store
 */
async function runBuild(bin, store) {
  const target = store === 'postgres' ? await freshPostgres() : freshEmbedded();
  try {
    if (values.providers) for (const args of providers) krr(bin, [...args, ...target.args]);
    const first = krr(bin, ['import', file, ...target.args]);
    const again = krr(bin, ['import', file, ...target.args]);
    return {
      store,
      build: bin,
      persons,
      importPersonsPerSecond: rateOf(first.stdout),
      importProcessSeconds: Number(first.seconds.toFixed(2)),
      reimportPersonsPerSecond: rateOf(again.stdout),
      reimportProcessSeconds: Number(again.seconds.toFixed(2)),
    };
  } finally {
    await target.drop();
  }
}

const results = [];
for (const store of values.stores.split(',')) {
  for (const bin of [KRR, ...(values.compare ? [resolve(values.compare)] : [])]) {
    const r = await runBuild(bin, store);
    results.push(r);
    console.log(
      `${store.padEnd(8)} ${bin === KRR ? 'this build' : bin}: import ${r.importPersonsPerSecond} persons/s ` +
        `(${r.importProcessSeconds} s as a process), re-import unchanged ${r.reimportPersonsPerSecond} persons/s ` +
        `(${r.reimportProcessSeconds} s)`,
    );
  }
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
