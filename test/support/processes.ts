// krr as real processes for the end-to-end tests (CLI, token service, crashes, outages), with only
// the command line deciding store, clock and URLs. The test runner (scripts/test.mjs) runs the
// tests compiled, and then the CLI is the compiled copy beside them (`.test-build/src/cli/bin.js`);
// a test file run from its sources with tsx starts `node --import tsx src/cli/bin.ts ...`, which
// compiles the sources in every process (a second or more of CPU each).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const COMPILED = import.meta.url.endsWith('.js');

/** The repository: the nearest folder above this file that holds package.json. */
function repositoryRoot(): string {
  for (let dir = HERE; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${HERE}`);
  }
}

export const ROOT = repositoryRoot();
// Generous: a new embedded store costs seconds of CPU, and CI runs two test files at once on two cores.
export const PROCESS_TIMEOUT_MS = 120_000;

export interface Result {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // No drain delay at SIGTERM (docs/operations.md#stopping): no load balancer waits on a test's
  // server, unless the test says so (the rolling restarts).
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KRR_LOG_LEVEL: 'silent',
    KRR_SHUTDOWN_DRAIN_SECONDS: '0',
    ...extra,
  };
  for (const name of [
    'KRR_DATABASE_URL',
    'KRR_DATA_DIR',
    'KRR_CLOCK',
    'KRR_CONFIG',
    'KRR_PORT',
    'KRR_HOST',
    'KRR_PUBLIC_URL',
    'KRR_DEV_ISSUER',
  ])
    if (!(name in extra)) delete env[name];
  return env;
}

/**
 * Node options for the krr processes the tests start: KRR_TEST_NODE_FLAGS, which the test runner
 * sets (scripts/test.mjs: V8's baseline WebAssembly compiler only, which halves what an embedded
 * store's start costs in CPU); none when a test file is run without it.
 */
const NODE_FLAGS = (process.env.KRR_TEST_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** Node's arguments for `krr ARGS` (run from ROOT): the CLI compiled with this file, or its sources. */
export function krrArgv(args: readonly string[]): string[] {
  return COMPILED
    ? [...NODE_FLAGS, resolve(HERE, '../../src/cli/bin.js'), ...args]
    : [...NODE_FLAGS, '--import', 'tsx', 'src/cli/bin.ts', ...args];
}

export function startKrr(args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, krrArgv(args), {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs `krr ARGS` to its end with `stdin` (closed when undefined). */
export function krr(args: readonly string[], stdin?: string): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = startKrr(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`krr ${args[0]} did not finish in ${PROCESS_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, PROCESS_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(stdin ?? '');
  });
}

export function assertOk(r: Result, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code} (${r.signal ?? 'no signal'}); stderr: ${r.stderr}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolvePromise) =>
    child.once('exit', (code, signal) => resolvePromise({ code, signal })),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
}

/** A running `krr serve` and its output so far. */
export interface Server {
  readonly child: ChildProcess;
  readonly base: string;
  output(): string;
}

/** Starts `krr serve ARGS` on a free port and waits until GET /health/ready answers 200. */
export async function serve(args: readonly string[], readyWithinMs = 60_000): Promise<Server> {
  const port = await freePort();
  const child = startKrr(['serve', ...args, '--port', String(port), '--host', '127.0.0.1']);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve exited early: ${out}`);
    const status = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await killHard(child);
      throw new Error(`serve was not ready within ${readyWithinMs} ms: ${out}`);
    }
    await sleep(200);
  }
  return { child, base, output: () => out };
}

/** A dev token for the store given by `storeArgs` (the last line of `krr token`). */
export async function devToken(storeArgs: readonly string[], scopes: string, consumer = '0192:991825827') {
  const r = await krr(['token', ...storeArgs, '--consumer', consumer, '--scope', scopes]);
  if (r.code !== 0) throw new Error(`krr token failed: ${r.stderr}`);
  return r.stdout.trimEnd().split('\n').at(-1)!;
}

/**
 * Resolves once `child` has exited and the streams it shares with its own children have closed:
 * then no process it started holds them either. Call it when the child is spawned.
 */
export function closed(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise) =>
    child.once('close', (code, signal) => resolvePromise({ code, signal })),
  );
}

/**
 * Waits until `krr serve --ready-file PATH` has written PATH (not `stale`, what was there before)
 * and returns the URL it holds; fails when `child` ends first or nothing comes within the timeout.
 */
export async function readyFileUrl(
  path: string,
  child: ChildProcess,
  output: () => string,
  stale?: string,
): Promise<string> {
  const deadline = Date.now() + PROCESS_TIMEOUT_MS;
  for (;;) {
    const content = await readFile(path, 'utf8').catch(() => undefined);
    if (content !== undefined && content !== stale) {
      assert.match(
        content,
        /^http:\/\/127\.0\.0\.1:[1-9][0-9]*\n$/,
        `the ready file holds ${JSON.stringify(content)}`,
      );
      return content.slice(0, -1);
    }
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`krr ended before it wrote the ready file: ${output()}`);
    if (Date.now() > deadline) throw new Error(`no ready file within ${PROCESS_TIMEOUT_MS} ms: ${output()}`);
    await sleep(50);
  }
}

/** Whether `port` on 127.0.0.1 can be listened on (nothing holds it). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}

/** The environment of a shell with no npm around it: no npm_* variables, no KRR_* ones, quiet logs. */
export function plainEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = childEnv(extra);
  for (const name of Object.keys(env)) {
    // The npm cache and registry stay: they are the machine's, which an agency's CI has too.
    if (name.startsWith('npm_') && name !== 'npm_config_cache' && name !== 'npm_config_registry')
      delete env[name];
  }
  return env;
}
