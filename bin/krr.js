#!/usr/bin/env node
// `npm ci` compiles the CLI into dist/ (the `prepare` script); this runs it.
import '../dist/cli/bin.js';
