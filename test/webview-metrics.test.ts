import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricRecord } from '../src/protocol/events.js';
import { diffConfigs, flattenConfig } from '../src/ui-common/configDiff.js';
import {
  MetricStore,
  dashboardGroups,
  downsampleRecords,
  evalRecords,
  evenlySpaced,
  lastValues,
  meanCurve,
  seriesName,
  seriesPoints,
} from '../src/ui-common/metrics.js';
import { emaSmooth } from '../src/ui-common/smoothing.js';

const rec = (step: number, values: Record<string, number>, phase: MetricRecord['phase'] = 'train'): MetricRecord => ({ step, phase, time: step / 10, values });

test('EMA smoothing: weight 0 is the identity, the first point is kept, constants stay constant', () => {
  assert.deepEqual(emaSmooth([3, 1, 4], 0), [3, 1, 4]);
  const s = emaSmooth([2, 4], 0.5);
  assert.equal(s[0], 2);
  // acc = 0.5·(0.5·2) + 0.5·4 = 2.5; debias 1 − 0.25 = 0.75 → 3.333…
  assert.ok(Math.abs(s[1] - 2.5 / 0.75) < 1e-12);
  for (const v of emaSmooth([5, 5, 5, 5], 0.9)) assert.ok(Math.abs(v - 5) < 1e-12);
});

test('EMA smoothing passes non-finite values through and clamps the weight', () => {
  const s = emaSmooth([1, Number.NaN, 1], 0.6);
  assert.ok(Number.isNaN(s[1]));
  assert.ok(Math.abs(s[2] - 1) < 1e-12);
  assert.equal(emaSmooth([1, 2], 5).length, 2);
  assert.deepEqual(emaSmooth([1, 2], -1), [1, 2]);
});

test('MetricStore drops exact duplicates, replaces re-logged steps and sorts by step', () => {
  const store = new MetricStore();
  assert.equal(store.upsert(rec(20, { loss: 1 })), true);
  assert.equal(store.upsert(rec(10, { loss: 2 })), true);
  assert.equal(store.upsert(rec(10, { loss: 2 })), false, 'same record from the tail and the live event');
  assert.equal(store.upsert(rec(10, { loss: 2 }, 'eval')), true, 'another phase at the same step');
  assert.equal(store.upsert(rec(20, { loss: 0.5 })), true, 'a resumed run re-logs step 20');
  assert.deepEqual(store.all().map((r) => [r.step, r.phase, r.values.loss]), [[10, 'train', 2], [10, 'eval', 2], [20, 'train', 0.5]]);
  assert.equal(store.size, 3);
});

test('dashboard groups: loss terms overlaid, accuracies together, diagnostics first among the other keys, each alone', () => {
  const records = [
    rec(10, { loss: 1, nll: 0.5, kl: 0.1, td: 0.2, cer: 0.3, lr: 1e-3, reward_acc: 0.6, response_weight: 0.3, reward_margin: 0.01 }),
    rec(5, { nll: 2 }, 'pretrain'),
    rec(10, { reward_acc: 0.7, nll: 0.4 }, 'eval'),
  ];
  const groups = dashboardGroups(records);
  const byId = Object.fromEntries(groups.map((g) => [g.id, g.series.map(seriesName)]));
  assert.deepEqual(byId.losses, ['pretrain nll', 'loss', 'nll', 'kl', 'td', 'cer']);
  assert.deepEqual(byId.accuracy, ['reward_acc', 'eval reward_acc']);
  assert.deepEqual(byId['metric-train-lr'], ['lr']);
  assert.deepEqual(byId['metric-eval-nll'], ['eval nll']);
  const ids = groups.map((g) => g.id);
  assert.deepEqual(ids.slice(0, 4), ['losses', 'accuracy', 'metric-train-reward_margin', 'metric-train-response_weight']);
  assert.ok(ids.indexOf('metric-train-lr') > 3, 'lr after the diagnostics');
  assert.ok(!byId.losses.includes('reward_margin'), 'a diagnostic is not a loss term');
});

test('dashboard groups of a PPO run: rewards, losses and clip fractions together, TRL keys alone, no empty loss or accuracy chart', () => {
  const records = [1, 2].map((step) =>
    rec(step, { 'objective/scores': 1, 'objective/rlhf_reward': 0.9, 'objective/gold': 0.3, 'objective/kl': 0.5, 'loss/policy_avg': -0.1, 'loss/value_avg': 0.4, 'policy/clipfrac_avg': 0.1, 'val/clipfrac_avg': 0.2, 'objective/entropy': 3 }),
  );
  const groups = dashboardGroups(records);
  const byId = Object.fromEntries(groups.map((g) => [g.id, g.series.map(seriesName)]));
  assert.deepEqual(groups.map((g) => g.id), ['ppo-rewards', 'ppo-losses', 'ppo-clipfrac', 'metric-train-objective/entropy', 'metric-train-objective/kl']);
  assert.deepEqual(byId['ppo-rewards'], ['objective/gold', 'objective/rlhf_reward', 'objective/scores']);
  assert.deepEqual(byId['ppo-losses'], ['loss/policy_avg', 'loss/value_avg']);
  assert.deepEqual(groups.find((g) => g.id === 'ppo-clipfrac')!.yRange, [0, 1]);
  // A training run keeps its (possibly still empty) loss and accuracy charts.
  assert.deepEqual(dashboardGroups([]).map((g) => g.id), ['losses', 'accuracy']);
});

test('series points, eval summaries as records, last values', () => {
  const records = [rec(1, { loss: 3 }), rec(2, { loss: Number.NaN }), rec(3, { loss: 1, kl: 2 })];
  assert.deepEqual(seriesPoints(records, { phase: 'train', key: 'loss' }), [{ x: 1, y: 3 }, { x: 3, y: 1 }]);
  assert.deepEqual(lastValues(records), { loss: 1, kl: 2 });
  const ev = evalRecords([{ step: 100, reward_acc: { value: 0.8, n: 10, lo: 0.5, hi: 0.9 }, nll: 1.5 }]);
  assert.deepEqual(ev, [{ step: 100, phase: 'eval', time: 0, values: { reward_acc: 0.8, nll: 1.5 } }]);
});

test('downsampling keeps the first and last record of each phase', () => {
  const items = Array.from({ length: 101 }, (_, i) => i);
  assert.deepEqual(evenlySpaced(items, 5), [0, 25, 50, 75, 100]);
  assert.deepEqual(evenlySpaced([1, 2], 5), [1, 2]);
  assert.deepEqual(evenlySpaced(items, 1), [100]);
  const records = [...items.map((i) => rec(i, { loss: i })), rec(50, { reward_acc: 1 }, 'eval')];
  const down = downsampleRecords(records, 3);
  assert.deepEqual(down.map((r) => `${r.phase}${r.step}`), ['train0', 'train50', 'eval50', 'train100']);
});

test('mean curve averages the curves present at each step', () => {
  const m = meanCurve([
    [{ x: 1, y: 1 }, { x: 2, y: 3 }],
    [{ x: 1, y: 3 }, { x: 3, y: 5 }],
  ]);
  assert.deepEqual(m, [{ x: 1, y: 2 }, { x: 2, y: 3 }, { x: 3, y: 5 }]);
});

test('flattenConfig gives dotted keys with JSON leaves', () => {
  const flat = flattenConfig({ a: 1, b: { c: 'x', d: [1, 2], e: null, f: {} } });
  assert.deepEqual([...flat], [['a', '1'], ['b.c', 'x'], ['b.d', '[1,2]'], ['b.e', 'null'], ['b.f', '{}']]);
});

test('config diff shows only keys that differ between columns; seed-only differences cancel', () => {
  const base = (seed: number, kl: number) => ({ seed, variant: 'x', objective: { kl_coef: kl, beta: 1 }, train: { steps: 10 } });
  const rows = diffConfigs(
    [
      { label: 'base', configs: [base(0, 1), base(1, 1)] },
      { label: 'no-kl', configs: [{ ...base(0, 0), extra: true }, base(1, 0)] },
    ],
    ['variant'],
  );
  assert.deepEqual(rows, [
    { key: 'extra', values: ['—', 'true | —'] },
    { key: 'objective.kl_coef', values: ['1', '0'] },
  ]);
  assert.deepEqual(diffConfigs([{ label: 'a', configs: [{ x: 1 }] }, { label: 'b', configs: [{ x: 1 }] }]), []);
});
