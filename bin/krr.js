#!/usr/bin/env node
// Runs the compiled CLI in dist/: built by `npm run build`, which `prepare` runs on `npm ci` in a
// clone, on an install from git and on `npm pack`; a packed tarball carries it ready-made.
import '../dist/cli/bin.js';
