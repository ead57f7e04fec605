import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  expandRunDirs,
  gridDirOf,
  parseMetricLine,
  readCompareRun,
  readMetrics,
  readRunSummary,
  readTokenRewards,
  resolveEvalDataFile,
  readRunConfig,
} from '../src/extension/panels/runFiles.js';

const fixtures = resolve(import.meta.dirname, 'fixtures/rundirs');
const grid = join(fixtures, 'demo/20250101-000000');
const base0 = join(grid, 'base/seed-0');

test('metric lines: valid records parse, torn or foreign lines are skipped', () => {
  assert.deepEqual(parseMetricLine('{"step":1,"phase":"train","time":0.5,"values":{"loss":2,"x":"no"}}'), { step: 1, phase: 'train', time: 0.5, values: { loss: 2 } });
  assert.equal(parseMetricLine('{"step":1,"phase":"tra'), null);
  assert.equal(parseMetricLine('{"step":1,"phase":"warmup","values":{}}'), null);
  assert.equal(parseMetricLine(''), null);
});

test('a grid directory expands to its cells; unknown paths are reported missing', () => {
  const { runDirs, missing } = expandRunDirs([grid, base0, join(fixtures, 'nope')]);
  assert.deepEqual(runDirs.map((d) => d.slice(grid.length + 1)), ['base/seed-0', 'base/seed-1', 'no-kl/seed-0', 'no-kl/seed-1']);
  assert.deepEqual(missing, [join(fixtures, 'nope')]);
  assert.equal(gridDirOf(base0), grid);
});

test('run summary: identity from config.yaml, status from status.json', () => {
  const s = readRunSummary(join(grid, 'no-kl/seed-1'), readMetrics(join(grid, 'no-kl/seed-1')));
  assert.equal(s.experiment, 'demo');
  assert.equal(s.variant, 'no-kl');
  assert.equal(s.seed, 1);
  assert.equal(s.status, 'finished');
  assert.equal(s.step, 200);
  assert.equal(s.totalSteps, 200);
  assert.equal(readRunSummary(base0).variant, 'base', "variant '' is shown as base");
});

test('a run marked running whose process is gone is shown as interrupted', () => {
  const s = readRunSummary(join(fixtures, 'single/base/seed-0'));
  assert.equal(s.status, 'failed');
  assert.equal(s.interrupted, true);
});

test('compare run: final eval, periodic evals, downsampled records, config', () => {
  const r = readCompareRun(base0, 5);
  assert.equal(r.final?.reward_acc?.value, 0.78);
  assert.equal(r.evals.length, 4);
  assert.equal(r.records.filter((x) => x.phase === 'train').length, 5);
  assert.equal(r.records.filter((x) => x.phase === 'train').at(-1)?.step, 200, 'the last record is kept');
  assert.equal((r.config?.objective as Record<string, unknown>).kl_coef, 1);
});

test('token rewards dump and its eval data file (relative to the experiment file)', () => {
  const dump = readTokenRewards(base0);
  assert.equal(dump.length, 6);
  assert.equal(dump[0].line, 1);
  assert.equal(dump.filter((d) => d.correct === false).length, 2);
  assert.equal(resolveEvalDataFile(base0, readRunConfig(base0)), join(fixtures, 'demo/eval.jsonl'));
  assert.equal(resolveEvalDataFile(base0, { data: { eval: 'missing.jsonl' } }), null);
  assert.equal(resolveEvalDataFile(base0, { data: { task: 'harmless', eval: null } }), null);
});

test('the eval data file recorded in eval.json is the fallback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-run-'));
  try {
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ step: 1, eval_file: join(fixtures, 'demo/eval.jsonl') }));
    assert.equal(resolveEvalDataFile(dir, { data: { eval: 'elsewhere.jsonl' } }), join(fixtures, 'demo/eval.jsonl'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a recorded eval file inside a grid that was moved is found at the new place', () => {
  const root = mkdtempSync(join(tmpdir(), 'ava-grid-'));
  try {
    const grid = join(root, 'runs/exp/20250101-000000');
    const run = join(grid, 'base/seed-0');
    mkdirSync(join(grid, 'data/task'), { recursive: true });
    mkdirSync(run, { recursive: true });
    writeFileSync(join(grid, 'grid.json'), JSON.stringify({ experiment: 'exp', experiment_file: 'x.ava.yaml', created: '', cells: [] }));
    writeFileSync(join(grid, 'data/task/eval.jsonl'), '{}\n');
    writeFileSync(join(run, 'eval.json'), JSON.stringify({ step: 1, eval_file: '/elsewhere/runs/exp/20250101-000000/data/task/eval.jsonl' }));
    assert.equal(resolveEvalDataFile(run, { data: { eval: null } }), join(grid, 'data/task/eval.jsonl'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
