// `npm run soak`: a real `krr serve --dev` on a fresh store, seeded with synthetic
// persons, driven over loopback for a bounded time with mixed traffic at bounded concurrency: bulk
// lookups (1000 identifiers), single lookups, feed pages and mailbox writes. Every interval it
// prints requests, errors and p50/p90/p99 latency per kind, and the server's RSS (from
// /proc/<pid>/status). It exits non-zero on any error, or when the RSS kept growing through the
// second half of the run by more than a quarter (a leak, not a warm-up). Not part of `npm test`.
//
//   npm run soak -- [--seconds 60] [--store embedded|postgres] [--database URL] [--persons 20000]
//                   [--concurrency 8] [--interval 10]

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSelfSignedCertificate } from '../../src/certificate/certificate-generator.js';
import { syntheticPersons } from '../../src/demo/synthetic-persons.js';
import { renderExportLine, renderPerson } from '../../src/answer/answer.render.js';
import { freshDatabase, TEST_DATABASE_URL } from '../../test/support/stores.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROVIDER = '984661185';
const KINDS = ['bulk', 'single', 'feed', 'write'] as const;
type Kind = (typeof KINDS)[number];

interface Options {
  seconds: number;
  store: 'embedded' | 'postgres';
  database: string | undefined;
  persons: number;
  concurrency: number;
  interval: number;
}

function options(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '60' },
      store: { type: 'string', default: 'embedded' },
      database: { type: 'string' },
      persons: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '8' },
      interval: { type: 'string', default: '10' },
    },
  });
  const positive = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  if (values.store !== 'embedded' && values.store !== 'postgres')
    throw new Error('--store is embedded or postgres');
  return {
    seconds: positive('seconds', values.seconds),
    store: values.store,
    database: values.database,
    persons: positive('persons', values.persons),
    concurrency: positive('concurrency', values.concurrency),
    interval: positive('interval', values.interval),
  };
}

function krrProcess(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, KRR_LOG_LEVEL: process.env.KRR_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function krr(args: readonly string[]): Promise<string> {
  const child = krrProcess(args);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  if (code !== 0) throw new Error(`krr ${args[0]} failed (${code}): ${err}`);
  return out;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

class Interval {
  readonly latencies = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  readonly errors = new Map<Kind, number>(KINDS.map((k) => [k, 0]));
}

export async function runSoak(argv: readonly string[]): Promise<number> {
  const o = options(argv);
  const scratch = await mkdtemp(join(tmpdir(), 'krr-soak-'));
  let cleanupDb: (() => Promise<void>) | undefined;
  let server: ChildProcess | undefined;
  try {
    let storeArgs: string[];
    if (o.store === 'embedded') {
      storeArgs = ['--data-dir', join(scratch, 'data')];
    } else if (o.database) {
      storeArgs = ['--database', o.database];
    } else {
      const db = await freshDatabase('krr_soak');
      cleanupDb = db.cleanup;
      storeArgs = ['--database', db.url];
      console.log(`store: a fresh PostgreSQL database on ${new URL(TEST_DATABASE_URL).host}`);
    }

    // Seed: persons without mailboxes (so the writers can choose them), and a provider.
    console.log(`seeding ${o.persons} persons (${o.store}) ...`);
    const persons = [...syntheticPersons(o.persons, { seed: 7 })];
    const ids = persons.map((p) => p.personidentifikator);
    const writable = new Set(ids.filter((_, i) => i % 10 === 0));
    const file = join(scratch, 'persons.jsonl');
    await writeFile(
      file,
      persons
        .map((p) => {
          const q = writable.has(p.personidentifikator)
            ? {
                ...p,
                status: 'AKTIV' as const,
                reservasjon: 'NEI' as const,
                digital_post: undefined,
                sertifikat: undefined,
              }
            : p;
          return `${renderExportLine(renderPerson(q))}\n`;
        })
        .join(''),
    );
    await krr(['import', file, ...storeArgs]);
    const cert = await generateSelfSignedCertificate({ commonName: 'soak provider', keyUsage: 'encryption' });
    const certFile = join(scratch, 'provider.pem');
    await writeFile(certFile, cert.certificatePem);
    await krr([
      'providers',
      'add',
      '--orgno',
      PROVIDER,
      '--name',
      'Digipost',
      '--cert',
      certFile,
      ...storeArgs,
    ]);
    const port = 20000 + Math.floor(Math.random() * 20000);
    // The dev issuer is the server's base URL: tokens are made for the port the server will take.
    const token = async (scopes: string, consumer = '0192:991825827') =>
      (await krr(['token', ...storeArgs, '--port', String(port), '--consumer', consumer, '--scope', scopes]))
        .trimEnd()
        .split('\n')
        .at(-1)!;
    const readToken = await token(
      'krr:global/kontaktinformasjon.read krr:global/digitalpost.read krr:global/hentendring.read',
    );
    const writeToken = await token('krr:global/postkasse.write', `0192:${PROVIDER}`);

    server = krrProcess(['serve', '--dev', ...storeArgs, '--host', '127.0.0.1', '--port', String(port)]);
    let serverOut = '';
    server.stdout!.setEncoding('utf8').on('data', (s: string) => (serverOut = (serverOut + s).slice(-4000)));
    server.stderr!.setEncoding('utf8').on('data', (s: string) => (serverOut = (serverOut + s).slice(-4000)));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) throw new Error(`serve exited: ${serverOut}`);
      const ok = await fetch(`${base}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 600) throw new Error(`serve not ready: ${serverOut}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const pid = server.pid!;

    // Each writer owns a share of the writable persons and cycles their mailbox: create, update, delete.
    const writableIds = [...writable];
    const state = new Map<string, 'none' | 'has'>(writableIds.map((id) => [id, 'none']));
    let round = 0;
    const random = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;
    const errorsSeen: string[] = [];

    async function one(kind: Kind, worker: number, at: () => Interval): Promise<void> {
      let path: string;
      let body: unknown;
      let bearer = readToken;
      let check: (text: string) => boolean = () => true;
      if (kind === 'bulk') {
        const start = Math.floor(Math.random() * Math.max(1, ids.length - 1000));
        path = Math.random() < 0.5 ? '/rest/v2/personer' : '/rest/v1/personer';
        body = { personidentifikatorer: ids.slice(start, start + 1000), inkluderIkkeRegistrerte: true };
      } else if (kind === 'single') {
        path = '/rest/v2/personer';
        body = { personidentifikatorer: [random(ids)] };
      } else if (kind === 'feed') {
        path = '/rest/v2/krr/hentEndringer';
        body = {
          fraEndringsId: Math.random() < 0.2 ? 0 : 200_000_000 + Math.floor(Math.random() * o.persons),
        };
      } else {
        const mine = writableIds.filter((_, i) => i % o.concurrency === worker);
        const id = mine[round++ % mine.length]!;
        const has = state.get(id) === 'has';
        const op = !has ? 'opprettOgVelg' : Math.random() < 0.5 ? 'oppdater' : 'slett';
        path = `/rest/v1/postkasse/${op}`;
        bearer = writeToken;
        body = {
          personidentifikator: id,
          virksomhetsidentifikator: PROVIDER,
          ...(op === 'slett' ? {} : { postkasseadresse: `soak.${round}#SOAK` }),
        };
        check = (text) => {
          const ok = (JSON.parse(text) as { status: string }).status === 'OK';
          if (ok) state.set(id, op === 'slett' ? 'none' : 'has');
          return ok;
        };
      }
      const started = performance.now();
      try {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        const ms = performance.now() - started;
        if (res.status !== 200 || !check(text)) {
          at().errors.set(kind, at().errors.get(kind)! + 1);
          if (errorsSeen.length < 5) errorsSeen.push(`${kind} ${path}: ${res.status} ${text.slice(0, 200)}`);
        } else {
          at().latencies.get(kind)!.push(ms);
        }
      } catch (err) {
        at().errors.set(kind, at().errors.get(kind)! + 1);
        if (errorsSeen.length < 5) errorsSeen.push(`${kind} ${path}: ${String(err)}`);
      }
    }

    const mix: Kind[] = [
      'bulk',
      'bulk',
      'single',
      'single',
      'single',
      'single',
      'feed',
      'feed',
      'write',
      'write',
    ];
    const rssStart = rssMb(pid);
    const rssSamples: number[] = [rssStart];
    console.log(
      `soak: ${o.seconds} s, concurrency ${o.concurrency}, ${o.persons} persons, ${base} (pid ${pid}), RSS at start ${rssStart} MB`,
    );
    console.log('  time   kind      reqs  errors   p50 ms   p90 ms   p99 ms');
    let current = new Interval();
    const at = () => current;
    const end = Date.now() + o.seconds * 1000;
    const workers = Array.from({ length: o.concurrency }, async (_, w) => {
      for (let i = w; Date.now() < end; i++) await one(mix[i % mix.length]!, w, at);
    });
    let totalErrors = 0;
    let totalRequests = 0;
    const started = Date.now();
    const report = (final = false) => {
      const done = current;
      current = new Interval();
      const t = Math.round((Date.now() - started) / 1000);
      if (final) console.log('         (the requests still running at the end)');
      for (const kind of KINDS) {
        const sorted = done.latencies.get(kind)!.sort((a, b) => a - b);
        const errors = done.errors.get(kind)!;
        totalErrors += errors;
        totalRequests += sorted.length + errors;
        const f = (n: number) => n.toFixed(1).padStart(8);
        console.log(
          `${String(t).padStart(5)}s   ${kind.padEnd(7)} ${String(sorted.length + errors).padStart(6)} ${String(errors).padStart(7)} ${f(percentile(sorted, 50))} ${f(percentile(sorted, 90))} ${f(percentile(sorted, 99))}`,
        );
      }
      const rss = rssMb(pid);
      rssSamples.push(rss);
      console.log(`         server RSS ${rss} MB`);
    };
    const ticker = setInterval(report, o.interval * 1000);
    await Promise.all(workers);
    clearInterval(ticker);
    report(true);

    const rssEnd = rssSamples.at(-1)!;
    // A leak grows steadily; warm-up (caches, JIT) grows early and levels off. Compare the second
    // half: from its first sample to the end, always up and by more than a quarter.
    const half = rssSamples.slice(Math.floor(rssSamples.length / 2));
    const steadyGrowth =
      half.length >= 3 && half.every((v, i) => i === 0 || v >= half[i - 1]!) && rssEnd > half[0]! * 1.25;
    console.log(
      `\n${totalRequests} requests, ${totalErrors} errors; server RSS ${rssStart} MB at start, ${rssEnd} MB at the end (peak ${Math.max(...rssSamples)} MB)`,
    );
    if (errorsSeen.length) console.log(`first errors:\n  ${errorsSeen.join('\n  ')}`);
    if (steadyGrowth)
      console.log('FLAG: the server RSS grew through the whole second half of the run (possible leak)');
    return totalErrors === 0 && !steadyGrowth ? 0 : 1;
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    await cleanupDb?.();
    await rm(scratch, { recursive: true, force: true });
  }
}
