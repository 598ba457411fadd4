#!/usr/bin/env node
'use strict';
// The prorata command: a shim over the compiled CLI (npm run build compiles cli/ to dist/cli/).
const path = require('path');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'prorata.js');
let cli;
try {
  cli = require(entry);
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes(entry)) {
    process.stderr.write('prorata: dist/cli/prorata.js is missing: run npm run build first\n');
    process.exit(1);
  }
  throw error;
}
process.exitCode = cli.runProrata(process.argv.slice(2), cli.processIo);
