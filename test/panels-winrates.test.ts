/** The Win rates panel's host side: reading a grid's report and verdicts, and the message guard. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasWinrates, readVerdicts, readWinratesReport } from '../src/extension/panels/winratesFiles.js';
import { isPanelArgs, isWebviewMessage } from '../src/protocol/webview.js';
import { buildReport } from '../src/core/winrates/report.js';
import { parseComparison } from '../src/core/winrates/systems.js';
import { DEFAULT_WINRATES } from '../src/core/experiment/config.js';

const grid = mkdtempSync(join(tmpdir(), 'ava-wr-panel-'));
process.on('exit', () => rmSync(grid, { recursive: true, force: true }));

test('report and verdicts of a grid; a foreign report is an error, a missing one is none', () => {
  assert.equal(hasWinrates(grid), false);
  assert.deepEqual(readWinratesReport(grid), { report: null });
  const c = parseComparison('bon:bt vs stochastic', ['bt']);
  assert.ok(typeof c !== 'string');
  const report = buildReport({ experiment: 'x', judge: 'gold', config: DEFAULT_WINRATES, comparisons: [c], seeds: [{ seed: 3, prompts: 2, comparisons: [{ text: c.text, verdicts: ['win', 'tie'] }], gold: {} }] });
  mkdirSync(join(grid, 'winrates', 'seed-3'), { recursive: true });
  writeFileSync(join(grid, 'winrates', 'winrates.json'), JSON.stringify(report));
  const rows = [
    { comparison: c.text, prompt_index: 0, prompt: 'p', a: 'x', b: 'y', verdict: 'win' },
    { comparison: 'other', prompt_index: 0, prompt: 'p', a: 'x', b: 'y', verdict: 'lose' },
    { comparison: c.text, prompt_index: 1, prompt: 'q', a: 'x', b: 'x', verdict: 'tie' },
  ];
  writeFileSync(join(grid, 'winrates', 'seed-3', 'verdicts.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  assert.equal(hasWinrates(grid), true);
  assert.equal(readWinratesReport(grid).report?.comparisons[0].pooled.win.value, 0.5);
  assert.deepEqual(readVerdicts(grid, c.text, 3).map((r) => r.verdict), ['win', 'tie']);
  assert.deepEqual(readVerdicts(grid, c.text, 9), []);
  writeFileSync(join(grid, 'winrates', 'winrates.json'), JSON.stringify({ version: 99 }));
  assert.match(readWinratesReport(grid).error!, /not a win-rate report/);
});

test('messages: requestVerdicts needs a comparison and a seed; panel args need a grid', () => {
  assert.equal(isWebviewMessage({ type: 'requestVerdicts', comparison: 'a vs b', seed: 0 }), true);
  assert.equal(isWebviewMessage({ type: 'requestVerdicts', comparison: 'a vs b', seed: -1 }), false);
  assert.equal(isWebviewMessage({ type: 'requestVerdicts', seed: 0 }), false);
  assert.equal(isPanelArgs({ kind: 'winrates', gridDir: '/g' }, 'winrates'), true);
  assert.equal(isPanelArgs({ kind: 'winrates' }, 'winrates'), false);
});
