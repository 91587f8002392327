// `npm run bench`: krr's speed as numbers anyone can reproduce. Generates a synthetic
// register, imports it with `krr import` into each store, serves it with `krr serve --dev` (a child
// process, so its memory is its own) and drives it over loopback with autocannon from this process.
// Each figure is compared with a ceiling (or floor) measured on the same machine in the same run,
// the two measured in turn (ceiling, service, ceiling, service, ... `--rounds` times each, see
// rounds.ts), and each ratio printed as the median of the rounds' ratios with their spread:
//   - v2 bulk, cache off / the database ceiling: the store answering the service's own
//     1000-identifier query (same driver, same concurrency);
//   - v2 bulk, cache on / the machine ceiling: a bare node:http server answering the same requests
//     with the asked persons' pre-rendered bytes (machine-ceiling.mjs); and / the loopback
//     ceiling: the same server sending one fixed answer whatever is asked;
//   - `krr import` / the import ceiling: the store's side of the import alone (importCeiling);
//   - the change feed from 0 / the feed ceiling: the feed's page query alone, same driver, same
//     page size (feedCeiling);
//   - single lookups / the single-lookup floor: a bare node:http server doing the same one-person
//     query on the same pool (single-floor.mjs): its throughput, then p99 at half the floor's;
//   - peak RSS with the cache on, per person, / the answers' bytes the cache holds per person.
// Results: bench/results/*.json.
//
//   npm run bench -- [--persons N] [--seconds S] [--rounds R] [--quick] [--stores postgres,embedded]
//                    [--cache on,off] [--connections C] [--cache-bytes B] [--feed-seconds S]
//                    [--no-providers]
//
// Each register has the demo mailbox providers (Digipost, e-Boks) before the persons come, as a
// real register has its providers: the persons with their mailboxes show the provider's
// certificate, inherited, not stored with each of them (person.prepare.ts). --no-providers leaves
// them out: every such person then stores the certificate (1.2 kB), as in runs before 2026-11-24.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readdirSync } from 'node:fs';
import { once } from 'node:events';
import { cp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { isDerCertificate } from '../src/certificate/certificate.js';
import { DEMO_DIGIPOST_CERTIFICATE, DEMO_EBOKS_CERTIFICATE } from '../src/demo/demo-certificates.js';
import { DIGIPOST_ORGNO, EBOKS_ORGNO } from '../src/demo/demo-data.js';
import { syntheticPersons } from '../src/demo/synthetic-persons.js';
import { renderPersonAnswer } from '../src/answer/answer.compose.js';
import { viewFor } from '../src/access/access.view.js';
import { LOOKUP_SQL } from '../src/register/person.repository.js';
import { renderPerson } from '../src/answer/answer.render.js';
import { PersonWriter } from '../src/register/person.writer.js';
import { openStore } from '../src/register/open-store.js';
import type { StoreConfig, StoreKind } from '../src/store/database.js';
import { parseBlock } from '../src/transfer/import.block.js';
import { BLOCK_BYTES, blocksOfBytes } from '../src/transfer/import.service.js';
import { freshnessBoundary } from '../src/freshness/freshness.js';
import { CHANGE_PAGE_SQL } from '../src/changes/changes.repository.js';
import { FEED_PAGE_SIZE } from '../src/changes/changes.service.js';
import { atLeast, atMost, describeRatio, interleave, median, ratioJson, ratioOf } from './rounds.js';
import type { Goal, Ratio } from './rounds.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const KRR = join(ROOT, 'bin', 'krr.js');
const RESULTS = join(ROOT, 'bench', 'results');
const DATA_SCOPES = 'krr:global/kontaktinformasjon.read krr:global/digitalpost.read';
const FEED_SCOPES = `krr:global/hentendring.read ${DATA_SCOPES}`;
const ADMIN_URL = process.env.KRR_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  persons: number;
  seconds: number;
  quick: boolean;
  stores: StoreKind[];
  cacheModes: boolean[];
  rounds: number;
  connections: number;
  cacheBytes: number;
  feedSeconds: number;
  providers: boolean;
}

/**
 * Above this many persons the embedded store is left out unless --stores names it: its rounds
 * (one process, PGlite in WebAssembly, a third of PostgreSQL's speed) would take hours.
 */
const EMBEDDED_DEFAULT_MAX_PERSONS = 2_000_000;
/** The cache's default bound per person: the whole register fits (about 1.1 kB a person, measured). */
const CACHE_BYTES_PER_PERSON = 2048;

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const number = (name: string, fallback: number) => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
    return n;
  };
  const persons = Math.floor(number('--persons', quick ? 3000 : 1_000_000));
  const storesDefault = persons > EMBEDDED_DEFAULT_MAX_PERSONS ? 'postgres' : 'postgres,embedded';
  if (value('--stores') === undefined && persons > EMBEDDED_DEFAULT_MAX_PERSONS)
    log(
      `the embedded store is left out above ${EMBEDDED_DEFAULT_MAX_PERSONS} persons (its rounds would take hours); --stores postgres,embedded includes it`,
    );
  const storeNames = (value('--stores') ?? storesDefault).split(',');
  for (const s of storeNames) if (s !== 'postgres' && s !== 'embedded') throw new Error(`unknown store ${s}`);
  const stores = storeNames as StoreKind[];
  const cacheModes = (value('--cache') ?? 'off,on').split(',').map((m) => {
    if (m !== 'on' && m !== 'off') throw new Error('--cache takes on, off or on,off');
    return m === 'on';
  });
  return {
    persons,
    seconds: number('--seconds', quick ? 1 : 10),
    quick,
    stores,
    cacheModes,
    // --quick checks that every measurement still runs (CI), not how fast: one round of each.
    rounds: Math.max(1, Math.floor(number('--rounds', quick ? 1 : 3))),
    connections: Math.floor(number('--connections', 4)),
    cacheBytes: Math.floor(
      number('--cache-bytes', Math.max(2 * 1024 * 1024 * 1024, persons * CACHE_BYTES_PER_PERSON)),
    ),
    feedSeconds: number('--feed-seconds', quick ? 10 : 300),
    providers: !argv.includes('--no-providers'),
  };
}

// ---------------------------------------------------------------------------------------------
// Processes

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function krr(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(process.execPath, [KRR, ...args], {
    encoding: 'utf8',
    env: { ...process.env, KRR_LOG_LEVEL: 'warn', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`krr ${args[0]} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** dist/ is what `krr` runs: rebuilt when a source file is newer. */
function ensureBuilt(): void {
  let built: number;
  try {
    built = statSync(join(ROOT, 'dist', 'cli', 'bin.js')).mtimeMs;
  } catch {
    built = 0;
  }
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (newest(join(ROOT, 'src')) <= built) return;
  log('building dist/ (tsc) ...');
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) throw new Error('the build failed');
}

function storeArgs(kind: StoreKind, where: string): string[] {
  return kind === 'postgres' ? ['--database', where] : ['--data-dir', where];
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
}

async function startServer(kind: StoreKind, where: string, cacheBytes: number, port = '0'): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      // e.g. KRR_BENCH_SERVER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server
      ...(process.env.KRR_BENCH_SERVER_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []),
      KRR,
      'serve',
      '--dev',
      // The register's own jobs stay off: at start the reminder job would write to the outbox for
      // every person past 16 months (a fifth of a generated register) while the lookups are
      // measured, and a run of it is no lookup (its own cost: docs/jobs.md#reminders).
      '--no-jobs',
      ...storeArgs(kind, where),
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--log-level',
      'warn',
    ],
    {
      env: { ...process.env, KRR_LOOKUP_CACHE_BYTES: String(cacheBytes) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /krr is serving (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`krr serve exited (${code}) before serving`)));
  });
  child.stdout.resume();
  return { child, url };
}

function rssOf(pid: number): { peakMb: number; nowMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peakMb: kb('VmHWM') / 1024, nowMb: kb('VmRSS') / 1024 };
}

/** CPU seconds the process has used (user + system), from /proc/<pid>/stat. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------------------------------------
// Load

function pick<T>(list: readonly T[], n: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(list[Math.floor(Math.random() * list.length)]!);
  return out;
}

function lookupBodies(ids: readonly string[], perRequest: number, count: number): string[] {
  return Array.from({ length: count }, () =>
    JSON.stringify({ personidentifikatorer: pick(ids, perRequest) }),
  );
}

interface Load {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
}

async function load(
  url: string,
  token: string | undefined,
  bodies: readonly string[],
  seconds: number,
  connections: number,
  overallRate?: number,
): Promise<Load> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          body: bodies[Math.floor(Math.random() * bodies.length)]!,
        }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return {
    requestsPerSecond: result.requests.total / (result.duration || seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
  };
}

/**
 * Concurrency `connections`, each looping the service's own lookup query for `seconds`, sent as the
 * service sends it (a prepared statement, see openPostgres).
 */
async function databaseCeiling(
  kind: StoreKind,
  where: string,
  ids: readonly string[],
  seconds: number,
  connections: number,
): Promise<number> {
  let deadline = performance.now() + seconds * 1000;
  let persons = 0;
  if (kind === 'postgres') {
    const sql = postgres(where, { max: connections, onnotice: () => {} });
    try {
      await sql.unsafe(LOOKUP_SQL, [pick(ids, 1000).sort()], { prepare: true }).raw(); // connect
      deadline = performance.now() + seconds * 1000;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (performance.now() < deadline) {
            const rows = await sql.unsafe(LOOKUP_SQL, [pick(ids, 1000).sort()], { prepare: true }).raw();
            persons += rows.length;
          }
        }),
      );
      return persons / ((performance.now() - started) / 1000);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  // The embedded store lives in one process: the query through its own driver, one at a time.
  const db = await openStore({ kind: 'embedded', dataDir: where });
  try {
    await db.queryRaw(LOOKUP_SQL, [pick(ids, 1000).sort()]); // warm, as the service is
    deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    while (performance.now() < deadline) {
      persons += (await db.queryRaw(LOOKUP_SQL, [pick(ids, 1000).sort()])).length;
    }
    return persons / ((performance.now() - started) / 1000);
  } finally {
    await db.close();
  }
}

function storeConfig(kind: StoreKind, where: string): StoreConfig {
  return kind === 'postgres' ? { kind, url: where } : { kind, dataDir: where };
}

interface ImportBlock {
  readonly tuples: Uint8Array;
  readonly identifiers: string[];
}

/**
 * The import ceiling's input: the file's persons checked, rendered and encoded into the import's
 * COPY tuples here (untimed, with the import's own parseBlock and its own blocks of whole lines),
 * against the provider certificates of the register at `where`. Made once, for every round.
 */
async function importCeilingBlocks(kind: StoreKind, where: string, file: string): Promise<ImportBlock[]> {
  const db = await openStore(storeConfig(kind, where));
  try {
    const writer = new PersonWriter(db);
    const providerCertificates = await writer.session((s) => s.providerCertificates());
    const rules = { allowSynthetic: true, isCertificate: isDerCertificate };
    const blocks: ImportBlock[] = [];
    const chunks = createReadStream(file)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    for await (const bytes of blocksOfBytes(chunks, BLOCK_BYTES)) {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      const block = parseBlock(text, rules, providerCertificates);
      if (block.problem)
        throw new Error(`import ceiling: line ${block.problem.line} of a block: ${block.problem.reason}`);
      blocks.push({ tuples: block.tuples, identifiers: block.identifiers });
    }
    return blocks;
  } finally {
    await db.close();
  }
}

/**
 * One round of the import's ceiling: what the store alone takes of `krr import`. The import's own
 * bulk path (PersonWriter.bulk: into the empty register, its indexes dropped, COPY FREEZE, the
 * indexes built again) writes the pre-parsed blocks into the fresh register `where`, block after
 * block, timed from the transaction's start to its commit. The import does the same writes while
 * its workers parse, so this is what it would reach with parsing for free.
 */
async function importCeiling(
  kind: StoreKind,
  where: string,
  blocks: readonly ImportBlock[],
): Promise<number> {
  const db = await openStore(storeConfig(kind, where));
  try {
    const writer = new PersonWriter(db);
    const persons = blocks.reduce((n, b) => n + b.identifiers.length, 0);
    const started = performance.now();
    await writer.session(async (session) => {
      const bulk = session.bulk();
      for (const block of blocks) await bulk.write(block.tuples, block.identifiers);
      await bulk.finish();
    });
    return persons / ((performance.now() - started) / 1000);
  } finally {
    await db.close();
  }
}

/**
 * One round of the feed's ceiling: the feed's page statement alone (CHANGE_PAGE_SQL, as
 * ChangesRepository sends it: through the store krr opens, the same driver and settings, a page of
 * FEED_PAGE_SIZE) from change id 0 to the end, or for at most `maxSeconds`, as drainFeed does.
 */
async function feedCeiling(kind: StoreKind, where: string, maxSeconds: number) {
  const db = await openStore(storeConfig(kind, where));
  try {
    await db.query(CHANGE_PAGE_SQL, [0, 1]); // connect, as the service is
    const started = performance.now();
    let after = 0;
    let persons = 0;
    let complete = false;
    while (performance.now() - started < maxSeconds * 1000) {
      const rows = await db.query<{ latest: number; change_id: number | null }>(CHANGE_PAGE_SQL, [
        after,
        FEED_PAGE_SIZE,
      ]);
      const listed = rows.filter((r) => r.change_id !== null);
      persons += listed.length;
      const last = listed[listed.length - 1]?.change_id ?? rows[0]?.latest ?? after;
      if (last === (rows[0]?.latest ?? after)) {
        complete = true;
        break;
      }
      after = last;
    }
    return { personsPerSecond: persons / ((performance.now() - started) / 1000), persons, complete };
  } finally {
    await db.close();
  }
}

async function drainFeed(url: string, token: string, maxSeconds: number) {
  const started = performance.now();
  let fra = 0;
  let persons = 0;
  let complete = false;
  while (performance.now() - started < maxSeconds * 1000) {
    const res = await fetch(`${url}/rest/v2/krr/hentEndringer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fraEndringsId: fra }),
    });
    if (!res.ok) throw new Error(`the feed answered ${res.status}`);
    const page = (await res.json()) as { list: unknown[]; tilEndringsId: number; sisteEndringsId: number };
    persons += page.list.length;
    if (page.tilEndringsId === page.sisteEndringsId) {
      complete = true;
      break;
    }
    fra = page.tilEndringsId;
  }
  return { personsPerSecond: persons / ((performance.now() - started) / 1000), persons, complete };
}

// ---------------------------------------------------------------------------------------------
// The run

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

/** A bare server of bench/ (machine-ceiling.mjs, single-floor.mjs) as a child process: its URL. */
async function startBare(script: string, args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [join(ROOT, 'bench', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  child.stdout.resume();
  return { child, url: `http://127.0.0.1:${port}/` };
}

/** A gauge of the server's GET /metrics (undefined: not there). */
async function metric(url: string, name: string): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) return undefined;
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

interface Measured {
  readonly label: string;
  readonly ratio: Ratio;
  readonly goal?: Goal;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const command = `npm run bench -- --persons ${o.persons} --seconds ${o.seconds} --rounds ${o.rounds} --stores ${o.stores.join(',')} --cache ${o.cacheModes.map((c) => (c ? 'on' : 'off')).join(',')} --connections ${o.connections} --cache-bytes ${o.cacheBytes} --feed-seconds ${o.feedSeconds}${o.providers ? '' : ' --no-providers'}${o.quick ? ' --quick' : ''}`;
  const runStarted = performance.now();
  ensureBuilt();
  mkdirSync(RESULTS, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'krr-bench-'));
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [() => rm(work, { recursive: true, force: true })];
  const onSignal = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.once('SIGINT', onSignal);
  const bare = async (script: string, args: string[]) => {
    const server = await startBare(script, args);
    children.push(server.child);
    return server;
  };
  try {
    log(`generating ${o.persons} synthetic persons ...`);
    const file = join(work, 'persons.jsonl');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [KRR, 'generate', '--persons', String(o.persons), '--seed', '1'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      child.stdout.pipe(createWriteStream(file));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`krr generate exited ${code}`))));
    });

    // The identifiers to ask for, and every person's answer pre-rendered as krr renders it, for
    // the machine ceiling (machine-ceiling.mjs): one pass over the generated persons, written as
    // it goes (millions of answers are gigabytes, never all in this process).
    const now = Date.now();
    const boundary = freshnessBoundary(now);
    const fullView = viewFor(31, undefined);
    const answerFile = join(work, 'answers.jsonl');
    const ids: string[] = [];
    {
      const out = createWriteStream(answerFile);
      let chunk: string[] = [];
      for (const p of syntheticPersons(o.persons, { seed: 1 })) {
        ids.push(p.personidentifikator);
        chunk.push(renderPersonAnswer(renderPerson(p), fullView, boundary));
        if (chunk.length === 10_000) {
          if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
          chunk = [];
        }
      }
      out.end(chunk.length > 0 ? `${chunk.join('\n')}\n` : '');
      await once(out, 'finish');
    }
    const bulkBodies = lookupBodies(ids, 1000, 200);
    const singleBodies = lookupBodies(ids, 1, 5000);

    // The synthetic persons' mailboxes are at the demo providers, with their certificates.
    const providerArgs = [
      [DIGIPOST_ORGNO, 'Digipost', DEMO_DIGIPOST_CERTIFICATE],
      [EBOKS_ORGNO, 'e-Boks', DEMO_EBOKS_CERTIFICATE],
    ].map(([orgno, name, certificate]) => {
      const certFile = join(work, `${orgno}.der`);
      writeFileSync(certFile, Buffer.from(certificate!, 'base64'));
      return ['providers', 'add', '--orgno', orgno!, '--name', name!, '--cert', certFile];
    });

    const summary: string[] = [];
    // A fresh register of `kind` for this run, with the providers unless --no-providers. Removed at
    // the end, or earlier by `remove` (removing twice does no harm).
    // Each store's registers are copies of one made first with the providers (CREATE DATABASE
    // ... TEMPLATE, a copied directory): a register made by migrations and `krr providers add`
    // costs seconds, and the rounds need several.
    const templates = new Map<StoreKind, string>();
    let registers = 0;
    const freshRegister = async (kind: StoreKind, label: string) => {
      let where: string;
      let remove: () => Promise<void>;
      const template = templates.get(kind);
      const serial = registers++;
      if (kind === 'embedded') {
        const dir = join(work, `embedded-${label}-${serial}`);
        where = dir;
        if (template) await cp(template, dir, { recursive: true });
        remove = () => rm(dir, { recursive: true, force: true });
      } else {
        const name = `krr_bench_${label}_${randomBytes(4).toString('hex')}`;
        const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
        const from = template ? ` template ${new URL(template).pathname.slice(1)}` : '';
        await admin.unsafe(`create database ${name}${from}`);
        await admin.end({ timeout: 5 });
        const url = new URL(ADMIN_URL);
        url.pathname = `/${name}`;
        where = url.toString();
        remove = async () => {
          const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
          try {
            await a.unsafe(`drop database if exists ${name} with (force)`);
          } finally {
            await a.end({ timeout: 5 });
          }
        };
      }
      cleanups.push(remove);
      if (!template) {
        if (o.providers) for (const args of providerArgs) krr([...args, ...storeArgs(kind, where)]);
        else await (await openStore(storeConfig(kind, where))).close(); // migrated
        templates.set(kind, where);
      }
      return { where, remove };
    };
    // Each import and each lookup measurement starts with the disk written out and no checkpoint
    // due (where the role may ask for one): what the step before it wrote is not its cost. (After
    // a 1M import the checkpoint's writes otherwise stall the audit's commits for seconds.)
    const settle = async (kind: StoreKind) => {
      spawnSync('sync');
      if (kind !== 'postgres') return;
      const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await admin.unsafe('checkpoint').catch(() => log('  (no checkpoint: the role may not ask for one)'));
      await admin.end({ timeout: 5 });
    };

    for (const kind of o.stores) {
      // The import and its ceiling, in turn, each into a fresh register; the last import's
      // register is the one served.
      log(`[${kind}] import ceiling and krr import, ${o.rounds} rounds each, in turn ...`);
      const template = await freshRegister(kind, 'template');
      const blocks = await importCeilingBlocks(kind, template.where, file);
      let served: Awaited<ReturnType<typeof freshRegister>> | undefined;
      const [importCeilingRounds, importRounds] = await interleave(o.rounds, [
        async () => {
          const register = await freshRegister(kind, 'ceiling');
          await settle(kind);
          const rate = await importCeiling(kind, register.where, blocks);
          await register.remove(); // its disk space, before the next is made
          log(`  import ceiling: ${round(rate)} persons/s`);
          return rate;
        },
        async () => {
          await served?.remove();
          served = await freshRegister(kind, 'run');
          await settle(kind);
          const out = krr(['import', ...storeArgs(kind, served.where), file]);
          const rate = Number(/\((\d+) persons\/s\)/.exec(out)?.[1] ?? NaN);
          log(`  ${out.trim()}`);
          return rate;
        },
      ]);
      blocks.length = 0; // gigabytes at millions of persons: not kept while the lookups are measured
      const where = served!.where;
      const importRatio = ratioOf(importRounds!, importCeilingRounds!);
      const importGoal = atLeast(importRatio, 0.9);

      // The store's own ceilings need the store to themselves where it is one process's (embedded):
      // the server is stopped while they run and started again before its own round.
      const storeShared = kind === 'postgres';
      let feed:
        { ratio: Ratio; goal: Goal; ceiling: number[]; service: number[]; complete: boolean } | undefined;

      for (const cache of o.cacheModes) {
        const label = `[${kind}, cache ${cache ? 'on' : 'off'}]`;
        await settle(kind);
        let server = await startServer(kind, where, cache ? o.cacheBytes : 0);
        children.push(server.child);
        // After each start of the server: `krr token` signs for the issuer the server on this
        // store recorded at its start (its URL, docs/tokens.md).
        let token = '';
        let feedToken = '';
        const issueTokens = () => {
          const issue = (scopes: string) =>
            krr(['token', ...storeArgs(kind, where), '--scope', scopes])
              .trim()
              .split('\n')
              .pop()!;
          token = issue(DATA_SCOPES);
          feedToken = issue(FEED_SCOPES);
        };
        issueTokens();
        let peakRssMb = 0;
        const stopServer = async () => {
          peakRssMb = Math.max(peakRssMb, rssOf(server.child.pid!).peakMb);
          await stop(server.child);
        };
        const endpoint = () => `${server.url}/rest/v2/personer`;
        /** Runs a ceiling that reads the store: with the server stopped where the store is one process's. */
        const withStore = async <T>(measure: () => Promise<T>): Promise<T> => {
          if (storeShared) return measure();
          await stopServer();
          try {
            return await measure();
          } finally {
            // On the same port: the same issuer, so the tokens stay good.
            server = await startServer(kind, where, cache ? o.cacheBytes : 0, new URL(server.url).port);
            children.push(server.child);
            // A fresh process: its code warmed, untimed, before it is measured.
            await load(endpoint(), token, bulkBodies, 1, o.connections);
          }
        };
        const extras: Server[] = [];
        try {
          const measured: Measured[] = [];
          const result: Record<string, unknown> = {
            store: kind,
            cache,
            persons: o.persons,
            seconds: o.seconds,
            rounds: o.rounds,
            connections: o.connections,
            cacheBytes: cache ? o.cacheBytes : 0,
            mailboxProviders: o.providers,
          };

          // The change feed from 0 and its ceiling: once per store, before the cache is warmed.
          if (!feed) {
            log(`${label} feed ceiling and the change feed from 0, ${o.rounds} rounds each, in turn ...`);
            let complete = true;
            const [ceilingRounds, feedRounds] = await interleave(o.rounds, [
              () =>
                withStore(async () => {
                  const f = await feedCeiling(kind, where, o.feedSeconds);
                  complete &&= f.complete;
                  log(`  feed ceiling: ${round(f.personsPerSecond)} persons/s`);
                  return f.personsPerSecond;
                }),
              async () => {
                const f = await drainFeed(server.url, feedToken, o.feedSeconds);
                complete &&= f.complete;
                log(`  change feed from 0: ${round(f.personsPerSecond)} persons/s`);
                return f.personsPerSecond;
              },
            ]);
            const ratio = ratioOf(feedRounds!, ceilingRounds!);
            feed = {
              ratio,
              goal: atLeast(ratio, 0.8),
              ceiling: ceilingRounds!,
              service: feedRounds!,
              complete,
            };
          }

          if (cache) {
            // Warm: every registered person once, as a long-running server would have them.
            const started = performance.now();
            for (let i = 0; i < ids.length; i += 1000 * o.connections) {
              await Promise.all(
                Array.from({ length: o.connections }, async (_, c) => {
                  const chunk = ids.slice(i + c * 1000, i + (c + 1) * 1000);
                  if (chunk.length === 0) return;
                  const res = await fetch(endpoint(), {
                    method: 'POST',
                    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
                    body: JSON.stringify({ personidentifikatorer: chunk }),
                  });
                  if (!res.ok) throw new Error(`warm-up lookup answered ${res.status}`);
                  await res.arrayBuffer();
                }),
              );
            }
            log(
              `${label} cache warmed with ${ids.length} persons in ${round((performance.now() - started) / 1000, 1)} s`,
            );
          }

          // v2 bulk and its ceilings, in turn.
          const bulkRound = async () => {
            const pid = server.child.pid!;
            const cpuBefore = cpuSecondsOf(pid);
            const b = await load(endpoint(), token, bulkBodies, o.seconds, o.connections);
            return { ...b, serverCpu: (cpuSecondsOf(pid) - cpuBefore) / o.seconds };
          };
          let bulkRounds: Awaited<ReturnType<typeof bulkRound>>[];
          const ceilings: Record<string, number[]> = {};
          if (!cache) {
            log(
              `${label} database ceiling and v2 bulk (1000 identifiers per request), ${o.rounds} rounds each ...`,
            );
            const [db, bulk] = await interleave<number | Awaited<ReturnType<typeof bulkRound>>>(o.rounds, [
              () => withStore(() => databaseCeiling(kind, where, ids, o.seconds, o.connections)),
              bulkRound,
            ]);
            ceilings.database = db as number[];
            bulkRounds = bulk as Awaited<ReturnType<typeof bulkRound>>[];
          } else {
            log(
              `${label} machine ceiling, loopback ceiling and v2 bulk (1000 identifiers per request), ${o.rounds} rounds each ...`,
            );
            const machine = await bare('machine-ceiling.mjs', [answerFile]);
            const loopback = await bare('machine-ceiling.mjs', [answerFile, '--static']);
            extras.push(machine, loopback);
            const ceilingRound = async (s: Server) =>
              (await load(s.url, undefined, bulkBodies, o.seconds, o.connections)).requestsPerSecond * 1000;
            const [m, l, bulk] = await interleave<number | Awaited<ReturnType<typeof bulkRound>>>(o.rounds, [
              () => ceilingRound(machine),
              () => ceilingRound(loopback),
              bulkRound,
            ]);
            ceilings.machine = m as number[];
            ceilings.loopback = l as number[];
            bulkRounds = bulk as Awaited<ReturnType<typeof bulkRound>>[];
            await stop(machine.child);
            await stop(loopback.child);
          }
          const bulkPersons = bulkRounds.map((b) => b.requestsPerSecond * 1000);
          const serverCpu = median(bulkRounds.map((b) => b.serverCpu));
          const bulkPersonsPerSecond = median(bulkPersons);
          result.bulk = {
            personsPerSecond: round(bulkPersonsPerSecond),
            rounds: bulkPersons.map((n) => round(n)),
            p50Ms: median(bulkRounds.map((b) => b.p50Ms)),
            p99Ms: median(bulkRounds.map((b) => b.p99Ms)),
            serverCpuCores: round(serverCpu, 2),
          };
          const bulkLine = `  v2 bulk, 1000/request:  ${round(bulkPersonsPerSecond)} persons/s (median of ${o.rounds})   p50 ${median(bulkRounds.map((b) => b.p50Ms))} ms   p99 ${median(bulkRounds.map((b) => b.p99Ms))} ms   server CPU ${round(serverCpu, 2)} cores`;
          const ceilingLines: string[] = [];
          for (const [name, goalBound, key] of [
            ['database', 0.85, 'ratioToDatabaseCeiling'],
            ['machine', 1.0, 'ratioToMachineCeiling'],
            ['loopback', 0.4, 'ratioToLoopbackCeiling'],
          ] as const) {
            const rounds = ceilings[name];
            if (!rounds) continue;
            const ratio = ratioOf(bulkPersons, rounds);
            const goal = atLeast(ratio, goalBound);
            result[`${name}Ceiling`] = {
              personsPerSecond: round(median(rounds)),
              rounds: rounds.map((n) => round(n)),
            };
            result[key] = round(ratio.median, 3);
            result[`${key}Spread`] = ratioJson(ratio).spread;
            result[`${key}Rounds`] = ratioJson(ratio).rounds;
            measured.push({ label: `v2 bulk / ${name} ceiling`, ratio, goal });
            ceilingLines.push(
              `  ${`${name} ceiling:`.padEnd(23)} ${round(median(rounds))} persons/s   ratio ${describeRatio(ratio, goal)}`,
            );
          }

          // Single lookups against the floor, in turn: each one's most, then both at half the
          // floor's most (its median), where their p99s are compared.
          const singleLines: string[] = [];
          if (kind === 'postgres') {
            log(
              `${label} single-lookup floor and single lookups (1 identifier per request), ${o.rounds} rounds each ...`,
            );
            const floor = await bare('single-floor.mjs', [where]);
            extras.push(floor);
            const [floorMax, krrMax] = await interleave(o.rounds, [
              () => load(floor.url, undefined, singleBodies, o.seconds, o.connections),
              () => load(endpoint(), token, singleBodies, o.seconds, o.connections),
            ]);
            const rate = Math.max(10, Math.round(median(floorMax!.map((l) => l.requestsPerSecond)) / 2));
            const [floorAt, krrAt] = await interleave(o.rounds, [
              () => load(floor.url, undefined, singleBodies, o.seconds, o.connections, rate),
              () => load(endpoint(), token, singleBodies, o.seconds, o.connections, rate),
            ]);
            await stop(floor.child);
            const throughput = ratioOf(
              krrMax!.map((l) => l.requestsPerSecond),
              floorMax!.map((l) => l.requestsPerSecond),
            );
            // p99 has autocannon's 1 ms resolution: below it counts as 1 ms.
            const p99 = ratioOf(
              krrAt!.map((l) => Math.max(1, l.p99Ms)),
              floorAt!.map((l) => Math.max(1, l.p99Ms)),
            );
            const throughputGoal = atLeast(throughput, 0.6);
            // autocannon's connections wait for each answer: a server slower than the rate asked
            // is sent less, and its p99 does not show the queue it would have. Such a p99 holds no goal.
            const krrRate = median(krrAt!.map((l) => l.requestsPerSecond));
            const rateReached = krrRate >= 0.9 * rate;
            const p99Goal = { ...atMost(p99, 2), ...(rateReached ? {} : { held: false }) };
            measured.push({ label: 'single / floor, throughput', ratio: throughput, goal: throughputGoal });
            measured.push({ label: 'single / floor, p99 at half load', ratio: p99, goal: p99Goal });
            result.single = {
              requestsPerSecond: round(median(krrMax!.map((l) => l.requestsPerSecond))),
              rounds: krrMax!.map((l) => round(l.requestsPerSecond)),
              p50Ms: median(krrAt!.map((l) => l.p50Ms)),
              p99Ms: median(krrAt!.map((l) => l.p99Ms)),
              p99MsRounds: krrAt!.map((l) => l.p99Ms),
              latencyMeasuredAtRequestsPerSecond: rate,
              reachedRequestsPerSecond: round(krrRate),
              saturated: {
                p50Ms: median(krrMax!.map((l) => l.p50Ms)),
                p99Ms: median(krrMax!.map((l) => l.p99Ms)),
              },
            };
            result.singleFloor = {
              requestsPerSecond: round(median(floorMax!.map((l) => l.requestsPerSecond))),
              rounds: floorMax!.map((l) => round(l.requestsPerSecond)),
              p50Ms: median(floorAt!.map((l) => l.p50Ms)),
              p99Ms: median(floorAt!.map((l) => l.p99Ms)),
              p99MsRounds: floorAt!.map((l) => l.p99Ms),
            };
            result.ratioToSingleFloor = round(throughput.median, 3);
            result.ratioToSingleFloorSpread = ratioJson(throughput).spread;
            result.ratioToSingleFloorRounds = ratioJson(throughput).rounds;
            result.p99RatioToSingleFloor = round(p99.median, 3);
            result.p99RatioToSingleFloorSpread = ratioJson(p99).spread;
            result.p99RatioToSingleFloorRounds = ratioJson(p99).rounds;
            singleLines.push(
              `  single, 1/request:      ${round(median(krrMax!.map((l) => l.requestsPerSecond)))} requests/s   floor ${round(median(floorMax!.map((l) => l.requestsPerSecond)))}   ratio ${describeRatio(throughput, throughputGoal)}`,
              `  single at ${rate}/s:`.padEnd(26) +
                `p99 ${median(krrAt!.map((l) => l.p99Ms))} ms (p50 ${median(krrAt!.map((l) => l.p50Ms))})   floor p99 ${median(floorAt!.map((l) => l.p99Ms))} ms   ratio ${describeRatio(p99, p99Goal)}${rateReached ? '' : ` (krr reached ${round(krrRate)}/s of the ${rate}/s asked)`}`,
            );
          } else {
            // The floor is a postgres.js pool; the embedded store is one process's.
            log(
              `${label} single lookups (1 identifier per request; no floor: the embedded store is one process's) ...`,
            );
            const max = await load(endpoint(), token, singleBodies, o.seconds, o.connections);
            const rate = Math.max(10, Math.round(max.requestsPerSecond / 2));
            const at = await load(endpoint(), token, singleBodies, o.seconds, o.connections, rate);
            result.single = {
              requestsPerSecond: round(max.requestsPerSecond),
              p50Ms: at.p50Ms,
              p99Ms: at.p99Ms,
              latencyMeasuredAtRequestsPerSecond: rate,
              saturated: { p50Ms: max.p50Ms, p99Ms: max.p99Ms },
            };
            singleLines.push(
              `  single, 1/request:      ${round(max.requestsPerSecond)} requests/s   p50 ${at.p50Ms} ms   p99 ${at.p99Ms} ms (at ${rate}/s; no floor for the embedded store)`,
            );
          }

          // Memory: the answers' bytes the cache holds (its own gauge) against the peak RSS.
          const answerBytes = cache ? await metric(server.url, 'krr_lookup_cache_answer_bytes') : undefined;
          peakRssMb = Math.max(peakRssMb, rssOf(server.child.pid!).peakMb);
          const rssPerPerson = (peakRssMb * 1024 * 1024) / o.persons;
          const bytesLines = [
            `  peak server RSS:        ${round(peakRssMb, 1)} MB, ${round(rssPerPerson)} bytes per person`,
          ];
          result.peakRssMb = round(peakRssMb, 1);
          if (answerBytes !== undefined) {
            const held = answerBytes / o.persons;
            const ratio: Ratio = {
              median: rssPerPerson / held,
              spread: [rssPerPerson / held, rssPerPerson / held],
              rounds: [rssPerPerson / held],
            };
            const goal = atMost(ratio, 1.5);
            measured.push({ label: 'peak RSS / cache answers', ratio, goal });
            result.bytesPerPerson = {
              peakRss: round(rssPerPerson),
              cacheAnswers: round(held),
              ratio: round(ratio.median, 3),
            };
            bytesLines.push(
              `  cache answers:          ${round(held)} bytes per person   RSS / answers ${round(ratio.median, 3)}   goal ${goal.goal}: ${goal.held ? 'held' : 'NOT held'}`,
            );
          } else {
            result.bytesPerPerson = { peakRss: round(rssPerPerson) };
          }

          measured.push({ label: 'import / import ceiling', ratio: importRatio, goal: importGoal });
          measured.push({ label: 'change feed / feed ceiling', ratio: feed.ratio, goal: feed.goal });
          const importRate = median(importRounds!);
          Object.assign(result, {
            importPersonsPerSecond: round(importRate),
            importRounds: importRounds!.map((n) => round(n)),
            importCeiling: {
              personsPerSecond: round(median(importCeilingRounds!)),
              rounds: importCeilingRounds!.map((n) => round(n)),
            },
            ratioToImportCeiling: round(importRatio.median, 3),
            ratioToImportCeilingSpread: ratioJson(importRatio).spread,
            ratioToImportCeilingRounds: ratioJson(importRatio).rounds,
            feedPersonsPerSecond: round(median(feed.service)),
            feedRounds: feed.service.map((n) => round(n)),
            feedCeiling: {
              personsPerSecond: round(median(feed.ceiling)),
              rounds: feed.ceiling.map((n) => round(n)),
            },
            ratioToFeedCeiling: round(feed.ratio.median, 3),
            ratioToFeedCeilingSpread: ratioJson(feed.ratio).spread,
            ratioToFeedCeilingRounds: ratioJson(feed.ratio).rounds,
            feedDrainComplete: feed.complete,
            // For comparing runs of different sizes (the cost per person should not grow with it).
            microsecondsPerPerson: {
              lookupServerCpu: round((serverCpu * 1e6) / bulkPersonsPerSecond, 2),
              importWall: round(1e6 / importRate, 2),
            },
            goals: Object.fromEntries(
              measured
                .filter((m) => m.goal)
                .map((m) => [m.label, { ...m.goal, median: round(m.goal!.median, 3) }]),
            ),
            latencyResolutionMs: 1,
            command,
            node: process.version,
            at: new Date().toISOString(),
          });
          const out = join(RESULTS, `${kind}-cache-${cache ? 'on' : 'off'}.json`);
          writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
          summary.push(
            [
              `${kind}, cache ${cache ? 'on' : 'off'} (${o.persons} persons, ${o.providers ? 'mailbox providers registered' : 'no mailbox providers'}; ratios: median (lowest-highest) of ${o.rounds} interleaved rounds)`,
              bulkLine,
              ...ceilingLines,
              ...singleLines,
              `  import:                 ${round(importRate)} persons/s   import ceiling ${round(median(importCeilingRounds!))} persons/s   ratio ${describeRatio(importRatio, importGoal)}`,
              `  change feed from 0:     ${round(median(feed.service))} persons/s   feed ceiling ${round(median(feed.ceiling))} persons/s   ratio ${describeRatio(feed.ratio, feed.goal)}${feed.complete ? '' : ` (stopped after ${o.feedSeconds} s)`}`,
              ...bytesLines,
              `  goals held:             ${measured.filter((m) => m.goal?.held).length} of ${measured.filter((m) => m.goal).length}`,
              `  -> ${out}`,
            ].join('\n'),
          );
          log(summary[summary.length - 1]!);
        } finally {
          for (const e of extras) await stop(e.child);
          await stop(server.child);
        }
      }
    }
    process.stdout.write(
      `\n${summary.join('\n\n')}\n\nReproduce: ${command}\n(${round((performance.now() - runStarted) / 1000)} s)\n`,
    );
  } finally {
    onSignal();
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => log(`cleanup: ${err}`));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
