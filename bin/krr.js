#!/usr/bin/env node
// The compiled CLI (built by `npm ci` through the `prepare` script).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`krr: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
