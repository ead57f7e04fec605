/**
 * The objectives against the worked examples of spec §11 (to 1e-5), plus the baselines of
 * spec §6 and the reward accuracy of spec §7.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DEFAULT_MODEL, DEFAULT_OBJECTIVE, type ModelConfig, type ObjectiveConfig } from '../src/core/experiment/config.js';
import { ptqQ } from '../src/core/model/heads.js';
import {
  avaDObjective,
  avaPObjective,
  btObjective,
  dpoObjective,
  lmObjective,
  ptObjective,
  rewardAccuracy,
  sftObjective,
  tokenRewardReadout,
  type SeqView,
} from '../src/core/objectives/index.js';
import { sequenceRewardFor } from '../src/core/objectives/table.js';
import { avaSequence, cerLoss, sequenceReward, transitionTerms } from '../src/core/objectives/ava.js';
import { dpoLoss, responseLogp } from '../src/core/objectives/baselines.js';
import { klStd, logBoltz, normalLogPdf } from '../src/core/objectives/primitives.js';
import { resolvedLikelihoodForm } from '../src/core/experiment/config.js';
import { AvaError } from '../src/core/errors.js';

await tf.setBackend('cpu');

// ---------------------------------------------------------------- helpers

function close(actual: ArrayLike<number> | number, expected: number[] | number, tol = 1e-5) {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : expected;
  assert.equal(a.length, e.length, `length ${a.length} vs ${e.length}`);
  e.forEach((x, i) => assert.ok(Math.abs(a[i] - x) <= tol, `index ${i}: ${a[i]} vs ${x}`));
}
const val = (t: tf.Tensor) => t.dataSync()[0];

/** One batch of sequences written as plain arrays; defaults: all valid, all response, w = valid. */
interface Seqs {
  ids: number[][];
  valid?: number[][];
  resp?: number[][];
  q?: number[][][] | tf.Tensor3D;
  logits?: number[][][];
  mu?: number[][];
  logSigma?: number[][];
  w?: number[][];
  value?: number[][];
}

function view(s: Seqs): SeqView {
  const valid = s.valid ?? s.ids.map((r) => r.map(() => 1));
  const resp = s.resp ?? valid;
  return {
    batch: {
      ids: tf.tensor2d(s.ids, undefined, 'int32'),
      valid: tf.tensor2d(valid),
      resp: tf.tensor2d(resp),
      lengths: valid.map((r) => r.reduce((a, b) => a + b, 0)),
    },
    out: {
      h: tf.zeros([s.ids.length, s.ids[0].length, 1]),
      logits: s.logits ? tf.tensor3d(s.logits) : null,
      q: s.q === undefined ? null : s.q instanceof tf.Tensor ? s.q : tf.tensor3d(s.q),
      mu: s.mu ? tf.tensor2d(s.mu) : null,
      logSigma: s.logSigma ? tf.tensor2d(s.logSigma) : null,
      w: tf.tensor2d(s.w ?? valid),
      value: s.value ? tf.tensor2d(s.value) : null,
    },
  };
}

const model = (over: Partial<ModelConfig> = {}): ModelConfig => ({ ...DEFAULT_MODEL, ...over });
/** spec §11 conventions: loss_token_scope = all, drop_last, state alignment. */
const objective = (over: Partial<ObjectiveConfig> = {}): ObjectiveConfig => ({ ...DEFAULT_OBJECTIVE, loss_token_scope: 'all', ...over });
const terms = (r: { terms: Record<string, tf.Scalar> }) => Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, val(v)]));

// ---------------------------------------------------------------- primitives

test('primitives: KL_std, logN and logBoltz match their closed forms', () => {
  close(klStd(tf.tensor1d([0.3, -0.1]), tf.log(tf.tensor1d([0.8, 1.2]))).dataSync(), [0.088144, 0.042678]);
  close(normalLogPdf(tf.tensor1d([0.37, 0.16]), tf.tensor1d([0.3, -0.1]), tf.log(tf.tensor1d([0.8, 1.2]))).dataSync(), [-0.699623, -1.124732]);
  const q = tf.tensor2d([[0.5, -0.2, 1.0], [0.1, 0.7, -0.3]]);
  close(logBoltz(q, tf.tensor1d([2, 1], 'int32'), 1).dataSync(), [-0.645911, -0.6506]);
  close(logBoltz(q, tf.tensor1d([2, 1], 'int32'), 2).dataSync(), [-0.377475, -0.36223]);
});

// ---------------------------------------------------------------- example 1

const ex1: Seqs = {
  ids: [[0, 2, 1, 2]],
  q: [[[0.5, -0.2, 1.0], [0.1, 0.7, -0.3], [-0.4, 0.2, 0.6], [0.3, 0.1, -0.2]]],
  mu: [[0.3, -0.1, 0.5, -0.7]],
  logSigma: [[Math.log(0.8), Math.log(1.2), 0.4, -0.3]],
};
const ex1Model = model({ q_head: 'fresh', use_reward_weights: false });
const ex1Obj = objective({ kind: 'ava-d', gamma: 0.9 });

test('spec §11 example 1: AVA-d, fresh Q head (Boltzmann), no reward weights', () => {
  const seq = view(ex1);
  const r = avaDObjective(seq, ex1Model, ex1Obj);
  close(val(r.loss), 3.251689);
  const t = terms(r);
  close([t.nll, t.kl, t.td], [1.296512, 0.130822, 1.824355]);
  const per = transitionTerms(avaSequence(seq, ex1Model, ex1Obj), { ...ex1Obj, likelihood: resolvedLikelihoodForm(ex1Model, ex1Obj) });
  close(per.nll.dataSync(), [0.645911, 0.6506]);
  close(per.kl.dataSync(), [0.088144, 0.042678]);
  close(per.td.dataSync(), [0.699623, 1.124732]);
  close(tf.add(tf.add(per.nll, per.kl), per.td).dataSync(), [1.433678, 1.818011]);
});

test('spec §11 example 1: token-mean reduction and β = 2', () => {
  close(val(avaDObjective(view(ex1), ex1Model, { ...ex1Obj, reduction: 'token_mean' }).loss), 1.625845);
  const r = avaDObjective(view(ex1), ex1Model, { ...ex1Obj, beta: 2 });
  close(val(r.loss), 2.694883);
  close(terms(r).nll, 0.377475 + 0.36223);
});

test('spec §11 example 1: masking check (prompt ids[0..1], loss_token_scope = response)', () => {
  const seq = view({ ...ex1, resp: [[0, 0, 1, 1]] });
  close(val(avaDObjective(seq, ex1Model, { ...ex1Obj, loss_token_scope: 'response' }).loss), 1.818011);
  close(val(avaDObjective(seq, ex1Model, { ...ex1Obj, loss_token_scope: 'all' }).loss), 3.251689);
});

// ---------------------------------------------------------------- example 2

const ex2: Seqs = {
  ids: [[0, 1, 2, 0]],
  valid: [[1, 1, 1, 0]],
  mu: [[0.6, -0.3, 1.2, 0]],
  logSigma: [[0, 0.5, -0.5, 0]],
  w: [[0.379641, 0.431207, 0.189152, 0]],
};

test('spec §11 example 2: sequence rewards last / weighted_sum / mean / unweighted', () => {
  const seq = view(ex2);
  const m = model();
  const reward = (o: Partial<ObjectiveConfig>) => val(sequenceRewardFor('ava-p', seq, m, objective(o)));
  close(reward({ sequence_reward_mode: 'last' }), 0.226982);
  close(reward({ sequence_reward_mode: 'weighted_sum' }), 0.325405);
  close(reward({ sequence_reward_mode: 'mean' }), 0.325405 / 3);
  close(reward({ sequence_reward_mode: 'last', sequence_reward_weighted: false }), 1.2);
  close(sequenceReward(tf.tensor2d([[0.227785, -0.129362, 0.226982, 7]]), seq.batch, 'weighted_sum').dataSync(), [0.325405]);
});

test('spec §11 example 2 / §5: per-token readout indexed by the action position', () => {
  const seq = view(ex2);
  const state = tokenRewardReadout(seq, model(), { td_reward_alignment: 'state' });
  close(state.mean.dataSync(), [0, 0.227785, -0.129362, 0]);
  close(state.std.dataSync(), [0, 0.379641, 0.71094, 0]);
  close(state.weight.dataSync(), [0, 0.379641, 0.431207, 0]);
  close(state.rawMean.dataSync(), [0, 0.6, -0.3, 0]);
  close(state.rawStd.dataSync(), [0, 1, 1.648721, 0]);
  const next = tokenRewardReadout(seq, model(), { td_reward_alignment: 'next_state' });
  close(next.mean.dataSync(), [0, -0.129362, 0.226982, 0]);
  close(next.std.dataSync(), [0, 0.71094, 0.114726, 0]);
  close(next.rawStd.dataSync(), [0, 1.648721, 0.606531, 0]);
});

test('readout: under reward_weight_scope = response_tokens, weighted fields are 0 on weightless positions', () => {
  const seq = view({ ...ex2, resp: [[0, 1, 1, 0]], w: [[0, 0.6, 0.4, 0]] });
  const r = tokenRewardReadout(seq, model({ reward_weight_scope: 'response_tokens' }), { td_reward_alignment: 'state' });
  close(r.mean.dataSync(), [0, 0, -0.18, 0]);
  close(r.std.dataSync(), [0, 0, 0.6 * 1.648721, 0]);
  close(r.rawMean.dataSync(), [0, 0.6, -0.3, 0]);
});

// ---------------------------------------------------------------- example 3

const z3 = [[2, 1, 0], [0, 3, 1], [1, 0, 2], [0, 0, 0]];
const ex3 = (mode: 'probs' | 'logits'): Seqs => ({
  ids: [[0, 1, 2, 1]],
  q: ptqQ(tf.tensor3d([z3]), 2, mode) as tf.Tensor3D,
  mu: [[0.5, -0.4, 0.3, 0.1]],
  logSigma: [[0.2, -0.1, 0.7, -0.2]],
  w: [[0.4, 0.35, 0.15, 0.1]],
});
const ex3Model = model({ q_head: 'pretrained', alpha: 2 });
const ex3Obj = objective({ kind: 'ava-d', beta: 0.5, gamma: 0.9, lambda: 0.5 });

test('spec §11 example 3: ptq (probs) with reward weights, scaled_q likelihood', () => {
  const seq = view(ex3('probs'));
  close(val(avaDObjective(seq, ex3Model, ex3Obj).loss), 1.862546);
  const per = transitionTerms(avaSequence(seq, ex3Model, ex3Obj), { ...ex3Obj, likelihood: 'scaled_q' });
  close(per.nll.dataSync(), [0.279873, 0.318393]);
  close(per.kl.dataSync(), [0.355637, 0.709769]);
  close(per.td.dataSync(), [0.275617, 0.12213]);
  close(tf.add(tf.add(per.nll, per.kl), tf.mul(per.td, 0.5)).dataSync(), [0.773319, 1.089227]);
});

test('spec §11 example 3 variants: Boltzmann likelihood, ptq_input = logits', () => {
  const r = avaDObjective(view(ex3('probs')), ex3Model, { ...ex3Obj, likelihood_form: 'boltzmann' });
  close(val(r.loss), 3.586689);
  close(terms(r).nll, 1.13885 + 1.183559);
  const logits = avaDObjective(view(ex3('logits')), model({ ...ex3Model, ptq_input: 'logits' }), ex3Obj);
  close(val(logits.loss), 3.478517);
  close(terms(logits).nll, 0.428586 + 0.703602);
});

// ---------------------------------------------------------------- example 4

const ex4Chosen = (over: Partial<Seqs> = {}): SeqView =>
  view({
    ids: [[0, 1, 2, 0]],
    q: ptqQ(tf.tensor3d([[[0, 2, 0], [0, 0, 2], [2, 0, 0], [1, 1, 1]]]), 1, 'probs') as tf.Tensor3D,
    mu: [[0.2, 0.1, 0.0, 0.9]],
    logSigma: [[0, Math.log(0.5), 0, 0]],
    ...over,
  });
const ex4Rejected = (over: Partial<Seqs> = {}): SeqView =>
  view({
    ids: [[0, 2, 2, 1]],
    q: ptqQ(tf.tensor3d([[[1, 0, 1], [0, 1, 1], [0, 2, 1], [1, 1, 1]]]), 1, 'probs') as tf.Tensor3D,
    mu: [[0, 0, 0, -0.4]],
    logSigma: [[0, 0, 0, 0]],
    ...over,
  });
const ex4Model = model({ use_reward_weights: false });
const ex4 = (o: Partial<ObjectiveConfig> = {}) => avaPObjective(ex4Chosen(), ex4Rejected(), ex4Model, objective({ kind: 'ava-p', ...o }));

test('spec §11 example 4: AVA-p with CER (sigmoid), per-term values', () => {
  const r = ex4();
  close(val(r.loss), 0.106452);
  const t = terms(r);
  assert.deepEqual(Object.keys(t).sort(), ['cer', 'kl', 'neg', 'nll', 'td']);
  close([t.nll, t.neg, t.kl, t.td, t.cer], [1.399003, -2.034592, 0.343147, 1.18473, -0.785835]);
  close(cerLoss(tf.tensor1d([0.9]), tf.tensor1d([-0.4]), 'sigmoid').dataSync(), [-0.785835]);
  close(cerLoss(tf.tensor1d([0.9]), tf.tensor1d([-0.4]), 'log_sigmoid').dataSync(), [0.241008]);
  // Logged beside the terms, not part of the loss: the mean margin Δ = R⁺ − R⁻ = 1.3 and the mean
  // |R| = (0.9 + 0.4) / 2 = 0.65 (w ≡ 1: no response_weight).
  assert.deepEqual(Object.keys(r.diagnostics ?? {}), ['reward_margin', 'reward_scale']);
  close(val(r.diagnostics!.reward_margin!), 1.3);
  close(val(r.diagnostics!.reward_scale!), 0.65);
});

test('diagnostics: reward_margin reads the weighted sequence rewards; response_weight is Σ w over response positions', () => {
  // Example 4 with Eq. 11 weights: w⁺ = [0.4, 0.3, 0.2, 0.1] (response = positions 1..3, Σ 0.6),
  // w⁻ = [0.7, 0.1, 0.1, 0.1] (response = positions 2..3, Σ 0.2). R = w·μ at the last token:
  // R⁺ = 0.1·0.9 = 0.09, R⁻ = 0.1·(−0.4) = −0.04, Δ = 0.13; response_weight = (0.6 + 0.2)/2 = 0.4.
  const chosen = ex4Chosen({ w: [[0.4, 0.3, 0.2, 0.1]], resp: [[0, 1, 1, 1]] });
  const rejected = ex4Rejected({ w: [[0.7, 0.1, 0.1, 0.1]], resp: [[0, 0, 1, 1]] });
  const weighted = model({ use_reward_weights: true });
  const r = avaPObjective(chosen, rejected, weighted, objective({ kind: 'ava-p' }));
  close([val(r.diagnostics!.reward_margin!), val(r.diagnostics!.response_weight!)], [0.13, 0.4]);
  const withoutDiagnostics = Object.values(r.terms).reduce((a, t) => a + val(t), 0);
  close(val(r.loss), withoutDiagnostics); // the loss is the terms' sum alone
  const d = avaDObjective(chosen, weighted, objective({ kind: 'ava-d' }));
  close(val(d.diagnostics!.response_weight!), 0.6);
});

test('spec §11 example 4 variants: both, log_sigmoid, w/o neg, w/o irl, w/o cer', () => {
  const both = ex4({ irl_terms_on: 'both' });
  close(val(both.loss), 2.754388 - 0.785835);
  close([terms(both).kl_rejected, terms(both).td_rejected], [0, 1.8621]);
  close(val(ex4({ cer_form: 'log_sigmoid' }).loss), 1.133296);
  close(val(ex4({ neg_likelihood_coef: 0 }).loss), 2.141045);
  close(val(ex4({ use_kl: false, use_td: false }).loss), -1.421425);
  close(val(ex4({ use_kl: false, use_td: false, irl_ablation_keeps_cer: false }).loss), 1.399003 - 2.034592);
  close(val(ex4({ cer_coef: 0 }).loss), 0.892287);
});

// ---------------------------------------------------------------- example 5 and the other baselines

test('spec §11 example 5: Bradley-Terry reads the value head at the last valid token', () => {
  const chosen = view({ ids: [[0, 1, 0]], value: [[0.7, 1.3, 5]], valid: [[1, 1, 0]] });
  const rejected = view({ ids: [[0, 1, 2]], value: [[-2, 3, 0.4]] });
  const r = btObjective(chosen, rejected);
  close(val(r.loss), 0.341154);
  close(val(r.terms.bt), 0.341154);
  close(sequenceRewardFor('bt', chosen, model(), objective()).dataSync(), [1.3]);
});

test('spec §11 example 5: DPO', () => {
  const one = (x: number) => tf.tensor1d([x]);
  close(val(dpoLoss(one(-12), one(-15), one(-13), one(-14), 0.1)), 0.598139);
  close(val(dpoLoss(one(-12), one(-15), one(-13), one(-14), 0.2)), Math.log1p(Math.exp(-0.4)));
});

test('spec §11 example 5: Preference Transformer, R = Σ w v over valid tokens', () => {
  const chosen = view({ ids: [[0, 1, 2]], value: [[0.2, 0.8, -0.1]], w: [[0.5, 0.3, 0.2]] });
  const rejected = view({ ids: [[0, 1, 0]], value: [[0.4, -0.6, 9]], w: [[0.7, 0.3, 0.5]], valid: [[1, 1, 0]] });
  close(val(ptObjective(chosen, rejected).loss), 0.589185);
  close(sequenceRewardFor('pt', chosen, model(), objective()).dataSync(), [0.32]);
  close(sequenceRewardFor('pt', rejected, model(), objective()).dataSync(), [0.1]);
});

test('spec §11 example 5: reward accuracy, ties wrong or half', () => {
  const plus = [1.0, 0.2, 0.3, 2.0];
  const minus = [0.5, 0.7, 0.3, -1.0];
  assert.equal(rewardAccuracy(plus, minus, 'incorrect'), 0.5);
  assert.equal(rewardAccuracy(plus, minus, 'half'), 0.625);
  assert.throws(() => rewardAccuracy([], [], 'incorrect'), AvaError);
  assert.throws(() => rewardAccuracy([1], [], 'incorrect'));
});

/** log softmax(row)[a] in float64. */
function logProb(row: number[], a: number): number {
  const mx = Math.max(...row);
  return row[a] - mx - Math.log(row.reduce((s, x) => s + Math.exp(x - mx), 0));
}

// Two sequences: prompt [BOS, 1], responses of 2 and 1 tokens (the second padded).
const lmSeqs: Seqs = {
  ids: [[0, 1, 2, 3], [0, 1, 3, 0]],
  valid: [[1, 1, 1, 1], [1, 1, 1, 0]],
  resp: [[0, 0, 1, 1], [0, 0, 1, 0]],
  logits: [
    [[0.1, 0.2, 0.3, 0.4], [1, 0, -1, 0.5], [0.3, -0.2, 0.8, 0.1], [9, 9, 9, 9]],
    [[0.5, -0.5, 0, 1], [0.2, 0.1, -0.3, 0.7], [9, 9, 9, 9], [9, 9, 9, 9]],
  ],
};
const lp = (b: number, k: number) => logProb(lmSeqs.logits![b][k], lmSeqs.ids[b][k + 1]);

test('baselines: response logp, SFT (response tokens) and LM (all valid transitions)', () => {
  const seq = view(lmSeqs);
  const logpA = lp(0, 1) + lp(0, 2);
  const logpB = lp(1, 1);
  close(responseLogp(seq.out.logits!, seq.batch).dataSync(), [logpA, logpB]);
  close(sequenceRewardFor('sft', seq, model(), objective()).dataSync(), [logpA, logpB]);
  close(sequenceRewardFor('dpo', seq, model(), objective()).dataSync(), [logpA, logpB]);
  close(val(sftObjective(seq).loss), -(logpA + logpB) / 3);
  const all = [lp(0, 0), lp(0, 1), lp(0, 2), lp(1, 0), lp(1, 1)];
  close(val(lmObjective(seq).terms.lm), -all.reduce((a, b) => a + b) / 5);
});

test('DPO objective: policy logp over response tokens against the given reference', () => {
  const chosen = view(lmSeqs);
  const rejected = view({ ...lmSeqs, ids: [[0, 1, 1, 2], [0, 1, 2, 0]] });
  const ref = { chosen: tf.tensor1d([-3, -1]), rejected: tf.tensor1d([-2, -2]) };
  const pc = responseLogp(chosen.out.logits!, chosen.batch);
  const pr = responseLogp(rejected.out.logits!, rejected.batch);
  const r = dpoObjective(chosen, rejected, ref, objective({ dpo_beta: 0.3 }));
  close(val(r.loss), val(dpoLoss(pc, pr, ref.chosen, ref.rejected, 0.3)));
  const margins = Array.from(tf.sub(tf.sub(pc, ref.chosen), tf.sub(pr, ref.rejected)).dataSync());
  close(val(r.terms.dpo), margins.map((x) => Math.log1p(Math.exp(-0.3 * x))).reduce((a, b) => a + b) / 2);
});

test('entry points leave no tensors behind besides their results', () => {
  const chosen = ex4Chosen();
  const rejected = ex4Rejected();
  const before = tf.memory().numTensors;
  const r = avaPObjective(chosen, rejected, ex4Model, objective({ kind: 'ava-p', irl_terms_on: 'both' }));
  assert.equal(tf.memory().numTensors - before, 1 + Object.keys(r.terms).length + Object.keys(r.diagnostics ?? {}).length);
});
