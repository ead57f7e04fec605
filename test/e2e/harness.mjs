// The E2E harness: a real VS Code (code-server 4.100.3) with the packaged AVA Lab extension,
// driven by playwright-core through Debian's chromium, as ../shared/docs/vscode-e2e.md
// prescribes. Every test gets a fresh code-server on 127.0.0.1 (free port, fresh temporary
// HOME / user-data / extensions dirs) and a fresh copy of the fixture workspace; the process
// group is always killed at the end, with every training process the test started.
//
// Writing a spec (test/e2e/specs/*.spec.mjs), see README.md:
//   import { test, expect } from '../harness.mjs';
//   test('runs appear in the Runs view', async (vs) => {
//     await vs.openFile('tiny.ava.yaml');
//     await vs.command('AVA Lab: Run Experiment');
//     await vs.waitForRunsRow('seed-0', /acc/);
//   });
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export const FIXTURES = join(here, 'fixtures');
export const RESULTS = join(ROOT, 'test-results', 'e2e');
export const SCREENSHOTS = join(ROOT, 'media', 'screenshots');
/** Per-process scratch (installed extension, trained fixture run): suites may run side by side. */
const CACHE = mkdtempSync(join(tmpdir(), 'ava-e2e-cache-'));
process.on('exit', () => rmSync(CACHE, { recursive: true, force: true }));
const CODE_SERVER = join(here, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
export const EXTENSION_ID = `${PKG.publisher}.${PKG.name}`;
const EXTENSION_FOLDER = `${EXTENSION_ID}-${PKG.version}`;

// ── test registry ───────────────────────────────────────────────────────────

/** @typedef {{ workspace?: string, trainedRun?: boolean, untrusted?: boolean, settings?: Record<string, unknown>, timeoutMs?: number }} TestOptions */
/** @type {{ name: string, fn: (vs: VSCodeSession) => Promise<void>, options: TestOptions, file?: string }[]} */
export const tests = [];

/**
 * Registers a test. `fn` receives a started VSCodeSession (and it is closed for you).
 * Options: `workspace` (a folder under fixtures/, default `workspace`), `trainedRun` (copy a
 * finished run of fixtures/trained.ava.yaml into `runs/` and its eval pairs to `data/eval.jsonl`), `untrusted` (open
 * the folder in Restricted Mode), `settings` (user settings), `timeoutMs` (default 150 s).
 * @param {string} name
 * @param {(vs: VSCodeSession) => Promise<void>} fn
 * @param {TestOptions} [options]
 */
export function test(name, fn, options = {}) {
  tests.push({ name, fn, options });
}

/** Fails with a message when `condition` is false. */
export function expect(condition, message) {
  if (!condition) throw new Error(`expectation failed: ${message}`);
}

// ── one-time preparation (memoised per process) ─────────────────────────────

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** Environment that keeps code-server's own files inside `dir`. */
function isolatedEnv(dir) {
  for (const d of ['home', 'config', 'data', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  return {
    ...process.env,
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    TMPDIR: join(dir, 'tmp'),
    EXTENSIONS_GALLERY: '{}',
  };
}

let installed;
/**
 * The extension folder every session links to: the packaged .vsix installed once with
 * `code-server --install-extension` (AVA_E2E_VSIX overrides the path), or the repository
 * itself when AVA_E2E_EXTENSION=dev (no packaging; uses dist/ as built).
 */
export function installedExtension() {
  if (installed) return installed;
  if (process.env.AVA_E2E_EXTENSION === 'dev') return (installed = ROOT);
  const vsix = process.env.AVA_E2E_VSIX ?? join(ROOT, `${PKG.name}-${PKG.version}.vsix`);
  if (!existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\` first`);
  const dir = join(CACHE, 'install');
  rmSync(dir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [CODE_SERVER, '--extensions-dir', join(dir, 'extensions'), '--install-extension', vsix], {
    env: isolatedEnv(dir),
    encoding: 'utf8',
    timeout: 120_000,
  });
  const folder = join(dir, 'extensions', EXTENSION_FOLDER);
  if (r.status !== 0 || !existsSync(folder)) throw new Error(`installing ${vsix} failed: ${r.stdout}\n${r.stderr}`);
  return (installed = folder);
}

let trained;
/** A finished run of fixtures/trained.ava.yaml (trained once with the CLI): `{ runsDir, evalFile }`. */
export function trainedRun() {
  if (trained) return trained;
  const dir = join(CACHE, 'trained');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(FIXTURES, 'trained.ava.yaml'), join(dir, 'harmless.ava.yaml'));
  const r = spawnSync(process.execPath, [join(installedExtension(), 'dist', 'cli.cjs'), 'run', 'harmless.ava.yaml', '--runs-root', 'runs'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`training the fixture run failed (exit ${r.status}): ${r.stderr}`);
  const evalFile = findFiles(join(dir, 'runs'), (p) => basename(p) === 'eval.jsonl' && p.includes(`${join('data', '')}`))[0];
  if (!evalFile) throw new Error('the trained fixture run has no eval.jsonl');
  return (trained = { runsDir: join(dir, 'runs'), evalFile });
}

function findFiles(dir, match) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    let st;
    try {
      st = statSync(p);
    } catch {
      return [];
    }
    return st.isDirectory() ? findFiles(p, match) : match(p) ? [p] : [];
  });
}

// ── a session ───────────────────────────────────────────────────────────────

/**
 * Starts code-server on a free port with fresh dirs, opens the workspace in chromium and waits
 * for the workbench. Always `await session.close()` (the runner does it for registered tests).
 * @param {{ name?: string, workspace?: string, trainedRun?: boolean, untrusted?: boolean, settings?: Record<string, unknown> }} [options]
 */
export async function startVSCode(options = {}) {
  const root = mkdtempSync(join(tmpdir(), 'ava-e2e-'));
  const workspace = join(root, 'workspace');
  cpSync(join(FIXTURES, options.workspace ?? 'workspace'), workspace, { recursive: true });
  if (options.trainedRun) {
    const t = trainedRun();
    cpSync(t.runsDir, join(workspace, 'runs'), { recursive: true });
    mkdirSync(join(workspace, 'data'), { recursive: true });
    cpSync(t.evalFile, join(workspace, 'data', 'eval.jsonl'));
  }
  const userData = join(root, 'user-data');
  const extensions = join(root, 'extensions');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensions, { recursive: true });
  symlinkSync(installedExtension(), join(extensions, EXTENSION_FOLDER), 'dir');
  const settings = {
    'workbench.startupEditor': 'none',
    ...(options.untrusted
      ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.untrustedFiles': 'open' }
      : { 'security.workspace.trust.enabled': false }),
    'editor.hover.delay': 200,
    'workbench.tips.enabled': false,
    'window.restoreWindows': 'none',
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    ...options.settings,
  };
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const port = await freePort();
  const config = join(root, 'code-server.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [
    CODE_SERVER,
    '--config', config,
    '--user-data-dir', userData,
    '--extensions-dir', extensions,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
    ...(options.untrusted ? [] : ['--disable-workspace-trust']),
    '--ignore-last-opened',
    workspace,
  ];
  const logFile = join(root, 'code-server.log');
  const server = spawn(process.execPath, args, { env: isolatedEnv(root), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const onData = (chunk) => {
    log.push(String(chunk));
    writeFileSync(logFile, log.join(''));
  };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
  const session = new VSCodeSession({ root, workspace, port, server, log, name: options.name ?? 'session' });
  try {
    await session.waitForServer();
    await session.openBrowser();
  } catch (e) {
    await session.close();
    throw e;
  }
  return session;
}

export class VSCodeSession {
  /** @param {{ root: string, workspace: string, port: number, server: import('node:child_process').ChildProcess, log: string[], name: string }} o */
  constructor(o) {
    this.root = o.root;
    /** The workspace folder VS Code has open (a fresh copy of the fixture). */
    this.workspace = o.workspace;
    this.port = o.port;
    this.server = o.server;
    this.serverLog = o.log;
    this.name = o.name;
    this.url = `http://127.0.0.1:${o.port}/?folder=${encodeURIComponent(o.workspace)}`;
    /** @type {import('playwright-core').Browser | undefined} */
    this.browser = undefined;
    /** @type {import('playwright-core').Page} */
    this.page = /** @type {any} */ (undefined);
  }

  async waitForServer(timeoutMs = 30_000) {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (this.server.exitCode !== null) throw new Error(`code-server exited (${this.server.exitCode}):\n${this.serverLog.join('')}`);
      try {
        const r = await fetch(`http://127.0.0.1:${this.port}/healthz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`code-server did not start within ${timeoutMs / 1000} s:\n${this.serverLog.join('')}`);
  }

  async openBrowser() {
    const { chromium } = await import('playwright-core');
    this.browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await this.browser.newContext({ viewport: { width: 1440, height: 900 } });
    this.page = await context.newPage();
    this.page.setDefaultTimeout(20_000);
    await this.page.goto(this.url);
    await this.waitForWorkbench();
  }

  async waitForWorkbench() {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await this.page.locator('.statusbar').waitFor({ timeout: 60_000 });
  }

  /**
   * Runs a palette command by its title (e.g. `AVA Lab: Run Experiment`). Right after start-up
   * the extension's commands may not be listed yet: retries until they are.
   */
  async command(title, { timeoutMs = 30_000 } = {}) {
    const t0 = Date.now();
    const input = this.page.locator('.quick-input-widget input');
    for (;;) {
      await this.focusWorkbench();
      await this.page.keyboard.press('F1');
      await this.page.locator('.quick-input-widget').waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      try {
        await row.waitFor({ state: 'visible', timeout: 2500 });
        const label = (await row.getAttribute('aria-label')) ?? '';
        if (label.startsWith(title) || label.includes(title)) {
          // Enter runs the focused row, and a fuzzy match may rank others above this one
          // ("Tasks: Restart Running Task" before "Tasks: Run Task"): move the focus onto it.
          await sleep(300); // the list may still be filling in (commands registered late)
          const focusedLabel = async () => (await this.page.locator('.quick-input-list .monaco-list-row.focused').first().getAttribute('aria-label', { timeout: 1000 }).catch(() => '')) ?? '';
          let focused = await focusedLabel();
          for (let i = 0; i < 20 && focused !== label; i++) (await this.page.keyboard.press('ArrowDown'), (focused = await focusedLabel()));
          if (focused === label) await this.page.keyboard.press('Enter');
          else await row.click();
          return;
        }
      } catch {
        // not registered yet
      }
      await this.page.keyboard.press('Escape');
      if (Date.now() - t0 > timeoutMs) throw new Error(`command not found in the palette: ${title}`);
      await sleep(500);
    }
  }

  /** Clicks an empty part of the workbench so keyboard shortcuts reach it (not a webview). */
  async focusWorkbench() {
    await this.page.locator('.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
  }

  /** Opens a workspace file with Quick Open (path relative to the workspace). */
  async openFile(relativePath) {
    await this.focusWorkbench();
    await this.page.keyboard.press('Control+P');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'visible' });
    await this.page.locator('.quick-input-widget input').fill(relativePath);
    const name = basename(relativePath);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible' });
    await this.page.keyboard.press('Enter');
    await this.page.locator(`.tab.active[aria-label*="${name}"], .tab.active:has-text("${name}")`).first().waitFor({ state: 'visible' });
    await this.page.locator('.monaco-editor .view-lines').first().waitFor({ state: 'visible' });
  }

  /**
   * Picks an item in an open quick pick by (part of) its label: a click accepts a single pick
   * and toggles a row of a multi-select pick (then accept with the OK button). A click lost
   * while the list re-rendered is retried (click, then Enter), but only while the quick input
   * still shows the same list: a pick that opened a second list is done.
   */
  async pick(text, { timeoutMs = 30_000 } = {}) {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
    await row.waitFor({ state: 'visible', timeout: timeoutMs });
    const multi = (await row.getAttribute('role')) === 'checkbox'; // rows of a canPickMany list
    const before = await this.quickInputState();
    await row.click();
    if (multi) return;
    for (const retry of [() => row.click(), () => this.page.keyboard.press('Enter')]) {
      await sleep(400);
      if ((await this.quickInputState()) !== before) return;
      await retry().catch(() => {});
    }
  }

  /** What the quick input shows (its prompt and rows), or 'closed'. */
  async quickInputState() {
    const widget = this.page.locator('.quick-input-widget');
    if (!(await widget.isVisible().catch(() => false))) return 'closed';
    const prompt = await widget.locator('input').first().getAttribute('placeholder').catch(() => '');
    const rows = await widget.locator('.quick-input-list .monaco-list-row').allInnerTexts().catch(() => []);
    return `${prompt}\n${rows.join('\n')}`;
  }

  /** Shows the AVA Lab activity-bar container with its Runs view. */
  async openRunsView() {
    const tab = this.page.locator('.activitybar .action-item a[aria-label^="AVA Lab"], .activitybar .action-item[aria-label^="AVA Lab"]').first();
    await tab.waitFor({ state: 'visible', timeout: 30_000 });
    const pane = this.runsPane();
    // A click on the container that is already active hides the sidebar, and just after a
    // reload the workbench may still be restoring it: click until the pane stays visible.
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await pane.isVisible().catch(() => false)) return;
      await tab.click();
      if (await pane.waitFor({ state: 'visible', timeout: 4_000 }).then(() => true, () => false)) {
        await sleep(500);
        if (await pane.isVisible().catch(() => false)) return;
      }
    }
    await pane.waitFor({ state: 'visible', timeout: 5_000 });
  }

  runsPane() {
    return this.page.locator('.pane:has(.pane-header[aria-label^="Runs"]) .pane-body, .pane-body[aria-label^="Runs"]').first();
  }

  /** A row of the Runs view whose text contains `label`. */
  runsRow(label) {
    return this.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row', { hasText: label }).first();
  }

  /** Waits until the Runs view shows a row with `label` whose text matches `pattern`; returns the text. */
  async waitForRunsRow(label, pattern, { timeoutMs = 90_000 } = {}) {
    const t0 = Date.now();
    let last = '';
    while (Date.now() - t0 < timeoutMs) {
      const row = this.runsRow(label);
      last = (await row.innerText({ timeout: 1000 }).catch(() => '')) || last;
      if (last && pattern.test(last)) return last;
      await sleep(250);
    }
    throw new Error(`Runs view row "${label}" never matched ${pattern}; last text: ${JSON.stringify(last)}`);
  }

  /** Clicks the inline action `title` (e.g. `Stop Run`) of a Runs view row. */
  async clickRowAction(label, title) {
    const row = this.runsRow(label);
    await row.hover();
    await row.locator(`.action-label[aria-label^="${title}"], .action-label[title^="${title}"]`).first().click();
  }

  /**
   * Hovers the first editor token whose text contains `text` and returns the text of the
   * visible hover once it matches `until` (a hover first shows "Loading..."). Re-hovers when
   * no hover appears.
   */
  async hoverToken(text, { until = /./, timeoutMs = 60_000 } = {}) {
    const token = this.page.locator('.monaco-editor .view-line span span', { hasText: text }).first();
    const hover = this.page.locator('.monaco-editor .monaco-hover:not(.hidden)').first();
    const t0 = Date.now();
    let last = '';
    while (Date.now() - t0 < timeoutMs) {
      await this.page.mouse.move(1, 450); // off the editor, onto the bare activity bar
      await token.hover({ position: { x: 6, y: 6 } }); // near its start: a long string may end off-screen
      for (let i = 0; i < 20 && Date.now() - t0 < timeoutMs; i++) {
        await sleep(300);
        last = (await hover.innerText({ timeout: 500 }).catch(() => '')) || last;
        if (until.test(last)) return last;
      }
    }
    throw new Error(`hover over "${text}" never matched ${until}; last text: ${JSON.stringify(last)}`);
  }

  /** The inner document of a webview panel of this extension (two iframes deep). */
  webview() {
    return this.page.frameLocator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`).frameLocator('iframe#active-frame');
  }

  /** Waits for a notification toast whose text matches `pattern`; returns its text. */
  async waitForNotification(pattern, { timeoutMs = 90_000 } = {}) {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const texts = await this.page.locator('.notification-toast').allInnerTexts().catch(() => []);
      const hit = texts.find((t) => pattern.test(t));
      if (hit) return hit;
      await sleep(250);
    }
    throw new Error(`no notification matched ${pattern}`);
  }

  /** The status bar's text (all items). */
  async statusBarText() {
    return this.page.locator('.statusbar').innerText();
  }

  /** Reloads the window (the extension host restarts) and waits for the workbench. */
  async reload() {
    await this.command('Developer: Reload Window');
    await sleep(1000);
    await this.waitForWorkbench();
  }

  /** Saves a screenshot: `media/screenshots/<name>.png` for the README, or any path. */
  async screenshot(name, { path, clip } = {}) {
    const file = path ?? join(SCREENSHOTS, `${name}.png`);
    mkdirSync(dirname(file), { recursive: true });
    await this.page.screenshot({ path: file, clip });
    return file;
  }

  /** Lines of the extension's log (LogOutputChannel "AVA Lab") written so far. */
  extensionLog() {
    return findFiles(join(this.root, 'user-data', 'logs'), (p) => p.endsWith('AVA Lab.log'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
  }

  /** Stops everything this session started: training processes, code-server's group, chromium. */
  async close() {
    await this.browser?.close().catch(() => undefined);
    for (const pid of this.startedBackendPids()) killGroup(pid);
    killGroup(this.server.pid);
    await sleep(200);
    rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Pids of training backends (launch records and running status files) under this session. */
  startedBackendPids() {
    const launches = findFiles(join(this.root, 'user-data'), (p) => p.endsWith(join('launches', basename(dirname(p)), 'launch.json')));
    const statuses = findFiles(join(this.workspace, 'runs'), (p) => basename(p) === 'status.json');
    const pids = [...launches, ...statuses].flatMap((f) => {
      try {
        const o = JSON.parse(readFileSync(f, 'utf8'));
        return typeof o.pid === 'number' && o.pid > 0 && (o.status === undefined || o.status === 'running') ? [o.pid] : [];
      } catch {
        return [];
      }
    });
    return [...new Set(pids)];
  }
}

/** SIGKILLs a process group and its leader (no chance to checkpoint or write a status). */
export function killGroup(pid) {
  if (!pid) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a run's status.json under the session's workspace `runs/<experiment>/*\/<cell>`. */
export function readRunStatus(vs, experiment, cell = join('base', 'seed-0')) {
  const dir = join(vs.workspace, 'runs', experiment);
  const grids = existsSync(dir) ? readdirSync(dir).sort() : [];
  const grid = grids.at(-1);
  if (!grid) return null;
  const file = join(dir, grid, cell, 'status.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}
