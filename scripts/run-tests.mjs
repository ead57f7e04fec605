// Runs every unit and integration test (test/**/*.test.ts, except test/e2e) with Node's own
// test runner, TypeScript loaded through tsx. Extra arguments are passed to `node --test`
// (e.g. `npm test -- --test-name-pattern=CER`). The VS Code end-to-end suite runs after,
// from test/e2e/run.mjs, unless AVA_SKIP_E2E=1.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
function find(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'e2e' || f === 'fixtures' || f === 'node_modules' ? [] : find(p);
    return f.endsWith('.test.ts') ? [relative(root, p)] : [];
  });
}
const files = find(join(root, 'test')).sort();
const args = ['--import', 'tsx', '--test', '--test-reporter=spec', ...process.argv.slice(2), ...files];
const unit = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (unit.status !== 0) process.exit(unit.status ?? 1);

const e2e = join(root, 'test/e2e/run.mjs');
if (process.env.AVA_SKIP_E2E !== '1' && existsSync(e2e)) {
  const r = spawnSync(process.execPath, [e2e], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
