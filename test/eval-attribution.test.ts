/** Attribution quality: correlations checked against hand-computed values, and which tokens enter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LineRewards, SequenceRewards } from '../src/protocol/events.js';
import { pearson, ranks, spearman, tokenAttribution } from '../src/core/eval/attribution.js';

test('pearson: hand-computed value, sign, and null when a side is constant', () => {
  // x = 1..5, y = (2, 1, 4, 3, 7): Sxy = 12, Sxx = 10, Syy = 21.2, r = 12 / √212.
  assert.ok(Math.abs(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 7])! - 12 / Math.sqrt(212)) < 1e-12);
  assert.ok(Math.abs(pearson([1, 2, 3], [3, 2, 1])! + 1) < 1e-12);
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), null);
  assert.equal(pearson([1], [2]), null);
  assert.throws(() => pearson([1, 2], [1]), /2 x values but 1 y values/);
});

test('spearman: ties share their mean rank', () => {
  assert.deepEqual(ranks([0.5, 0.5, 1, 2]), [1.5, 1.5, 3, 4]);
  assert.deepEqual(ranks([3, 1, 2, 1]), [4, 1.5, 3, 1.5]);
  // Without ties: 1 − 6·Σd²/(n(n²−1)) = 1 − 6·4/120 = 0.8.
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 7])! - 0.8) < 1e-12);
  // With ties: ranks (1.5, 1.5, 3, 4) against (1, 2.5, 2.5, 4) give r = 5/6.
  assert.ok(Math.abs(spearman([0.5, 0.5, 1, 2], [1, 2, 2, 3])! - 5 / 6) < 1e-12);
  // Monotone but not linear: Spearman 1, Pearson below 1.
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 8, 27, 1000])! - 1) < 1e-12);
  assert.ok(pearson([1, 2, 3, 4], [1, 8, 27, 1000])! < 0.9);
});

function seq(tokens: [raw: number, weighted: number, gold?: number][]): SequenceRewards {
  return {
    text: '',
    prompt_tokens: [],
    reward: 0,
    tokens: tokens.map(([raw, mean, gold], i) => ({ token: `t${i}`, id: i, mean, std: 1, weight: 1, raw_mean: raw, raw_std: 1, ...(gold === undefined ? {} : { gold }) })),
  };
}

test('tokenAttribution: only tokens with a gold value enter; raw and weighted means are scored apart', () => {
  const lines: LineRewards[] = [
    // <eos> (no gold) carries a wild value that would break the correlation if it entered.
    { line: 1, kind: 'preference', chosen: seq([[1, 3, 1], [2, 2, 2], [99, -99]]), rejected: seq([[3, 1, 3]]) },
    { line: 2, kind: 'demonstration', response: seq([[4, 0, 4], [5, -1, 5]]) },
    { line: 3, kind: 'preference', chosen: seq([[7, 7]]), rejected: seq([]) },
  ];
  const ta = tokenAttribution(lines)!;
  assert.equal(ta.tokens, 5);
  assert.equal(ta.sequences, 3);
  assert.ok(Math.abs(ta.pearson! - 1) < 1e-12);
  assert.ok(Math.abs(ta.spearman! - 1) < 1e-12);
  assert.ok(Math.abs(ta.pearson_weighted! + 1) < 1e-12);
  assert.ok(Math.abs(ta.spearman_weighted! + 1) < 1e-12);
  assert.equal(tokenAttribution([{ line: 1, kind: 'preference', chosen: seq([[1, 1]]), rejected: seq([[2, 2]]) }]), undefined);
});
