#!/usr/bin/env node
// Runs the test files named on the command line, in that order, with Node's test runner, each in a
// process of its own, KRR_TEST_CONCURRENCY of them at once (default 3:
// on 2 cores, a third file fills the time the others spend waiting for processes and timeouts), and writes TAP to stdout.
// scripts/test.mjs chooses the files and their order; this is its runner. Not `node --test FILES`:
// on Node 20 that sorts the files by path, so the longest ones, which should start first, started
// wherever their paths put them, and the run ended with one of them going on alone.
// Options given to this process (--enable-source-maps) reach the test processes too.
import { relative, resolve } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';

const files = process.argv.slice(2).map((f) => resolve(f));
const concurrency = Number(process.env.KRR_TEST_CONCURRENCY ?? 3);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(
    `KRR_TEST_CONCURRENCY must be a whole number of 1 or more, not ${process.env.KRR_TEST_CONCURRENCY}`,
  );
  process.exit(2);
}

const stream = run({ files, concurrency });
stream.on('test:fail', () => {
  process.exitCode = 1;
});

// Each file's wall time, from its process starting to its end (a file's own events carry its path
// as their name); the slowest are listed on stderr at the end, so that the stdout TAP stays as it
// was. KRR_TEST_SLOWEST: how many (default 15; 0 for none).
const slowest = Number(process.env.KRR_TEST_SLOWEST ?? 15);
/** @type {Map<string, number>} */
const startedAt = new Map();
/** @type {{ file: string, ms: number }[]} */
const durations = [];
stream.on('test:dequeue', (/** @type {{ name: string, file?: string }} */ data) => {
  if (data.file !== undefined && data.name === data.file) startedAt.set(data.file, performance.now());
});
stream.on('test:complete', (/** @type {{ name: string, file?: string }} */ data) => {
  const start = data.file !== undefined && data.name === data.file ? startedAt.get(data.file) : undefined;
  if (data.file !== undefined && start !== undefined) {
    // The source's path, not the compiled copy's (.test-build/x.test.js -> x.test.ts).
    const file = relative(process.cwd(), data.file)
      .replace(/^\.test-build\//, '')
      .replace(/\.js$/, '.ts');
    durations.push({ file, ms: performance.now() - start });
  }
});
const report = stream.compose(tap);
report.on('end', () => {
  if (slowest <= 0 || durations.length < 2) return;
  const top = durations.sort((a, b) => b.ms - a.ms).slice(0, slowest);
  process.stderr.write(`# the ${top.length} slowest of ${durations.length} files (wall time, s):\n`);
  for (const { file, ms } of top) process.stderr.write(`# ${(ms / 1000).toFixed(1).padStart(7)}  ${file}\n`);
});
report.pipe(process.stdout);
