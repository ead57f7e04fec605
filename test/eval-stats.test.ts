import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewardAccuracy, wilsonInterval } from '../src/core/eval/stats.js';
import { bestPossibleAccuracy } from '../src/core/eval/evaluate.js';
import { bestPossibleAccuracy as taskBestPossible, type PrefRow } from '../src/core/tasks/index.js';
import type { PairExample } from '../src/core/data/types.js';

test('spec §11 example 5: reward accuracy counts the tie as wrong', () => {
  const acc = rewardAccuracy([1.0, 0.2, 0.3, 2.0], [0.5, 0.7, 0.3, -1.0]);
  assert.equal(acc.value, 0.5);
  assert.equal(acc.n, 4);
});

test('reward_accuracy_tie = half gives the tie half credit', () => {
  assert.equal(rewardAccuracy([1.0, 0.2, 0.3, 2.0], [0.5, 0.7, 0.3, -1.0], 'half').value, 0.625);
});

test('Wilson interval matches a hand-computed value and contains p', () => {
  // 80 of 100, z = 1.96: centre (0.8 + 3.8415/200)/1.038415 = 0.788901, half-width 0.077731
  const w = wilsonInterval(80, 100);
  assert.ok(Math.abs(w.lo - 0.71117) < 1e-4, String(w.lo));
  assert.ok(Math.abs(w.hi - 0.86663) < 1e-4, String(w.hi));
  assert.ok(w.lo < 0.8 && 0.8 < w.hi);
});

test('Wilson interval stays inside [0, 1] at the extremes', () => {
  const all = wilsonInterval(10, 10);
  assert.ok(all.hi <= 1 && all.hi > 1 - 1e-9);
  assert.ok(all.lo > 0.6 && all.lo < 0.8);
  assert.ok(Number.isNaN(wilsonInterval(0, 0).value));
});

test('best possible accuracy of eval pairs: the task generator formula, mean of max(p, 1 − p)', () => {
  const pair = (p?: number) => ({ gold: p === undefined ? undefined : { chosen: 1, rejected: 0, labelAgrees: true, pLabelCorrect: p } }) as unknown as PairExample;
  // p = 0.4 (flip noise 0.6): a model that ranks against the gold scores 0.6 on these labels.
  assert.equal(bestPossibleAccuracy([pair(0.9), pair(0.4)]), 0.75);
  const rows = [0.9, 0.4].map((p) => ({ gold: { p_label_correct: p } }) as unknown as PrefRow);
  assert.equal(bestPossibleAccuracy([pair(0.9), pair(0.4)]), taskBestPossible(rows), 'the same figure the task reports');
  assert.equal(bestPossibleAccuracy([pair(0.9), pair()]), undefined, 'unknown when one pair has no probability');
  assert.equal(bestPossibleAccuracy([]), undefined);
});
