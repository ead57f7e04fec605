#!/usr/bin/env node
// The `ava-lab` command: the bundled backend CLI (built by `npm run build`, which `npm install` runs).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const bundle = new URL('../dist/cli.cjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('ava-lab: dist/cli.cjs is missing; run `npm run build` in the ava-lab folder first.\n');
  process.exit(1);
}
createRequire(import.meta.url)(bundle.pathname);
