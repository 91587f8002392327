#!/usr/bin/env node
// Runs the test files named on the command line, in that order, with Node's test runner, each in a
// process of its own, KRR_TEST_CONCURRENCY of them at once (default 3:
// on 2 cores, a third file fills the time the others spend waiting for processes and timeouts), and writes TAP to stdout.
// scripts/test.mjs chooses the files and their order; this is its runner. Not `node --test FILES`:
// on Node 20 that sorts the files by path, so the longest ones, which should start first, started
// wherever their paths put them, and the run ended with one of them going on alone.
// Options given to this process (--enable-source-maps) reach the test processes too.
import { resolve } from 'node:path';
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
stream.compose(tap).pipe(process.stdout);
