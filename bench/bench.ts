// `npm run bench`: krr's speed as numbers anyone can reproduce. Generates a synthetic
// register, imports it with `krr import` into each store, serves it with `krr serve --dev` (a child
// process, so its memory is its own) and drives it over loopback with autocannon from this process.
// Beside the service it measures two ceilings on the same machine in the same run: the store
// answering the service's own 1000-identifier query (same driver, same concurrency), and a bare
// node:http server answering the same requests with the asked persons' pre-rendered bytes; and, for
// reference, the loopback ceiling (one fixed pre-rendered answer sent whatever is asked). The
// import has its own ceiling: the store's side of the import alone (importCeiling).
// Results: bench/results/*.json.
//
//   npm run bench -- [--persons N] [--seconds S] [--quick] [--stores postgres,embedded]
//                    [--cache on,off] [--connections C] [--cache-bytes B] [--no-providers]
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
import { rm } from 'node:fs/promises';
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
  connections: number;
  cacheBytes: number;
  feedSeconds: number;
  providers: boolean;
}

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
  const storeNames = (value('--stores') ?? 'postgres,embedded').split(',');
  for (const s of storeNames) if (s !== 'postgres' && s !== 'embedded') throw new Error(`unknown store ${s}`);
  const stores = storeNames as StoreKind[];
  const cacheModes = (value('--cache') ?? 'off,on').split(',').map((m) => {
    if (m !== 'on' && m !== 'off') throw new Error('--cache takes on, off or on,off');
    return m === 'on';
  });
  return {
    persons: Math.floor(number('--persons', quick ? 3000 : 1_000_000)),
    seconds: number('--seconds', quick ? 1 : 10),
    quick,
    stores,
    cacheModes,
    connections: Math.floor(number('--connections', 4)),
    cacheBytes: Math.floor(number('--cache-bytes', 2 * 1024 * 1024 * 1024)),
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

async function startServer(kind: StoreKind, where: string, cacheBytes: number): Promise<Server> {
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
      '0',
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

/**
 * The import's ceiling: what the store alone takes of `krr import`. The file's persons are first
 * checked, rendered and encoded into the import's COPY tuples here (untimed, with the import's own
 * parseBlock); then the import's own bulk path (PersonWriter.bulk: into the empty register, its
 * indexes dropped, COPY FREEZE, the indexes built again) writes them into a fresh register `where`,
 * block after block, timed from the transaction's start to its commit. The import does the same
 * writes while its workers parse, so this is what it would reach with parsing for free.
 */
async function importCeiling(kind: StoreKind, where: string, file: string): Promise<number> {
  const db = await openStore(storeConfig(kind, where));
  try {
    const writer = new PersonWriter(db);
    const providerCertificates = await writer.session((s) => s.providerCertificates());
    const rules = { allowSynthetic: true, isCertificate: isDerCertificate };
    // The import's own blocks of whole lines, as its workers get them.
    const blocks: { tuples: Uint8Array; identifiers: string[] }[] = [];
    const chunks = createReadStream(file)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    for await (const bytes of blocksOfBytes(chunks, BLOCK_BYTES)) {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      const block = parseBlock(text, rules, providerCertificates);
      if (block.problem)
        throw new Error(`import ceiling: line ${block.problem.line} of a block: ${block.problem.reason}`);
      blocks.push({ tuples: block.tuples, identifiers: block.identifiers });
    }
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

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const command = `npm run bench -- --persons ${o.persons} --seconds ${o.seconds} --stores ${o.stores.join(',')} --cache ${o.cacheModes.map((c) => (c ? 'on' : 'off')).join(',')} --connections ${o.connections} --cache-bytes ${o.cacheBytes}${o.providers ? '' : ' --no-providers'}${o.quick ? ' --quick' : ''}`;
  ensureBuilt();
  mkdirSync(RESULTS, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'krr-bench-'));
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [() => rm(work, { recursive: true, force: true })];
  const onSignal = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.once('SIGINT', onSignal);
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
    const ids: string[] = [];
    for (const p of syntheticPersons(o.persons, { seed: 1 })) ids.push(p.personidentifikator);
    const bulkBodies = lookupBodies(ids, 1000, 200);
    const singleBodies = lookupBodies(ids, 1, 5000);

    // The machine's ceiling: a bare node:http server answering the same requests from every
    // person's answer pre-rendered as krr renders it (machine-ceiling.mjs). With --static it sends
    // one fixed answer whatever is asked: the loopback ceiling, printed for reference.
    const now = Date.now();
    const boundary = freshnessBoundary(now);
    const fullView = viewFor(31, undefined);
    const answerFile = join(work, 'answers.jsonl');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(answerFile);
      out.on('error', reject);
      let chunk: string[] = [];
      for (const p of syntheticPersons(o.persons, { seed: 1 })) {
        chunk.push(renderPersonAnswer(renderPerson(p), fullView, boundary));
        if (chunk.length === 10_000) {
          out.write(`${chunk.join('\n')}\n`);
          chunk = [];
        }
      }
      out.end(chunk.length > 0 ? `${chunk.join('\n')}\n` : '', () => resolve());
    });
    const ceiling = async (mode: string[]) => {
      const server = spawn(
        process.execPath,
        [join(ROOT, 'bench', 'machine-ceiling.mjs'), answerFile, ...mode],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      children.push(server);
      const port = await new Promise<string>((resolve, reject) => {
        server.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
        server.once('exit', (code) => reject(new Error(`machine-ceiling.mjs exited (${code})`)));
      });
      try {
        const measured = await load(
          `http://127.0.0.1:${port}/`,
          undefined,
          bulkBodies,
          o.seconds,
          o.connections,
        );
        return measured.requestsPerSecond * 1000;
      } finally {
        await stop(server);
      }
    };
    log(
      'measuring the machine ceiling (bare node:http answering each request from pre-rendered persons) ...',
    );
    const machinePersonsPerSecond = await ceiling([]);
    log(`  machine ceiling: ${round(machinePersonsPerSecond)} persons/s`);
    log('measuring the loopback ceiling (bare node:http sending one fixed answer of 1000 persons) ...');
    const loopbackPersonsPerSecond = await ceiling(['--static']);
    log(`  loopback ceiling: ${round(loopbackPersonsPerSecond)} persons/s`);

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
    const freshRegister = async (kind: StoreKind, label: string) => {
      let where: string;
      let remove: () => Promise<void>;
      if (kind === 'embedded') {
        const dir = join(work, `embedded-${label}`);
        where = dir;
        remove = () => rm(dir, { recursive: true, force: true });
      } else {
        const name = `krr_bench_${label}_${randomBytes(4).toString('hex')}`;
        const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
        await admin.unsafe(`create database ${name}`);
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
      if (o.providers) for (const args of providerArgs) krr([...args, ...storeArgs(kind, where)]);
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
      log(
        `[${kind}] import ceiling (the import's own writes of pre-parsed persons into a fresh register) ...`,
      );
      const ceilingRegister = await freshRegister(kind, 'ceiling');
      await settle(kind);
      const importCeilingRate = await importCeiling(kind, ceilingRegister.where, file);
      log(`  import ceiling: ${round(importCeilingRate)} persons/s`);
      await ceilingRegister.remove(); // its disk space, before the real one is made

      const { where } = await freshRegister(kind, 'run');
      await settle(kind);
      log(`[${kind}] importing with krr import ...`);
      const importOut = krr(['import', ...storeArgs(kind, where), file]);
      const importRate = Number(/\((\d+) persons\/s\)/.exec(importOut)?.[1] ?? NaN);
      log(`  ${importOut.trim()}`);

      await settle(kind);
      log(`[${kind}] database ceiling (the service's lookup query, ${o.connections} at a time) ...`);
      const dbCeiling = await databaseCeiling(kind, where, ids, o.seconds, o.connections);
      log(`  database ceiling: ${round(dbCeiling)} persons/s`);

      let feed: Awaited<ReturnType<typeof drainFeed>> | undefined;
      for (const cache of o.cacheModes) {
        const label = `[${kind}, cache ${cache ? 'on' : 'off'}]`;
        await settle(kind);
        const server = await startServer(kind, where, cache ? o.cacheBytes : 0);
        children.push(server.child);
        try {
          const pid = server.child.pid!;
          const token = krr(['token', ...storeArgs(kind, where), '--scope', DATA_SCOPES])
            .trim()
            .split('\n')
            .pop()!;
          const feedToken = krr(['token', ...storeArgs(kind, where), '--scope', FEED_SCOPES])
            .trim()
            .split('\n')
            .pop()!;
          const endpoint = `${server.url}/rest/v2/personer`;
          if (cache) {
            // Warm: every registered person once, as a long-running server would have them.
            const started = performance.now();
            for (let i = 0; i < ids.length; i += 1000 * o.connections) {
              await Promise.all(
                Array.from({ length: o.connections }, async (_, c) => {
                  const chunk = ids.slice(i + c * 1000, i + (c + 1) * 1000);
                  if (chunk.length === 0) return;
                  const res = await fetch(endpoint, {
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
          log(
            `${label} bulk: 1000 identifiers per request, ${o.connections} connections, ${o.seconds} s ...`,
          );
          const cpuBefore = cpuSecondsOf(pid);
          const bulk = await load(endpoint, token, bulkBodies, o.seconds, o.connections);
          const serverCpu = (cpuSecondsOf(pid) - cpuBefore) / o.seconds;
          log(`${label} single: 1 identifier per request ...`);
          const singleMax = await load(endpoint, token, singleBodies, o.seconds, o.connections);
          // Latency at moderate load: a fixed rate of half what the server can do.
          const moderateRate = Math.max(10, Math.round(singleMax.requestsPerSecond / 2));
          const single = await load(endpoint, token, singleBodies, o.seconds, o.connections, moderateRate);
          if (!feed) {
            log(`${label} change feed from 0 ...`);
            feed = await drainFeed(server.url, feedToken, o.feedSeconds);
          }
          const rss = rssOf(pid);
          const bulkPersonsPerSecond = bulk.requestsPerSecond * 1000;
          const result = {
            store: kind,
            cache,
            persons: o.persons,
            seconds: o.seconds,
            connections: o.connections,
            cacheBytes: cache ? o.cacheBytes : 0,
            mailboxProviders: o.providers,
            bulk: {
              personsPerSecond: round(bulkPersonsPerSecond),
              requestsPerSecond: round(bulk.requestsPerSecond, 1),
              p50Ms: bulk.p50Ms,
              p99Ms: bulk.p99Ms,
              serverCpuCores: round(serverCpu, 2),
            },
            single: {
              requestsPerSecond: round(singleMax.requestsPerSecond),
              p50Ms: single.p50Ms,
              p99Ms: single.p99Ms,
              latencyMeasuredAtRequestsPerSecond: moderateRate,
              saturated: { p50Ms: singleMax.p50Ms, p99Ms: singleMax.p99Ms },
            },
            databaseCeiling: { personsPerSecond: round(dbCeiling) },
            machineCeiling: { personsPerSecond: round(machinePersonsPerSecond) },
            loopbackCeiling: { personsPerSecond: round(loopbackPersonsPerSecond) },
            ratioToDatabaseCeiling: round(bulkPersonsPerSecond / dbCeiling, 3),
            ratioToMachineCeiling: round(bulkPersonsPerSecond / machinePersonsPerSecond, 3),
            ratioToLoopbackCeiling: round(bulkPersonsPerSecond / loopbackPersonsPerSecond, 3),
            importPersonsPerSecond: importRate,
            importCeiling: { personsPerSecond: round(importCeilingRate) },
            ratioToImportCeiling: round(importRate / importCeilingRate, 3),
            feedPersonsPerSecond: round(feed.personsPerSecond),
            feedDrainComplete: feed.complete,
            peakRssMb: round(rss.peakMb, 1),
            latencyResolutionMs: 1,
            command,
            node: process.version,
            at: new Date().toISOString(),
          };
          const out = join(RESULTS, `${kind}-cache-${cache ? 'on' : 'off'}.json`);
          writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
          summary.push(
            [
              `${kind}, cache ${cache ? 'on' : 'off'} (${o.persons} persons, ${o.providers ? 'mailbox providers registered' : 'no mailbox providers'})`,
              `  v2 bulk, 1000/request:  ${result.bulk.personsPerSecond} persons/s   p50 ${bulk.p50Ms} ms   p99 ${bulk.p99Ms} ms   server CPU ${round(serverCpu, 2)} cores`,
              `  single, 1/request:      ${result.single.requestsPerSecond} requests/s   p50 ${single.p50Ms} ms   p99 ${single.p99Ms} ms (at ${moderateRate}/s)`,
              `  database ceiling:       ${result.databaseCeiling.personsPerSecond} persons/s   ratio ${result.ratioToDatabaseCeiling}`,
              `  machine ceiling:        ${result.machineCeiling.personsPerSecond} persons/s   ratio ${result.ratioToMachineCeiling}`,
              `  loopback ceiling:       ${result.loopbackCeiling.personsPerSecond} persons/s   ratio ${result.ratioToLoopbackCeiling} (one fixed answer, for reference)`,
              `  import:                 ${importRate} persons/s   import ceiling ${result.importCeiling.personsPerSecond} persons/s   ratio ${result.ratioToImportCeiling}`,
              `  change feed from 0:     ${result.feedPersonsPerSecond} persons/s${feed.complete ? '' : ` (stopped after ${o.feedSeconds} s)`}`,
              `  peak server RSS:        ${result.peakRssMb} MB`,
              `  -> ${out}`,
            ].join('\n'),
          );
          log(summary[summary.length - 1]!);
        } finally {
          await stop(server.child);
        }
      }
    }
    process.stdout.write(`\n${summary.join('\n\n')}\n\nReproduce: ${command}\n`);
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
