#!/usr/bin/env node
/**
 * The `budgie` executable. A command runs from the CLI's bundle (dist/cli-bundle.js: the composition
 * root and everything it imports in one file, built by scripts/bundle.ts) with V8's code cache,
 * so that a command starts in about one and a half times a bare `node`, not three: most of a
 * short command's time was Node finding, reading and compiling some 300 modules. The bundle
 * loads the agent's modules from beside it only for `budgie agent`, which runs from the compiled
 * modules straight away (a daemon starts once). Without a bundle (a plain `tsc` build), every
 * command runs from the compiled modules.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCached } from './launch/cached-script';

const bundle = join(__dirname, 'cli-bundle.js');
if (existsSync(bundle) && process.argv[2] !== 'agent') {
  runCached(bundle);
} else {
  void import('./entry');
}
