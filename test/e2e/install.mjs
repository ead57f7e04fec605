// Installs the E2E suite's own npm dependencies (code-server 4.100.3 + playwright-core) into
// test/e2e/node_modules, offline-safe, as ../shared/docs/vscode-e2e.md prescribes:
//  - code-server's postinstall downloads ripgrep: its cache is seeded first with Debian's
//    /usr/bin/rg so nothing is downloaded (the cache lives under os.tmpdir(), so the seeding
//    and `npm install` share one TMPDIR);
//  - the postinstall runs as root here: test/e2e/.npmrc sets unsafe-perm=true.
// Debian packages (chromium, libkrb5-dev, ripgrep) are the CI script's job (`apt-get install`).
//
// Usage: node test/e2e/install.mjs        (exit 0 when installed, 1 with a reason otherwise)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Debian binaries the suite needs; the first missing one is the reason to skip. */
export const REQUIRED_BINARIES = { chromium: '/usr/bin/chromium', ripgrep: '/usr/bin/rg' };

export function missingBinaries() {
  return Object.entries(REQUIRED_BINARIES)
    .filter(([, path]) => !existsSync(path))
    .map(([name, path]) => `${name} (${path})`);
}

export function depsInstalled() {
  return ['code-server/package.json', 'playwright-core/package.json'].every((p) => existsSync(join(here, 'node_modules', p)));
}

/** The tarball name @vscode/ripgrep's postinstall looks for in its cache before downloading. */
function seedRipgrepCache() {
  const dir = join(tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz');
  if (existsSync(tarball)) return;
  const r = spawnSync('tar', ['czf', tarball, '-C', dirname(REQUIRED_BINARIES.ripgrep), 'rg'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not seed the ripgrep cache from /usr/bin/rg');
}

/** Installs when needed; returns null on success or a one-line reason. */
export function installE2eDeps({ quiet = false } = {}) {
  const missing = missingBinaries();
  if (missing.length) return `missing Debian packages: ${missing.join(', ')} (apt-get install -y chromium libkrb5-dev ripgrep)`;
  if (depsInstalled()) return null;
  seedRipgrepCache();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: here,
    stdio: quiet ? 'pipe' : 'inherit',
    env: { ...process.env, TMPDIR: tmpdir() },
  });
  if (r.status !== 0) {
    const tail = quiet ? `: ${String(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` : '';
    return `npm install in test/e2e failed (exit ${r.status})${tail}`;
  }
  return depsInstalled() ? null : 'npm install in test/e2e finished but code-server is missing';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const reason = installE2eDeps();
  if (reason) {
    console.error(`E2E dependencies not installed: ${reason}`);
    process.exit(1);
  }
  console.log('E2E dependencies installed in test/e2e/node_modules');
}
