// Entry point of the E2E suite (scripts/run-tests.mjs calls it after the unit tests; also
// `npm run test:e2e`). It installs test/e2e's own dependencies when missing, builds and
// packages the extension, runs every spec in test/e2e/specs/ (each test in a fresh VS Code),
// prints `N passed, N failed` and exits non-zero on failure. When chromium or code-server
// cannot be installed and CI is not set, it says why and skips (exit 0).
//
//   node test/e2e/run.mjs [name-filter]     AVA_E2E_EXTENSION=dev skips packaging (uses dist/)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installE2eDeps } from './install.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const filter = process.argv[2];

function skipOrFail(reason) {
  if (process.env.CI) {
    console.error(`E2E: ${reason}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`E2E skipped: ${reason}`);
  process.exit(0);
}

/** Runs a preparation step quietly; its output is shown only when it fails. */
function step(title, command, args) {
  console.log(`E2E: ${title}`);
  const r = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    console.error(`E2E: ${title} failed (exit ${r.status})`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const reason = installE2eDeps({ quiet: true });
if (reason) skipOrFail(reason);

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (process.env.AVA_E2E_EXTENSION === 'dev') step('building (npm run build)', npm, ['run', 'build', '--silent']);
else step('building and packaging the .vsix (npm run package)', npm, ['run', 'package', '--silent']);

const harness = await import('./harness.mjs');
const specs = readdirSync(join(here, 'specs')).filter((f) => f.endsWith('.spec.mjs')).sort();
for (const file of specs) {
  const before = harness.tests.length;
  await import(pathToFileURL(join(here, 'specs', file)).href);
  for (const t of harness.tests.slice(before)) t.file = file;
}
const selected = harness.tests.filter((t) => !filter || t.name.includes(filter) || t.file?.includes(filter));

const failuresDir = join(harness.RESULTS, 'failures');
let passed = 0;
let failed = 0;
for (const t of selected) {
  const t0 = Date.now();
  let vs;
  try {
    vs = await harness.startVSCode({ ...t.options, name: t.name });
    await withTimeout(t.fn(vs), t.options.timeoutMs ?? 150_000, t.name);
    passed++;
    console.log(`  ✓ ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`  ✗ ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n    ${String(e?.stack ?? e).split('\n').join('\n    ')}`);
    if (vs) await saveFailure(vs, t.name);
  } finally {
    await vs?.close();
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

function withTimeout(promise, ms, name) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: timed out after ${ms / 1000} s`)), ms))),
  ]);
}

async function saveFailure(vs, name) {
  const slug = name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
  mkdirSync(failuresDir, { recursive: true });
  const png = join(failuresDir, `${slug}.png`);
  await vs.page?.screenshot({ path: png }).catch(() => undefined);
  writeFileSync(join(failuresDir, `${slug}.extension.log`), vs.extensionLog());
  writeFileSync(join(failuresDir, `${slug}.code-server.log`), vs.serverLog.join(''));
  console.log(`    screenshot and logs: ${png.replace(/\.png$/, '.*')}`);
}
