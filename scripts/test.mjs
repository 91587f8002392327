#!/usr/bin/env node
// Runs the whole suite: every src/**/*.test.ts and test/**/*.test.ts with Node's test runner. Node 20's `--test dir/`
// does not pick up .ts files, so the files are listed here. Extra arguments narrow the run to
// files whose path contains one of them (`npm test -- identifier lookup`).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * @param {string} dir
 * @returns {Generator<string>}
 */
function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.test.ts')) yield path;
  }
}

const filters = process.argv.slice(2);
const files = ['src', 'test']
  .flatMap((d) => [...walk(d)])
  .map((f) => relative('.', f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, KRR_LOG_LEVEL: process.env.KRR_LOG_LEVEL ?? 'silent' },
});
process.exit(result.status ?? 1);
