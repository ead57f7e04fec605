import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LineRewards, MetricRecord, SequenceRewards, TokenReward } from '../src/protocol/events.js';
import type { RunSummary } from '../src/protocol/webview.js';
import { finalCards, plottedRecords, progressText, runTitle, statusText } from '../webview/dashboardModel.js';
import { colourDomain, misrankedPairs, needsGaps, rewardText, sidesOf, stdBand, tokenLabel, tokenTooltip } from '../webview/tokenModel.js';

const run: RunSummary = { runDir: '/r', experiment: 'exp', variant: 'no-kl', seed: 2, status: 'running', interrupted: false, step: 40, totalSteps: 100, elapsed: 75, alarms: [] };
const tok = (token: string, mean: number, std = 0.1, weight = 0.5): TokenReward => ({ token, id: 1, mean, std, weight, raw_mean: mean, raw_std: std });
const seq = (reward: number, tokens: TokenReward[]): SequenceRewards => ({ text: '', prompt_tokens: ['q'], tokens, reward });

test('dashboard header texts', () => {
  assert.equal(runTitle(run), 'exp / no-kl / seed 2');
  assert.equal(runTitle({ ...run, seed: null }), 'exp / no-kl');
  assert.equal(statusText(run), 'running');
  assert.equal(statusText({ ...run, status: 'failed', interrupted: true }), 'interrupted');
  assert.equal(progressText(run, 50), 'step 50 / 100 · 1m 15s');
  assert.equal(progressText({ ...run, phase: 'pretrain', totalSteps: 0, elapsed: undefined }, 0), 'step 40 · pretrain');
});

test('final cards: accuracy with its interval, NLL, last loss terms in spec order', () => {
  const records: MetricRecord[] = [
    { step: 10, phase: 'train', time: 1, values: { kl: 0.2, loss: 2, lr: 1 } },
    { step: 20, phase: 'train', time: 2, values: { kl: 0.1, loss: 1 } },
  ];
  const cards = finalCards({ step: 20, reward_acc: { value: 0.75, n: 40, lo: 0.6, hi: 0.86 }, nll: 1.23456 }, records);
  assert.deepEqual(cards.map((c) => [c.key, c.value]), [['reward_acc', '75.0%'], ['eval_nll', '1.235'], ['final_loss', '1'], ['final_kl', '0.1']]);
  assert.equal(cards[0].detail, '95% CI 60.0%–86.0% · n=40');
  assert.deepEqual(finalCards(null, []), []);
  const diag = finalCards(null, [{ step: 5, phase: 'train', time: 1, values: { response_weight: 0.0012, reward_margin: -0.25, cer: -0.5 } }]);
  assert.deepEqual(diag.map((c) => [c.key, c.value]), [['final_cer', '-0.5'], ['final_reward_margin', '-0.25'], ['final_response_weight', '0.0012']]);
  const withTa = finalCards({ step: 20, token_attribution: { pearson: 0.61234, spearman: 0.5, pearson_weighted: null, spearman_weighted: 0.2, tokens: 300, sequences: 40 } }, []);
  assert.deepEqual(withTa.map((c) => [c.key, c.label, c.value]), [['token_r', 'Token reward r vs gold', '0.6123']], 'a run made before the centred r: the pooled one');
  const centred = finalCards({ step: 20, token_attribution: { pearson: 0.61234, spearman: 0.5, pearson_weighted: null, spearman_weighted: 0.2, pearson_centred: 0.7, spearman_within: 0.55, pearson_centred_late: 0.1, sigma_calibration: -0.02, tokens: 300, sequences: 40 } }, []);
  assert.deepEqual(centred.map((c) => [c.key, c.label, c.value, c.detail]), [
    ['token_r', 'Token reward r vs gold (centred)', '0.7', 'pooled r 0.6123 · within-sequence Spearman 0.55 · one token late 0.1 · σ calibration -0.02 · weighted r — · 300 tokens'],
  ]);
});

test('periodic evaluations are plotted unless the metrics already logged them', () => {
  const records: MetricRecord[] = [{ step: 50, phase: 'eval', time: 1, values: { reward_acc: 0.6 } }];
  const evals = [{ step: 50, reward_acc: { value: 0.6, n: 1, lo: 0, hi: 1 } }, { step: 100, reward_acc: { value: 0.7, n: 1, lo: 0, hi: 1 } }];
  assert.deepEqual(plottedRecords(records, evals).map((r) => [r.step, r.values.reward_acc]), [[50, 0.6], [100, 0.7]]);
});

test('token sides, shared colour domain, labels and tooltips', () => {
  const pair: LineRewards = { line: 3, kind: 'preference', chosen: seq(1, [tok('a', 0.5), tok('b', -2)]), rejected: seq(0.2, [tok('c', 1)]), correct: true };
  assert.deepEqual(sidesOf(pair).map((s) => s.side), ['chosen', 'rejected']);
  assert.deepEqual(sidesOf({ line: 1, kind: 'demonstration', response: seq(0, []) }).map((s) => s.side), ['response']);
  assert.equal(colourDomain([pair]), 2, 'both sides share one domain');
  assert.equal(tokenLabel('\n'), '↵');
  assert.equal(tokenLabel(''), '∅');
  assert.match(tokenTooltip(tok('x', 0.25, 0.1, 0.5)), /reward 0\.25 ± 0\.1\nweight w = 0\.5/);
  assert.equal(rewardText({ ...seq(1.5, []), reward_std: 0.25, gold: 1 }), 'R = 1.5 ± 0.25 (gold 1)');
});

test('gaps only for tokens without their own spaces', () => {
  assert.ok(needsGaps(['the', 'cat']));
  assert.ok(!needsGaps(['the', ' cat']));
  assert.ok(!needsGaps(['one']));
});

test('std band grows with std and is bounded', () => {
  assert.equal(stdBand(0, 1), 1);
  assert.equal(stdBand(1, 1), 5);
  assert.equal(stdBand(9, 1), 5);
  assert.equal(stdBand(0.5, 0), 0);
});

test('misranked pairs, worst margin first', () => {
  const mk = (line: number, c: number, r: number): LineRewards => ({ line, kind: 'preference', chosen: seq(c, []), rejected: seq(r, []), correct: c > r });
  const list = misrankedPairs([mk(1, 1, 0), mk(2, 0, 0.5), mk(3, -1, 2)]);
  assert.deepEqual(list.map((m) => [m.index, m.line]), [[2, 3], [1, 2]]);
});
