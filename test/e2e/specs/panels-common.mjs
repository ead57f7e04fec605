// Helpers shared by the panel specs (panels-*.spec.mjs): run directories on disk and the
// panels' webview documents, found by the `data-testid` they contain.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXTENSION_ID, sleep } from '../harness.mjs';

/** `runs/<experiment>/<newest grid>/<cell>` of the session's workspace. */
export function runDirOf(vs, experiment, cell = join('base', 'seed-0')) {
  const root = join(vs.workspace, 'runs', experiment);
  const grids = existsSync(root) ? readdirSync(root).filter((d) => /^\d{8}-\d{6}/.test(d)).sort() : [];
  if (!grids.length) throw new Error(`no grid of ${experiment} under ${root}`);
  return join(root, grids.at(-1), cell);
}

export const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

export function readJsonl(path) {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** Waits until `fn()` returns a truthy value (retrying on errors); returns that value. */
export async function waitUntil(what, fn, { timeoutMs = 60_000, intervalMs = 250 } = {}) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}`);
}

/**
 * The document of this extension's webview panel that contains `[data-testid=testId]`
 * (several panels can be visible at once: a dashboard and the token rewards beside it).
 */
export async function panel(vs, testId, { timeoutMs = 60_000 } = {}) {
  const outer = `iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`;
  return waitUntil(`a panel with ${testId}`, async () => {
    const n = await vs.page.locator(outer).count();
    for (let i = 0; i < n; i++) {
      const doc = vs.page.frameLocator(outer).nth(i).frameLocator('iframe#active-frame');
      if ((await doc.getByTestId(testId).count()) > 0) return doc;
    }
    return undefined;
  }, { timeoutMs });
}

/**
 * Starts the endless fixture run (long.ava.yaml) from the palette and, once it trains, opens
 * its dashboard; returns the dashboard's document. The test must stop or kill the run.
 */
export async function startLongRunWithDashboard(vs) {
  await vs.openFile('long.ava.yaml');
  await vs.command('AVA Lab: Run Experiment');
  await vs.openRunsView();
  await vs.waitForRunsRow('base/seed-0', /running · step [1-9]\d*\//);
  await vs.command('AVA Lab: Open Run Dashboard');
  await vs.pick('long');
  return panel(vs, 'run-header');
}

/** The raw curve points of a chart: `{ seriesName: [[step, value], …] }`. */
export async function chartPoints(doc, chartTestId) {
  return JSON.parse((await doc.getByTestId(chartTestId).first().getAttribute('data-points')) ?? '{}');
}

/** Sets a vscode-elements single select (its options live in a shadow root) and fires `change`. */
export async function choose(doc, testId, value) {
  await doc.getByTestId(testId).evaluate((el, v) => {
    el.value = v;
    el.dispatchEvent(new Event('change'));
  }, value);
}

/** `[[step, value], …]` of one key of one phase of metrics.jsonl. */
export function metricPoints(records, key, phase = 'train') {
  return records.filter((r) => r.phase === phase && typeof r.values[key] === 'number').map((r) => [r.step, r.values[key]]);
}

export function sameNumbers(a, b, tol = 1e-9) {
  return a.length === b.length && a.every((p, i) => p[0] === b[i][0] && Math.abs(p[1] - b[i][1]) <= tol * Math.max(1, Math.abs(b[i][1])));
}
