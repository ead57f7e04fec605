/** Attribution quality: correlations checked against hand-computed values, and which tokens enter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LineRewards, SequenceRewards } from '../src/protocol/events.js';
import { centredPearson, lateCentredPearson, meanWithinSpearman, pearson, ranks, sigmaCalibration, spearman, tokenAttribution } from '../src/core/eval/attribution.js';

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

/** Sequences of (μ, gold) with σ. */
const gs = (mu: number[], gold: number[], sigma = mu.map(() => 1)) => ({ mu, gold, sigma, weighted: mu });

test('centredPearson: a per-sequence shift of μ does not count against it; the pooled Pearson does', () => {
  const gold = [
    [1, 2, 3],
    [1, 3, 2],
  ];
  // μ = gold + a large different shift per sequence: pooled r is low, centred r is exactly 1.
  const mu = [gold[0].map((g) => g + 10), gold[1].map((g) => g - 10)];
  const seqs = [gs(mu[0], gold[0]), gs(mu[1], gold[1])];
  assert.ok(pearson(mu.flat(), gold.flat())! < 0.2);
  assert.ok(Math.abs(centredPearson(seqs)! - 1) < 1e-12);
  // Hand-computed: centred μ [-1,0,1, 1,-1,0] against centred gold [-1,0,1, -1,1,0]: r = (2 − 2)/4 = 0.
  assert.ok(Math.abs(centredPearson([gs([1, 2, 3], [1, 2, 3]), gs([3, 1, 2], [1, 3, 2])])!) < 1e-12);
});

test('meanWithinSpearman: the mean of per-sequence rank correlations, short sequences left out', () => {
  const seqs = [gs([1, 2, 3], [10, 20, 30]), gs([3, 2, 1], [10, 20, 30]), gs([1, 2, 3, 4], [1, 2, 4, 3]), gs([5, 1], [1, 5])];
  // +1, −1 and 0.8 (d² = 2: 1 − 6·2/(4·15)); the 2-token sequence is left out.
  assert.ok(Math.abs(meanWithinSpearman(seqs)! - 0.8 / 3) < 1e-12);
  assert.equal(meanWithinSpearman([gs([1, 2], [1, 2])]), null);
});

test('lateCentredPearson: rewards placed one token late score higher late than aligned', () => {
  const gold = [0, 3, -1, 2, 5, -2, 1, 4];
  const late = [0, ...gold.slice(0, -1)]; // μ[k+1] = gold[k]
  const seqs = [gs(late, gold)];
  assert.ok(Math.abs(lateCentredPearson(seqs)! - 1) < 1e-12);
  assert.ok(centredPearson(seqs)! < 0.5);
  const aligned = [gs(gold, gold)];
  assert.ok(centredPearson(aligned)! > lateCentredPearson(aligned)!);
});

test('sigmaCalibration: positive when σ grows with the error of μ, negative when it shrinks with it', () => {
  // Gold spread wide against errors of mean 0, so the fitted slope is ≈ 1 and the error ≈ |err|.
  const gold = [0, 10, 20, 30, 40, 50];
  const errs = [0, 0.1, -0.3, 0.6, -1.0, 0.6];
  const mu = gold.map((g, i) => g + errs[i]);
  const growing = errs.map((e) => Math.abs(e) + 0.5);
  assert.ok(sigmaCalibration([gs(mu, gold, growing)])! > 0.8);
  assert.ok(sigmaCalibration([gs(mu, gold, growing.map((s) => 1 / s))])! < -0.8);
  assert.equal(sigmaCalibration([gs([1, 1, 1], [1, 2, 3])]), null);
});

test('tokenAttribution carries the centred, within-sequence, late and σ-calibration scores', () => {
  const lines: LineRewards[] = [{ line: 1, kind: 'demonstration', response: seq([[1, 1, 1], [2, 2, 2], [3, 3, 3]]) }];
  const ta = tokenAttribution(lines)!;
  assert.ok(Math.abs(ta.pearson_centred! - 1) < 1e-12);
  assert.ok(Math.abs(ta.spearman_within! - 1) < 1e-12);
  assert.ok(Math.abs(ta.pearson_centred_late! - 1) < 1e-12, 'two points: late pair (2,1),(3,2) centred is perfectly correlated');
  assert.equal(ta.sigma_calibration, null, 'a perfect fit has no error to rank');
});
