/**
 * Finite-difference gradient checks (central differences, cpu backend, float32 tolerances)
 * of the AVA losses w.r.t. Q, μ, log σ and w, and of the BT, PT, DPO, SFT and LM losses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DEFAULT_MODEL, DEFAULT_OBJECTIVE, type ModelConfig, type ObjectiveConfig } from '../src/core/experiment/config.js';
import { registerGradients } from '../src/core/engine/gradients.js';
import type { SeqBatch } from '../src/core/data/types.js';
import type { TQROutputs } from '../src/core/model/types.js';
import {
  avaDObjective,
  avaPObjective,
  btObjective,
  dpoObjective,
  lmObjective,
  ptObjective,
  sftObjective,
  type SeqView,
} from '../src/core/objectives/index.js';

await tf.setBackend('cpu');
await registerGradients();

const EPS = 3e-3;

/** Compares tf.grads(f) with central differences for every element of every input. */
function checkGradients(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[], names: string[]) {
  const grads = tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs).map((g) => g.dataSync());
  let nonZero = 0;
  inputs.forEach((x, i) => {
    const base = x.dataSync();
    for (let e = 0; e < base.length; e++) {
      const at = (delta: number) =>
        tf.tidy(() => {
          const moved = Float32Array.from(base);
          moved[e] += delta;
          const xs = inputs.map((y, k) => (k === i ? tf.tensor(moved, y.shape) : y));
          return f(...xs).dataSync()[0];
        });
      const fd = (at(EPS) - at(-EPS)) / (2 * EPS);
      const g = grads[i][e];
      assert.ok(Math.abs(fd - g) <= 1e-3 + 1e-2 * Math.abs(fd), `d/d${names[i]}[${e}]: autodiff ${g} vs finite difference ${fd}`);
      if (Math.abs(g) > 1e-4) nonZero++;
    }
  });
  assert.ok(nonZero > inputs.length, 'the check must exercise non-zero gradients');
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

/** B = 2, T = 5, V = 3; prompt lengths 2 and 1; the second sequence is padded to length 4. */
function batch(ids: number[][], lengths: number[], promptLens: number[]): SeqBatch {
  const mask = (from: (b: number) => number) => ids.map((row, b) => row.map((_, k) => (k >= from(b) && k < lengths[b] ? 1 : 0)));
  return {
    ids: tf.tensor2d(ids, undefined, 'int32'),
    valid: tf.tensor2d(mask(() => 0)),
    resp: tf.tensor2d(mask((b) => promptLens[b])),
    lengths,
  };
}
const CHOSEN = batch([[0, 2, 1, 1, 2], [0, 1, 2, 0, 0]], [5, 4], [2, 1]);
const REJECTED = batch([[0, 1, 1, 2, 0], [0, 2, 0, 1, 1]], [4, 5], [2, 1]);

/** Smooth random inputs: Q ∈ [−2, 0], μ ∈ [−1, 1], log σ ∈ [−0.3, 0.3], w ∈ [0.4, 1] on members, 0 elsewhere. */
function inputs(b: SeqBatch, seed: number, members: tf.Tensor2D) {
  const r = rng(seed);
  const [B, T] = b.valid.shape;
  const u = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * r());
  return {
    q: tf.tensor3d(u(B * T * 3, -2, 0), [B, T, 3]),
    mu: tf.tensor2d(u(B * T, -1, 1), [B, T]),
    logSigma: tf.tensor2d(u(B * T, -0.3, 0.3), [B, T]),
    w: tf.mul(tf.tensor2d(u(B * T, 0.4, 1), [B, T]), members) as tf.Tensor2D,
  };
}

function outputs(q: tf.Tensor, mu: tf.Tensor, logSigma: tf.Tensor, w: tf.Tensor): TQROutputs {
  return {
    h: tf.zeros([1, 1, 1]),
    logits: null,
    q: q as tf.Tensor3D,
    mu: mu as tf.Tensor2D,
    logSigma: logSigma as tf.Tensor2D,
    w: w as tf.Tensor2D,
    value: null,
  };
}

const M: ModelConfig = { ...DEFAULT_MODEL };
const O: ObjectiveConfig = { ...DEFAULT_OBJECTIVE, beta: 0.8, gamma: 0.9, lambda: 0.7, kl_coef: 1.2 };

const AVA_D_CASES: { name: string; m: ModelConfig; o: ObjectiveConfig }[] = [
  { name: 'defaults (scaled_q, q_mu_sigma, state, drop_last, response)', m: M, o: { ...O, kind: 'ava-d' } },
  {
    name: 'boltzmann, next_state, zero_next_q, token_mean, all tokens',
    m: M,
    o: { ...O, kind: 'ava-d', likelihood_form: 'boltzmann', td_reward_alignment: 'next_state', terminal_handling: 'zero_next_q', reduction: 'token_mean', loss_token_scope: 'all' },
  },
  {
    name: 'response-token weights (w = 0 on the prompt), mu_sigma, seq_mean',
    m: { ...M, reward_weight_scope: 'response_tokens', reward_weight_targets: 'mu_sigma' },
    o: { ...O, kind: 'ava-d', reduction: 'seq_mean', loss_token_scope: 'all', td_stop_grad: 'none' },
  },
];

for (const c of AVA_D_CASES) {
  test(`AVA-d gradients w.r.t. Q, μ, log σ, w: ${c.name}`, () => {
    const members = c.m.reward_weight_scope === 'response_tokens' ? CHOSEN.resp : CHOSEN.valid;
    const x = inputs(CHOSEN, 7, members);
    const f = (q: tf.Tensor, mu: tf.Tensor, ls: tf.Tensor, w: tf.Tensor) => avaDObjective({ batch: CHOSEN, out: outputs(q, mu, ls, w) }, c.m, c.o).loss;
    checkGradients(f, [x.q, x.mu, x.logSigma, x.w], ['Q', 'mu', 'logSigma', 'w']);
  });
}

const AVA_P_CASES: { name: string; o: ObjectiveConfig }[] = [
  { name: 'defaults (chosen-only IRL terms, sigmoid CER at last)', o: { ...O, kind: 'ava-p' } },
  {
    name: 'both, log_sigmoid CER on weighted_sum, Boltzmann',
    o: { ...O, kind: 'ava-p', irl_terms_on: 'both', cer_form: 'log_sigmoid', sequence_reward_mode: 'weighted_sum', likelihood_form: 'boltzmann', neg_likelihood_coef: 0.6 },
  },
];

for (const c of AVA_P_CASES) {
  test(`AVA-p gradients w.r.t. chosen and rejected Q, μ, log σ, w: ${c.name}`, () => {
    const p = inputs(CHOSEN, 11, CHOSEN.valid);
    const n = inputs(REJECTED, 13, REJECTED.valid);
    // With the KL and TD terms on the chosen sequence only, the rejected σ enters nowhere.
    const rejectedSigmaUsed = c.o.irl_terms_on === 'both';
    const f = (...xs: tf.Tensor[]) => {
      const chosen: SeqView = { batch: CHOSEN, out: outputs(xs[0], xs[1], xs[2], xs[3]) };
      const rejected: SeqView = { batch: REJECTED, out: outputs(xs[4], xs[5], rejectedSigmaUsed ? xs[7] : n.logSigma, xs[6]) };
      return avaPObjective(chosen, rejected, M, c.o).loss;
    };
    const xs = [p.q, p.mu, p.logSigma, p.w, n.q, n.mu, n.w, n.logSigma];
    const names = ['Q+', 'mu+', 'logSigma+', 'w+', 'Q-', 'mu-', 'w-', 'logSigma-'];
    const used = rejectedSigmaUsed ? 8 : 7;
    checkGradients(f, xs.slice(0, used), names.slice(0, used));
  });
}

function valueView(b: SeqBatch, value: tf.Tensor, w: tf.Tensor): SeqView {
  return { batch: b, out: { ...outputs(tf.zeros([1, 1, 1]), tf.zeros([1, 1]), tf.zeros([1, 1]), w), q: null, mu: null, logSigma: null, value: value as tf.Tensor2D } };
}
function logitsView(b: SeqBatch, logits: tf.Tensor): SeqView {
  return { batch: b, out: { ...outputs(tf.zeros([1, 1, 1]), tf.zeros([1, 1]), tf.zeros([1, 1]), b.valid), q: null, mu: null, logSigma: null, logits: logits as tf.Tensor3D } };
}
const u2 = (seed: number, lo = -1, hi = 1) => {
  const r = rng(seed);
  return tf.tensor2d(Array.from({ length: 10 }, () => lo + (hi - lo) * r()), [2, 5]);
};
const u3 = (seed: number) => {
  const r = rng(seed);
  return tf.tensor3d(Array.from({ length: 30 }, () => -1.5 + 3 * r()), [2, 5, 3]);
};

test('Bradley-Terry gradients w.r.t. the value head of both sequences', () => {
  const f = (vp: tf.Tensor, vm: tf.Tensor) => btObjective(valueView(CHOSEN, vp, CHOSEN.valid), valueView(REJECTED, vm, REJECTED.valid)).loss;
  checkGradients(f, [u2(1), u2(2)], ['v+', 'v-']);
});

test('Preference Transformer gradients w.r.t. values and weights', () => {
  const f = (vp: tf.Tensor, wp: tf.Tensor, vm: tf.Tensor, wm: tf.Tensor) => ptObjective(valueView(CHOSEN, vp, wp), valueView(REJECTED, vm, wm)).loss;
  checkGradients(f, [u2(3), u2(4, 0.1, 0.5), u2(5), u2(6, 0.1, 0.5)], ['v+', 'w+', 'v-', 'w-']);
});

test('DPO gradients w.r.t. the policy logits of both sequences', () => {
  const ref = { chosen: tf.tensor1d([-3.1, -2.2]), rejected: tf.tensor1d([-2.5, -3.3]) };
  const o = { ...O, dpo_beta: 0.5 };
  const f = (zp: tf.Tensor, zm: tf.Tensor) => dpoObjective(logitsView(CHOSEN, zp), logitsView(REJECTED, zm), ref, o).loss;
  checkGradients(f, [u3(7), u3(8)], ['z+', 'z-']);
});

test('SFT and LM gradients w.r.t. the logits', () => {
  checkGradients((z: tf.Tensor) => sftObjective(logitsView(CHOSEN, z)).loss, [u3(9)], ['z']);
  checkGradients((z: tf.Tensor) => lmObjective(logitsView(CHOSEN, z)).loss, [u3(10)], ['z']);
});
