/**
 * The webview bundle in a real browser (Chromium via playwright-core), outside VS Code: the page
 * is served with the panels' own HTML and CSP, `acquireVsCodeApi` is a stub that records what the
 * page posts, and the host's snapshots are built from the fixture run directories by the same
 * readers the panels use. Checks what e2e tests rely on: the test selectors, the curve points in
 * the DOM, the table rows, the tokens — and that the CSP blocks nothing.
 * Skipped when Chromium is not installed. Set AVA_WEBVIEW_SHOTS=DIR to keep screenshots.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostToWebview, PanelKind } from '../src/protocol/webview.js';
import { expandRunDirs, readCompareRun, readEvals, readFinalEval, readMetrics, readRunConfig, readRunSummary, readTokenRewards, resolveEvalDataFile } from '../src/extension/panels/runFiles.js';
import { contentSecurityPolicy } from '../src/extension/panels/webviewHtml.js';

const CHROMIUM = '/usr/bin/chromium';
const root = resolve(import.meta.dirname, '..');
const grid = join(root, 'test/fixtures/rundirs/demo/20250101-000000');
const run = join(grid, 'base/seed-0');
const shots = process.env.AVA_WEBVIEW_SHOTS;
const skip = existsSync(CHROMIUM) ? false : 'Chromium is not installed';

let browser: Browser;
let server: Server;
let base: string;
let outDir: string;

const NONCE = 'testnonce1234567890';

function page(kind: PanelKind): string {
  const stub = `window.__posted = []; window.__state = undefined;
    window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => window.__state, setState: (s) => { window.__state = s; } });`;
  return `<!DOCTYPE html><html><head><meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy("'self'", NONCE)}">
    <style nonce="${NONCE}">:root { --vscode-foreground: #cccccc; --vscode-editor-background: #1e1e1e; --vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace; --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; --vscode-charts-green: #89d185; --vscode-charts-red: #f14c4c; --vscode-charts-purple: #b180d7; --vscode-charts-yellow: #cca700; --vscode-descriptionForeground: #9d9d9d; --vscode-textLink-foreground: #3794ff; --vscode-panel-border: #444; }</style>
    </head><body data-panel="${kind}" class="vscode-dark"><main id="app" data-testid="app">Loading…</main>
    <script nonce="${NONCE}">${stub}</script><script nonce="${NONCE}" src="/webview.js"></script></body></html>`;
}

before(async () => {
  if (skip) return;
  outDir = mkdtempSync(join(tmpdir(), 'ava-webview-'));
  await esbuild.build({ entryPoints: [join(root, 'webview/main.ts')], outfile: join(outDir, 'webview.js'), bundle: true, platform: 'browser', format: 'iife', target: 'es2022', loader: { '.css': 'text' }, logLevel: 'error' });
  const bundle = readFileSync(join(outDir, 'webview.js'));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/webview.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(url.searchParams.get('panel') as PanelKind));
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** Open a panel page, wait for `ready`, send the host's messages; returns the page and CSP errors. */
async function open(kind: PanelKind, messages: HostToWebview[]): Promise<{ p: Page; cspErrors: string[]; pageErrors: string[] }> {
  const p = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const cspErrors: string[] = [];
  const pageErrors: string[] = [];
  p.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(`${base}/?panel=${kind}`);
  await p.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  for (const m of messages) await p.evaluate((msg) => window.postMessage(msg, '*'), m);
  return { p, cspErrors, pageErrors };
}

async function shot(p: Page, name: string): Promise<void> {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await p.waitForTimeout(150);
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

const posted = (p: Page): Promise<{ type: string; [k: string]: unknown }[]> => p.evaluate(() => (window as unknown as { __posted: { type: string }[] }).__posted);

test('dashboard: header, final metrics, curve points in the DOM, live records, export', { skip }, async () => {
  const records = readMetrics(run);
  const init: HostToWebview = { type: 'dashboard/init', args: { kind: 'dashboard', runDir: run }, run: readRunSummary(run, records), records: records.slice(0, -3), evals: readEvals(run), final: readFinalEval(run) };
  const { p, cspErrors, pageErrors } = await open('dashboard', [init, { type: 'dashboard/records', records: records.slice(-3) }]);
  await p.locator('[data-testid="chart-losses"] canvas').waitFor();
  assert.equal(await p.getByTestId('run-title').textContent(), 'demo / base / seed 0');
  assert.equal(await p.getByTestId('run-status').textContent(), 'finished');
  assert.equal(await p.locator('[data-testid="final-metric"][data-key="reward_acc"]').getAttribute('data-value'), '0.78');
  const points = JSON.parse((await p.getByTestId('chart-losses').getAttribute('data-points'))!) as Record<string, [number, number][]>;
  assert.deepEqual(Object.keys(points), ['pretrain nll', 'loss', 'nll', 'neg', 'kl', 'td', 'cer']);
  assert.equal(points.loss.length, 20, 'the live records were appended');
  assert.deepEqual(points.loss.at(-1), [200, records.filter((r) => r.phase === 'train').at(-1)!.values.loss]);
  const acc = JSON.parse((await p.getByTestId('chart-accuracy').getAttribute('data-points'))!) as Record<string, [number, number][]>;
  assert.deepEqual(acc['eval reward_acc'].map((x) => x[0]), [50, 100, 150, 200]);
  assert.ok(await p.getByTestId('chart-metric-train-lr').isVisible());
  await p.locator('[data-testid="chart-losses"] [data-testid="export-csv"]').click();
  const csv = (await posted(p)).find((m) => m.type === 'export');
  assert.equal(csv?.format, 'csv');
  assert.match(String(csv?.data), /^step,pretrain nll,loss,nll,neg,kl,td,cer\n5,3.75,,/);
  await p.locator('[data-testid="chart-losses"] [data-testid="export-png"]').click();
  assert.match(String((await posted(p)).filter((m) => m.type === 'export').at(-1)?.data), /^data:image\/png;base64,/);
  await shot(p, 'dashboard');
  assert.deepEqual(cspErrors, []);
  assert.deepEqual(pageErrors, []);
  const state = await p.evaluate(() => (window as unknown as { __state: unknown }).__state);
  assert.deepEqual((state as { args: unknown }).args, { kind: 'dashboard', runDir: run }, 'the serializer can restore from the saved state');
  await p.close();
});

test('compare: one row per variant with mean ± std, best marked, baseline deltas, config diff', { skip }, async () => {
  const { runDirs } = expandRunDirs([grid]);
  const init: HostToWebview = { type: 'compare/init', args: { kind: 'compare', runDirs: [grid] }, runs: runDirs.map((d) => readCompareRun(d)), missing: [] };
  const { p, cspErrors, pageErrors } = await open('compare', [init]);
  await p.getByTestId('compare-table').waitFor();
  const rows = p.getByTestId('compare-row');
  assert.equal(await rows.count(), 2);
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-label'))), ['base', 'no-kl']);
  const acc = p.locator('[data-testid="compare-row"][data-key="base"] td[data-metric="reward_acc"]');
  assert.equal(Number(await acc.getAttribute('data-mean')).toFixed(4), '0.7900');
  assert.equal(await acc.getAttribute('data-best'), '');
  assert.match((await acc.textContent())!, /^79\.0 ± 1\.4/);
  assert.equal(await p.locator('[data-testid="compare-row"][data-key="no-kl"] td[data-metric="reward_acc"]').getAttribute('data-best'), null);
  assert.deepEqual(await p.locator('[data-testid="config-diff"] tbody tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-key'))), ['objective.kl_coef', 'objective.use_kl']);
  const curves = JSON.parse((await p.getByTestId('chart-compare').getAttribute('data-points'))!) as Record<string, [number, number][]>;
  assert.deepEqual(Object.keys(curves), ['base', 'no-kl']);
  await p.evaluate(() => {
    const sel = document.querySelector('[data-testid="baseline"]') as HTMLElement & { value: string };
    sel.value = 'base';
    sel.dispatchEvent(new Event('change'));
  });
  const delta = p.locator('[data-testid="compare-row"][data-key="no-kl"] td[data-metric="reward_acc"] [data-testid="delta"]');
  assert.equal(Number(await delta.getAttribute('data-delta')).toFixed(4), '-0.0600');
  await p.getByTestId('export-md').click();
  const md = (await posted(p)).find((m) => m.type === 'export');
  assert.match(String(md?.data), /\| base \(baseline\) \| 2 \| \*\*79\.0 ± 1\.4\*\* \|/);
  await p.getByTestId('export-tex').click();
  assert.match(String((await posted(p)).filter((m) => m.type === 'export').at(-1)?.data), /\\begin\{tabular\}/);
  await p.locator('[data-testid="open-run"]').first().click();
  assert.deepEqual((await posted(p)).at(-1), { type: 'openDashboard', runDir: runDirs[0] });
  await shot(p, 'compare');
  assert.deepEqual(cspErrors, []);
  assert.deepEqual(pageErrors, []);
  await p.close();
});

test('token rewards: coloured tokens, misranked list, navigation, open line, file lines on demand', { skip }, async () => {
  const config = readRunConfig(run);
  const evalData = resolveEvalDataFile(run, config);
  const dump = readTokenRewards(run);
  const init: HostToWebview = { type: 'tokens/init', args: { kind: 'tokenRewards', runDir: run }, run: readRunSummary(run), dump, evalDataFile: evalData, dataFile: evalData, colorScheme: 'blue-orange' };
  const { p, cspErrors, pageErrors } = await open('tokenRewards', [init]);
  await p.getByTestId('sample').waitFor();
  assert.equal(await p.getByTestId('sample-position').textContent(), 'Sample 1 / 6');
  const sides = await p.getByTestId('sequence').evaluateAll((xs) => xs.map((x) => x.getAttribute('data-side')));
  assert.deepEqual(sides, ['chosen', 'rejected']);
  const tokens = p.locator('[data-testid="sequence"][data-side="chosen"] [data-testid="token"]');
  assert.deepEqual(await tokens.evaluateAll((ts) => ts.map((t) => t.getAttribute('data-token'))), dump[0].chosen!.tokens.map((t) => t.token));
  const bg = await tokens.first().evaluate((t) => getComputedStyle(t).backgroundColor);
  assert.match(bg, /^rgba\(\d+, \d+, \d+, 0\.\d+\)$/, 'tokens are coloured');
  assert.equal(await p.getByTestId('misranked-item').count(), 2);
  await p.getByTestId('toggle-weights').click();
  assert.equal(await p.getByTestId('weight-bar').count(), dump[0].chosen!.tokens.length + dump[0].rejected!.tokens.length);
  await p.getByTestId('next-sample').click();
  assert.equal(await p.getByTestId('sample-position').textContent(), 'Sample 2 / 6');
  await p.getByTestId('misranked-item').first().click();
  const line = await p.getByTestId('sample').getAttribute('data-line');
  assert.equal(await p.getByTestId('sample').getAttribute('data-correct'), 'false');
  await p.getByTestId('open-line').click();
  assert.deepEqual((await posted(p)).at(-1), { type: 'openLine', target: 'evalData', line: Number(line) });
  await shot(p, 'token-rewards');
  // Browse the data file: the page asks the host for a line and shows the answer.
  await p.evaluate(() => {
    const sel = document.querySelector('[data-testid="source"]') as HTMLElement & { value: string };
    sel.value = 'file';
    sel.dispatchEvent(new Event('change'));
  });
  assert.deepEqual((await posted(p)).at(-1), { type: 'requestLine', line: 1 });
  await p.getByTestId('tokens-loading').waitFor();
  await p.evaluate((msg) => window.postMessage(msg, '*'), { type: 'tokens/line', line: 1, result: dump[3] } as HostToWebview);
  await p.getByTestId('sample').waitFor();
  assert.equal(await p.getByTestId('sample').getAttribute('data-line'), String(dump[3].line));
  assert.deepEqual(cspErrors, []);
  assert.deepEqual(pageErrors, []);
  await p.close();
});

/** Sets a vscode-elements single select of the page and fires its `change`. */
async function choose(p: Page, testId: string, value: string): Promise<void> {
  await p.evaluate(([id, v]) => {
    const sel = document.querySelector(`[data-testid="${id}"]`) as HTMLElement & { value: string };
    sel.value = v;
    sel.dispatchEvent(new Event('change'));
  }, [testId, value] as const);
}

test('win rates: bars sized by the shares (CSP-safe), judged prompts on request, answers side by side', { skip }, async () => {
  const { buildReport } = await import('../src/core/winrates/report.js');
  const { parseComparison } = await import('../src/core/winrates/systems.js');
  const { DEFAULT_WINRATES } = await import('../src/core/experiment/config.js');
  const c = parseComparison('bon:bt vs stochastic', ['bt']);
  assert.ok(typeof c !== 'string');
  const verdicts = ['win', 'win', 'win', 'tie', 'lose'] as const;
  const report = buildReport({ experiment: 'wr', judge: 'gold:harmless', config: { ...DEFAULT_WINRATES, generator: 'sft' }, comparisons: [c], seeds: [{ seed: 0, prompts: 5, comparisons: [{ text: c.text, verdicts: [...verdicts] }], gold: { 'bon:bt': [1, 1, 1, 0, 0], stochastic: [0, 0, 0, 0, 1] } }] });
  const init: HostToWebview = { type: 'winrates/init', args: { kind: 'winrates', gridDir: '/g' }, report };
  const { p, cspErrors, pageErrors } = await open('winrates', [init]);
  const row = p.locator('[data-testid="winrate-row"][data-comparison="bon:bt vs stochastic"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('winrate-win').textContent(), 'win 60.0');
  const widths = await row.locator('.wtl-bar').evaluate((bar) => Array.from(bar.children).map((x) => x.getBoundingClientRect().width / bar.getBoundingClientRect().width));
  widths.forEach((w, i) => assert.ok(Math.abs(w - [0.6, 0.2, 0.2][i]) < 0.01, `segment ${i} spans ${w}`));
  await row.click();
  assert.deepEqual((await posted(p)).at(-1), { type: 'requestVerdicts', comparison: 'bon:bt vs stochastic', seed: 0 });
  const tok = (token: string, mean: number, std: number, gold?: number) => ({ token, id: 9, mean, std, weight: 0.5, raw_mean: mean, raw_std: std, ...(gold !== undefined && { gold }) });
  const seqRewards = (tokens: ReturnType<typeof tok>[]) => ({ text: tokens.map((t) => t.token).join(' '), prompt_tokens: [], tokens, reward: tokens.at(-1)!.mean });
  const rows = verdicts.map((v, i) => ({
    comparison: c.text,
    prompt_index: i,
    prompt: `tell me about the garden`,
    a: 'flowers bees',
    b: 'stupid trees',
    verdict: v,
    scores: [0.6, -0.7] as [number, number],
    a_gold_words: [0.3, 0.3],
    b_gold_words: [-1, 0.3],
    // The last prompt also has the per-token rewards of an AVA reward model.
    ...(i === 4 && { a_rewards: seqRewards([tok('flowers', 0.9, 0.1, 0.3), tok('bees', 0.2, 0.4, 0.3), tok('<eos>', 0.05, 0.2)]), b_rewards: seqRewards([tok('stupid', -1.2, 0.3, -1), tok('trees', 0.1, 0.1, 0.3), tok('<eos>', 0, 0.2)]), rewards_by: 'ava-p/seed-0' }),
  }));
  await p.evaluate((msg) => window.postMessage(msg, '*'), { type: 'winrates/verdicts', comparison: c.text, seed: 0, rows } as HostToWebview);
  await p.getByTestId('judged-prompt').first().waitFor();
  assert.deepEqual(await p.getByTestId('judged-prompt').evaluateAll((xs) => xs.map((x) => x.getAttribute('data-verdict'))), [...verdicts]);
  // A prompt without model rewards: words coloured by gold.
  await p.getByTestId('judged-prompt').nth(3).click();
  assert.equal(await p.getByTestId('answer-b').getAttribute('data-colour'), 'gold');
  assert.equal(await p.getByTestId('colour-by').count(), 0, 'nothing to choose between');
  // With the AVA model's per-token rewards: its tokens (EOS included) coloured by μ̃, σ̃ as the band.
  await p.getByTestId('judged-prompt').nth(4).click();
  const b = p.getByTestId('answer-b').locator('.token');
  await p.locator('[data-testid="answer-b"][data-colour="model"]').waitFor();
  assert.deepEqual(await b.evaluateAll((ts) => ts.map((t) => t.textContent)), ['stupid', 'trees', '<eos>']);
  assert.deepEqual(await b.evaluateAll((ts) => ts.map((t) => Number(t.getAttribute('data-mean')))), [-1.2, 0.1, 0]);
  const [neg, pos] = await b.evaluateAll((ts) => ts.map((t) => getComputedStyle(t).backgroundColor));
  assert.notEqual(neg, pos, 'tokens are coloured by the sign of their reward');
  const bands = await p.getByTestId('answer-a').locator('.token').evaluateAll((ts) => ts.map((t) => parseFloat(getComputedStyle(t).borderBottomWidth)));
  assert.ok(bands[1] > bands[0], `the larger σ̃ has the wider band (${bands})`);
  assert.match((await b.first().getAttribute('title'))!, /reward -1\.2.*\n.*\n.*\ngold -1/s);
  // …and back to the gold per word.
  await choose(p, 'colour-by', 'gold');
  await p.locator('[data-testid="answer-b"][data-colour="gold"]').waitFor();
  assert.deepEqual(await b.evaluateAll((ts) => ts.map((t) => t.textContent)), ['stupid', 'trees']);
  const [gNeg, gPos] = await b.evaluateAll((ts) => ts.map((t) => getComputedStyle(t).backgroundColor));
  assert.notEqual(gNeg, gPos, 'words are coloured by the sign of their gold');
  await choose(p, 'colour-by', 'model');
  await p.locator('[data-testid="answer-b"][data-colour="model"]').waitFor();
  await shot(p, 'winrates');
  assert.deepEqual(cspErrors, []);
  assert.deepEqual(pageErrors, []);
  await p.close();
});
