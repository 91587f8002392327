#!/usr/bin/env node
// Runs the whole suite: every *.test.ts under src/, test/ and packages/krr-client/src/ (the client
// library, docs/architecture.md#layers) with Node's test runner. Extra arguments narrow the run to
// files whose path contains one of them (`npm test -- identifier lookup`).
//
// Before the tests:
// - src/, test/ and packages/krr-client/src/ are compiled to .test-build/ (tsconfig.test.json,
//   incremental; skipped when no source is newer than what was compiled from it), and the runner
//   runs the compiled files. Node 20 cannot run TypeScript itself, and a loader such as tsx costs
//   about half a second of CPU in every test process and in every process a test starts: on a
//   2-core machine, a minute of the run. The end-to-end tests start the compiled CLI beside them
//   (see test/support/processes.ts);
// - the tests' scratch files (os.tmpdir(): embedded stores, import files) go to a directory of the
//   run's own, on /dev/shm when that RAM disk has room: on this project's machines a store's many
//   small files cost ten times as much on disk. KRR_TEST_TMPDIR names another place for it, as
//   does TMPDIR when the caller sets it;
// - for a run of several files, an empty embedded store is made once, and every test's new
//   embedded store is a copy of it (KRR_TEST_EMBEDDED_TEMPLATE, see test/support/stores.ts).
// KRR_TEST_STORES=postgres|embedded|both (default both) chooses the stores whose tests run;
// KRR_TEST_CONCURRENCY how many test files run at once (default 3).
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  statfsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * @param {string} dir
 * @param {string} suffix
 * @returns {Generator<string>}
 */
function* walk(dir, suffix) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path, suffix);
    else if (entry.name.endsWith(suffix)) yield path;
  }
}

// The files that take longest (each half a minute or more of the run) start first, so that the
// run does not end with one of them going on alone; the rest follow in path order.
const LONGEST_FIRST = [
  'package.e2e.test.ts',
  'crash.e2e.test.ts',
  'cli.e2e.test.ts',
  'import.bulk.test.ts',
  'sync.command.test.ts',
  'maskinporten.e2e.test.ts',
  'postgres-outage.test.ts',
  'bad-input.test.ts',
  'changes.routes.test.ts',
];
const rank = (/** @type {string} */ file) => {
  const at = LONGEST_FIRST.findIndex((name) => file.endsWith(`/${name}`));
  return at < 0 ? LONGEST_FIRST.length : at;
};

/** The folders whose TypeScript the runner compiles and whose *.test.ts it runs. */
const SOURCES = ['src', 'test', 'packages/krr-client/src'];

const filters = process.argv.slice(2);
const files = SOURCES.flatMap((d) => [...walk(d, '.test.ts')])
  .map((f) => relative('.', f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const BUILD = '.test-build';
/** Where the compiled copy of a source file goes. */
const compiledPath = (/** @type {string} */ source) => join(BUILD, source).replace(/\.tsx?$/, '.js');

/** Why .test-build/ must be compiled again, or undefined when it is up to date with the sources. */
function buildOutdated() {
  // .tsx: the pages' templates (src/minprofil/), compiled to .js like the rest.
  for (const source of SOURCES.flatMap((d) => [...walk(d, '.ts'), ...walk(d, '.tsx')])) {
    const compiled = compiledPath(source);
    if (!existsSync(compiled)) return `${compiled} is missing`;
    if (statSync(compiled).mtimeMs < statSync(source).mtimeMs) return `${source} is newer than ${compiled}`;
  }
  return undefined;
}

const outdated = buildOutdated();
if (outdated) {
  console.log(`# compiling the tests to ${BUILD}/ (${outdated})`);
  const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test.json'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    // tsc writes the files despite type errors: the tests go on (npm run typecheck reports them).
    console.log(`# the build reported errors (see above; npm run typecheck); ${BUILD}/ was written anyway`);
  }
}

// Node options for every test process and every krr process a test starts (test/support/processes.ts).
// --liftoff-only: V8 compiles WebAssembly with its baseline compiler only. Each new embedded store
// (PGlite, WebAssembly) otherwise has V8's optimising compiler recompile the hot parts of PostgreSQL
// on background threads: 0.6 s of CPU in every process that opens one, most of it spent on code
// that runs too briefly to gain by it. The same results, computed by less optimised machine code.
// KRR_TEST_NODE_FLAGS sets other options ('' for none).
const NODE_FLAGS = (process.env.KRR_TEST_NODE_FLAGS ?? '--liftoff-only').split(' ').filter(Boolean);

/** @type {NodeJS.ProcessEnv} */
const env = {
  ...process.env,
  KRR_LOG_LEVEL: process.env.KRR_LOG_LEVEL ?? 'silent',
  KRR_TEST_NODE_FLAGS: NODE_FLAGS.join(' '),
};

/** Where the run's scratch directory goes. */
function scratchParent() {
  if (process.env.KRR_TEST_TMPDIR) return process.env.KRR_TEST_TMPDIR;
  if (process.env.TMPDIR) return process.env.TMPDIR;
  try {
    accessSync('/dev/shm', constants.W_OK);
    const { bavail, bsize } = statfsSync('/dev/shm');
    // The largest files are about 150 MB, a store about 40 MB, a few files run at once.
    if (bavail * bsize >= 4 * 1024 ** 3) return '/dev/shm';
  } catch {
    // no RAM disk here
  }
  return tmpdir();
}

const scratch = mkdtempSync(join(scratchParent(), 'krr-test-'));
env.TMPDIR = scratch;
const removeScratch = () => rmSync(scratch, { recursive: true, force: true });

let template;
if (
  files.length > 1 &&
  (process.env.KRR_TEST_STORES ?? 'both') !== 'postgres' &&
  !env.KRR_TEST_EMBEDDED_TEMPLATE
) {
  template = mkdtempSync(join(scratch, 'template-'));
  const made = spawnSync(
    process.execPath,
    [
      ...NODE_FLAGS,
      '--input-type=module',
      '-e',
      `const { openStore } = await import('./${BUILD}/src/register/open-store.js');
       const db = await openStore({ kind: 'embedded', dataDir: process.argv[1] });
       await db.close();`,
      template,
    ],
    { stdio: 'inherit', env },
  );
  if (made.status !== 0) {
    removeScratch();
    console.error('could not make the empty embedded store the tests copy');
    process.exit(1);
  }
  env.KRR_TEST_EMBEDDED_TEMPLATE = template;
}

const runner = spawn(
  process.execPath,
  ['--enable-source-maps', ...NODE_FLAGS, 'scripts/run-test-files.mjs', ...files.map(compiledPath)],
  { stdio: 'inherit', env },
);
// Ctrl-C reaches the runner too (one process group); the scratch directory is removed once it ends.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM']))
  process.on(signal, () => runner.kill(signal));
runner.on('close', (code, signal) => {
  removeScratch();
  process.exit(code ?? (signal ? 1 : 0));
});
