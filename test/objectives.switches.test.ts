/**
 * Every objective switch (and the model keys the objectives read) changes what it should and
 * nothing else. A float64 loop-by-loop reference written from spec §1.3–§2.3 checks the
 * tensor code on a padded two-sequence batch across all switch combinations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DEFAULT_MODEL, DEFAULT_OBJECTIVE, resolvedLikelihoodForm, type ModelConfig, type ObjectiveConfig } from '../src/core/experiment/config.js';
import { avaDObjective, avaPObjective, type LossResult, type SeqView } from '../src/core/objectives/index.js';
import { sequenceRewardFor } from '../src/core/objectives/table.js';
import { avaSequence, cerLoss, transitionTerms } from '../src/core/objectives/ava.js';
import { applyRewardWeights, W_FLOOR } from '../src/core/objectives/masks.js';
import { registerGradients } from '../src/core/engine/gradients.js';
import type { TQROutputs } from '../src/core/model/types.js';

await tf.setBackend('cpu');
await registerGradients();

// ---------------------------------------------------------------- fixture

/** One sequence as plain arrays (float64 reference side). */
interface Plain {
  ids: number[];
  valid: number[];
  resp: number[];
  q: number[][];
  mu: number[];
  logSigma: number[];
  /** Reward weights for the three cases: rwt off (ones on valid), scope all_tokens, scope response_tokens. */
  w: { off: number[]; all: number[]; response: number[] };
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const V = 4;
function plain(ids: number[], len: number, promptLen: number, seed: number): Plain {
  const r = rng(seed);
  const T = ids.length;
  const valid = ids.map((_, k) => (k < len ? 1 : 0));
  const resp = ids.map((_, k) => (k >= promptLen && k < len ? 1 : 0));
  const positive = (mask: number[]) => mask.map((m) => m * (0.3 + 0.7 * r()));
  return {
    ids,
    valid,
    resp,
    q: Array.from({ length: T }, () => Array.from({ length: V }, () => -2 + 2 * r())),
    mu: Array.from({ length: T }, () => -1 + 2 * r()),
    logSigma: Array.from({ length: T }, () => -0.5 + r()),
    w: { off: valid, all: positive(valid), response: positive(resp) },
  };
}

/** Chosen-like and rejected-like batches: prompt lengths 2 and 3, the second sequence padded. */
const CHOSEN = [plain([0, 3, 1, 2, 1, 3], 6, 2, 1), plain([0, 2, 2, 1, 3, 0], 5, 3, 2)];
const REJECTED = [plain([0, 3, 2, 2, 0, 1], 6, 2, 3), plain([0, 2, 2, 3, 0, 0], 4, 3, 4)];

type WCase = keyof Plain['w'];
const wCase = (m: ModelConfig): WCase => (!m.use_reward_weights ? 'off' : m.reward_weight_scope === 'all_tokens' ? 'all' : 'response');

function view(seqs: Plain[], m: ModelConfig, edit: (s: Plain) => Plain = (s) => s): SeqView {
  const ss = seqs.map(edit);
  const w = wCase(m);
  return {
    batch: {
      ids: tf.tensor2d(ss.map((s) => s.ids), undefined, 'int32'),
      valid: tf.tensor2d(ss.map((s) => s.valid)),
      resp: tf.tensor2d(ss.map((s) => s.resp)),
      lengths: ss.map((s) => s.valid.reduce((a, b) => a + b)),
    },
    out: {
      h: tf.zeros([ss.length, ss[0].ids.length, 1]),
      logits: null,
      q: tf.tensor3d(ss.map((s) => s.q)),
      mu: tf.tensor2d(ss.map((s) => s.mu)),
      logSigma: tf.tensor2d(ss.map((s) => s.logSigma)),
      w: tf.tensor2d(ss.map((s) => s.w[w])),
      value: null,
    },
  };
}

const BASE_O: ObjectiveConfig = { ...DEFAULT_OBJECTIVE, beta: 0.7, gamma: 0.9, lambda: 0.6, kl_coef: 1.3 };
const BASE_M: ModelConfig = { ...DEFAULT_MODEL };

// ---------------------------------------------------------------- float64 reference (spec §1.3–§2.3)

interface SeqSums {
  nll: number;
  kl: number;
  td: number;
  nLik: number;
  nKl: number;
  nTd: number;
}

function refSequence(s: Plain, m: ModelConfig, o: ObjectiveConfig): SeqSums {
  const len = s.valid.reduce((a, b) => a + b);
  const last = len - 1;
  const w = s.w[wCase(m)];
  const qScale = (k: number) => (m.reward_weight_targets === 'q_mu_sigma' ? w[k] : 1);
  const Qt = (k: number, a: number) => qScale(k) * s.q[k][a];
  const mut = (k: number) => w[k] * s.mu[k];
  const logSigt = (k: number) => (m.reward_weight_targets === 'mu' ? s.logSigma[k] : Math.log(Math.max(w[k], W_FLOOR)) + s.logSigma[k]);
  const member = (k: number) => (m.use_reward_weights && m.reward_weight_scope === 'response_tokens' ? s.resp[k] : 1);
  const sel = (k: number) => (o.loss_token_scope === 'response' ? s.resp[k] : s.valid[k]);
  const form = resolvedLikelihoodForm(m, o);
  const out: SeqSums = { nll: 0, kl: 0, td: 0, nLik: 0, nKl: 0, nTd: 0 };
  const lastJ = o.terminal_handling === 'drop_last' ? last - 2 : last - 1;
  for (let j = 0; j <= lastJ; j++) {
    if (!sel(j + 1)) continue;
    const jp = o.td_reward_alignment === 'state' ? j : j + 1;
    const qa = Qt(j, s.ids[j + 1]);
    const qNext = j + 2 <= last ? Qt(j + 1, s.ids[j + 2]) : 0;
    let ell = o.beta * qa;
    if (form === 'boltzmann') {
      const row = s.q[j].map((_, v) => o.beta * Qt(j, v));
      const mx = Math.max(...row);
      ell -= mx + Math.log(row.reduce((acc, x) => acc + Math.exp(x - mx), 0));
    }
    const m_ = mut(jp);
    const ls = logSigt(jp);
    const kl = 0.5 * (Math.exp(2 * ls) + m_ * m_ - 1) - ls;
    const delta = qa - o.gamma * qNext;
    const logN = -0.5 * Math.log(2 * Math.PI) - ls - 0.5 * ((delta - m_) / Math.exp(ls)) ** 2;
    if (member(j)) {
      out.nll -= ell;
      out.nLik++;
    }
    if (member(jp)) {
      out.kl += kl;
      out.nKl++;
    }
    if (member(j) && member(j + 1) && member(jp)) {
      out.td -= logN;
      out.nTd++;
    }
  }
  return out;
}

function refReduce(seqs: SeqSums[], term: 'nll' | 'kl' | 'td', reduction: ObjectiveConfig['reduction']): number {
  const count = { nll: 'nLik', kl: 'nKl', td: 'nTd' } as const;
  const sums = seqs.map((s) => s[term]);
  const counts = seqs.map((s) => s[count[term]]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
  if (reduction === 'seq_sum_batch_mean') return mean(sums);
  if (reduction === 'token_mean') return sums.reduce((a, b) => a + b) / Math.max(counts.reduce((a, b) => a + b), 1);
  return mean(sums.map((x, i) => x / Math.max(counts[i], 1)));
}

function refAvaD(seqs: Plain[], m: ModelConfig, o: ObjectiveConfig): Record<string, number> {
  const per = seqs.map((s) => refSequence(s, m, o));
  const t: Record<string, number> = { nll: refReduce(per, 'nll', o.reduction) };
  if (o.use_kl) t.kl = o.kl_coef * refReduce(per, 'kl', o.reduction);
  if (o.use_td) t.td = o.lambda * refReduce(per, 'td', o.reduction);
  return t;
}

// ---------------------------------------------------------------- helpers

const val = (t: tf.Tensor) => t.dataSync()[0];
const termsOf = (r: LossResult) => Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, val(v)]));
function near(a: number, b: number, tol = 1e-5, what = '') {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what} ${a} vs ${b}`);
}
function sameTerms(a: Record<string, number>, b: Record<string, number>, keys: string[]) {
  for (const k of keys) near(a[k], b[k], 1e-6, k);
}
const avaD = (m: ModelConfig, o: ObjectiveConfig, edit?: (s: Plain) => Plain) => termsOf(avaDObjective(view(CHOSEN, m, edit), m, o));
const avaP = (m: ModelConfig, o: ObjectiveConfig) => termsOf(avaPObjective(view(CHOSEN, m), view(REJECTED, m), m, o));
const sum = (t: Record<string, number>) => Object.values(t).reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------- the reference across every combination

test('AVA-d matches the float64 reference for every combination of masking, alignment, form, reduction and weighting', () => {
  let checked = 0;
  for (const likelihood_form of ['boltzmann', 'scaled_q'] as const)
    for (const loss_token_scope of ['response', 'all'] as const)
      for (const terminal_handling of ['drop_last', 'zero_next_q'] as const)
        for (const td_reward_alignment of ['state', 'next_state'] as const)
          for (const reduction of ['seq_sum_batch_mean', 'token_mean', 'seq_mean'] as const)
            for (const reward_weight_targets of ['q_mu_sigma', 'mu_sigma', 'mu'] as const)
              for (const [use_reward_weights, reward_weight_scope] of [[false, 'all_tokens'], [true, 'all_tokens'], [true, 'response_tokens']] as const) {
                const m = { ...BASE_M, reward_weight_targets, use_reward_weights, reward_weight_scope };
                const o = { ...BASE_O, likelihood_form, loss_token_scope, terminal_handling, td_reward_alignment, reduction };
                const got = avaD(m, o);
                const want = refAvaD(CHOSEN, m, o);
                assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
                for (const k of Object.keys(want)) near(got[k], want[k], 1e-5, `${JSON.stringify({ ...m, ...o })} ${k}`);
                checked++;
              }
  assert.equal(checked, 432);
});

test('AVA-p matches the reference: chosen terms, −c_neg·rejected NLL, rejected KL/TD under both, CER', () => {
  const m = BASE_M;
  for (const reduction of ['seq_sum_batch_mean', 'token_mean', 'seq_mean'] as const)
    for (const irl_terms_on of ['chosen', 'both'] as const) {
      const o = { ...BASE_O, kind: 'ava-p' as const, reduction, irl_terms_on, neg_likelihood_coef: 0.8, cer_coef: 1.7 };
      const got = avaP(m, o);
      const pos = refAvaD(CHOSEN, m, o);
      const neg = refAvaD(REJECTED, m, o);
      const rPlus = CHOSEN.map((s) => s.w.all[s.valid.lastIndexOf(1)] * s.mu[s.valid.lastIndexOf(1)]);
      const rMinus = REJECTED.map((s) => s.w.all[s.valid.lastIndexOf(1)] * s.mu[s.valid.lastIndexOf(1)]);
      const cer = rPlus.map((r, i) => -1 / (1 + Math.exp(-(r - rMinus[i])))).reduce((a, b) => a + b) / 2;
      const want: Record<string, number> = { nll: pos.nll, neg: -0.8 * neg.nll, kl: pos.kl, td: pos.td, cer: 1.7 * cer };
      if (irl_terms_on === 'both') Object.assign(want, { kl_rejected: neg.kl, td_rejected: neg.td });
      assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
      for (const k of Object.keys(want)) near(got[k], want[k], 1e-5, `${reduction} ${irl_terms_on} ${k}`);
    }
});

test('terms add up to the loss', () => {
  const m = BASE_M;
  const o = { ...BASE_O, irl_terms_on: 'both' as const };
  const r = avaPObjective(view(CHOSEN, m), view(REJECTED, m), m, o);
  near(val(r.loss), sum(termsOf(r)));
});

// ---------------------------------------------------------------- one switch at a time (AVA-d)

const base = () => avaD(BASE_M, BASE_O);

test('beta: Boltzmann changes only the likelihood; scaled_q scales it exactly', () => {
  const b = avaD(BASE_M, { ...BASE_O, likelihood_form: 'boltzmann' });
  const b2 = avaD(BASE_M, { ...BASE_O, likelihood_form: 'boltzmann', beta: 1.9 });
  assert.ok(Math.abs(b.nll - b2.nll) > 1e-3);
  sameTerms(b, b2, ['kl', 'td']);
  const s2 = avaD(BASE_M, { ...BASE_O, beta: 1.4 });
  near(s2.nll, 2 * base().nll);
  sameTerms(base(), s2, ['kl', 'td']);
});

test('gamma changes only the TD term', () => {
  const g = avaD(BASE_M, { ...BASE_O, gamma: 0.5 });
  assert.ok(Math.abs(g.td - base().td) > 1e-3);
  sameTerms(base(), g, ['nll', 'kl']);
});

test('lambda and kl_coef scale exactly their own term', () => {
  const l = avaD(BASE_M, { ...BASE_O, lambda: 1.8 });
  near(l.td, 3 * base().td);
  sameTerms(base(), l, ['nll', 'kl']);
  const k = avaD(BASE_M, { ...BASE_O, kl_coef: 2.6 });
  near(k.kl, 2 * base().kl);
  sameTerms(base(), k, ['nll', 'td']);
});

test('use_kl / use_td remove exactly their term', () => {
  const noKl = avaD(BASE_M, { ...BASE_O, use_kl: false });
  assert.deepEqual(Object.keys(noKl).sort(), ['nll', 'td']);
  sameTerms(base(), noKl, ['nll', 'td']);
  const noTd = avaD(BASE_M, { ...BASE_O, use_td: false });
  assert.deepEqual(Object.keys(noTd).sort(), ['kl', 'nll']);
  sameTerms(base(), noTd, ['nll', 'kl']);
});

test('likelihood_form changes only the likelihood; auto follows q_head', () => {
  const boltz = avaD(BASE_M, { ...BASE_O, likelihood_form: 'boltzmann' });
  const scaled = avaD(BASE_M, { ...BASE_O, likelihood_form: 'scaled_q' });
  assert.ok(Math.abs(boltz.nll - scaled.nll) > 1e-3);
  sameTerms(boltz, scaled, ['kl', 'td']);
  sameTerms(avaD(BASE_M, { ...BASE_O, likelihood_form: 'auto' }), scaled, ['nll']);
  const fresh = { ...BASE_M, q_head: 'fresh' as const };
  sameTerms(avaD(fresh, { ...BASE_O, likelihood_form: 'auto' }), boltz, ['nll']);
});

/** Replaces position k of sequence 0 with other Q, μ and log σ values. */
const perturbAt = (k: number, what: ('q' | 'mu' | 'logSigma')[]) => (s: Plain): Plain =>
  s === CHOSEN[0]
    ? {
        ...s,
        q: what.includes('q') ? s.q.map((row, i) => (i === k ? row.map((x) => x + 0.77) : row)) : s.q,
        mu: what.includes('mu') ? s.mu.map((x, i) => (i === k ? x - 0.9 : x)) : s.mu,
        logSigma: what.includes('logSigma') ? s.logSigma.map((x, i) => (i === k ? x + 0.6 : x)) : s.logSigma,
      }
    : s;

test('loss_token_scope: prompt actions count only under "all"', () => {
  // Transition 0 of sequence 0 (state BOS, action = the prompt token) reads Q row 0 and μ, σ at 0.
  const o = { ...BASE_O, loss_token_scope: 'response' as const };
  const edit = perturbAt(0, ['q', 'mu', 'logSigma']);
  sameTerms(avaD(BASE_M, o), avaD(BASE_M, o, edit), ['nll', 'kl', 'td']);
  const all = { ...BASE_O, loss_token_scope: 'all' as const };
  const [a, b] = [avaD(BASE_M, all), avaD(BASE_M, all, edit)];
  for (const k of ['nll', 'kl', 'td']) assert.ok(Math.abs(a[k] - b[k]) > 1e-4, k);
});

test('terminal_handling: zero_next_q adds exactly one transition per sequence, with qa[last] := 0', () => {
  const tt = (o: ObjectiveConfig, edit?: (s: Plain) => Plain) => {
    const seq = view(CHOSEN, BASE_M, edit);
    const s = avaSequence(seq, BASE_M, o);
    return { t: transitionTerms(s, { ...o, likelihood: resolvedLikelihoodForm(BASE_M, o) }), masks: s.masks };
  };
  const drop = tt({ ...BASE_O, terminal_handling: 'drop_last' });
  const zero = tt({ ...BASE_O, terminal_handling: 'zero_next_q' });
  assert.deepEqual(drop.masks.td.shape, [2, 4]);
  assert.deepEqual(zero.masks.td.shape, [2, 5]);
  // Shared transitions j ≤ last−2 are identical; the extra one is j = last−1 (5−1=4 and 4−1=3).
  const dropTd = drop.masks.td.arraySync();
  const zeroTd = zero.masks.td.arraySync();
  assert.deepEqual(zeroTd, [[0, 1, 1, 1, 1], [0, 0, 1, 1, 0]]);
  assert.deepEqual(dropTd, [[0, 1, 1, 1], [0, 0, 1, 0]]);
  for (const key of ['nll', 'kl', 'td'] as const) {
    const d = drop.t[key].arraySync();
    const z = zero.t[key].arraySync();
    d.forEach((row, b) => row.forEach((x, j) => dropTd[b][j] && near(z[b][j], x, 1e-6, `${key}[${b},${j}]`)));
  }
  // Q at the last position never enters (its "next action" does not exist).
  const o = { ...BASE_O, terminal_handling: 'zero_next_q' as const };
  const changed = tt(o, perturbAt(5, ['q'])).t;
  for (const key of ['nll', 'kl', 'td'] as const) assert.deepEqual(changed[key].arraySync(), zero.t[key].arraySync());
});

test('reduction: the three variants differ by the expected scale', () => {
  const seqSum = avaD(BASE_M, { ...BASE_O, reduction: 'seq_sum_batch_mean' });
  const token = avaD(BASE_M, { ...BASE_O, reduction: 'token_mean' });
  const seqMean = avaD(BASE_M, { ...BASE_O, reduction: 'seq_mean' });
  const per = CHOSEN.map((s) => refSequence(s, BASE_M, BASE_O));
  const counts = per.map((p) => p.nLik); // default masks: the same count for every term
  assert.deepEqual(counts, [3, 1]);
  for (const k of ['nll', 'kl', 'td'] as const) {
    near(token[k], (seqSum[k] * 2) / (counts[0] + counts[1]), 1e-5, k);
    const perSeq = per.map((p) => p[k] * (k === 'kl' ? BASE_O.kl_coef : k === 'td' ? BASE_O.lambda : 1));
    near(seqMean[k], (perSeq[0] / counts[0] + perSeq[1] / counts[1]) / 2, 1e-5, k);
    near(seqSum[k], (perSeq[0] + perSeq[1]) / 2, 1e-5, k);
  }
});

test('td_reward_alignment: next_state reads μ, σ at j+1 and leaves the likelihood alone', () => {
  const o = { ...BASE_O, loss_token_scope: 'all' as const };
  const next = { ...o, td_reward_alignment: 'next_state' as const };
  sameTerms(avaD(BASE_M, o), avaD(BASE_M, next), ['nll']);
  // μ, σ at position 0 pair only with transition 0 under `state`; `next_state` never reads them.
  const edit = perturbAt(0, ['mu', 'logSigma']);
  sameTerms(avaD(BASE_M, next), avaD(BASE_M, next, edit), ['nll', 'kl', 'td']);
  const [a, b] = [avaD(BASE_M, o), avaD(BASE_M, o, edit)];
  assert.ok(Math.abs(a.kl - b.kl) > 1e-4 && Math.abs(a.td - b.td) > 1e-4);
});

test('td_stop_grad: same loss value; only the gradient through the TD term\'s Q changes', () => {
  // One transition (T = 3): ℓ reads Q row 0; the TD term reads qa[0] (row 0) and qa[1] (row 1).
  const m = { ...BASE_M, q_head: 'fresh' as const, use_reward_weights: false };
  const o = { ...BASE_O, loss_token_scope: 'all' as const };
  const ids = tf.tensor2d([[0, 1, 2]], undefined, 'int32');
  const ones = tf.ones([1, 3]) as tf.Tensor2D;
  const run = (stop: ObjectiveConfig['td_stop_grad'], useTd = true) => {
    const f = (q: tf.Tensor, mu: tf.Tensor, ls: tf.Tensor) =>
      avaDObjective(
        {
          batch: { ids, valid: ones, resp: ones, lengths: [3] },
          out: { h: tf.zeros([1, 3, 1]), logits: null, q: q as tf.Tensor3D, mu: mu as tf.Tensor2D, logSigma: ls as tf.Tensor2D, w: ones, value: null },
        },
        m,
        { ...o, td_stop_grad: stop, use_td: useTd },
      ).loss;
    const q = tf.tensor3d([[[0.3, -0.4, 0.9], [0.2, 0.5, -1.1], [0.1, 0.1, 0.1]]]);
    const mu = tf.tensor2d([[0.2, -0.3, 0.4]]);
    const ls = tf.tensor2d([[-0.2, 0.1, 0.3]]);
    const { value, grads } = tf.valueAndGrads(f)([q, mu, ls]);
    return { loss: val(value), q: grads[0].arraySync() as number[][][], mu: grads[1].dataSync(), ls: grads[2].dataSync() };
  };
  const none = run('none');
  const next = run('next_q');
  const both = run('both_q');
  const likOnly = run('none', false);
  near(next.loss, none.loss, 1e-7);
  near(both.loss, none.loss, 1e-7);
  for (const g of [next, both]) {
    assert.deepEqual(Array.from(g.mu), Array.from(none.mu));
    assert.deepEqual(Array.from(g.ls), Array.from(none.ls));
    assert.deepEqual(g.q[0][1], [0, 0, 0]); // row 1 is read only as the TD's next Q
  }
  assert.ok(Math.abs(none.q[0][1][2]) > 1e-3);
  assert.deepEqual(next.q[0][0], none.q[0][0]);
  none.q[0][0].forEach((_, v) => near(both.q[0][0][v], likOnly.q[0][0][v], 1e-7));
  assert.ok(Math.abs(both.q[0][0][1] - none.q[0][0][1]) > 1e-3);
});

// ---------------------------------------------------------------- AVA-p switches

const P_O: ObjectiveConfig = { ...BASE_O, kind: 'ava-p' };
const pBase = () => avaP(BASE_M, P_O);

test('neg_likelihood_coef scales only the rejected likelihood; cer_coef only CER', () => {
  const n = avaP(BASE_M, { ...P_O, neg_likelihood_coef: 2.5 });
  near(n.neg, 2.5 * pBase().neg);
  sameTerms(pBase(), n, ['nll', 'kl', 'td', 'cer']);
  const z = avaP(BASE_M, { ...P_O, neg_likelihood_coef: 0 });
  near(z.neg, 0);
  const c = avaP(BASE_M, { ...P_O, cer_coef: 0.25 });
  near(c.cer, 0.25 * pBase().cer);
  sameTerms(pBase(), c, ['nll', 'neg', 'kl', 'td']);
});

test('irl_terms_on = both adds exactly the rejected KL and TD (those of AVA-d on the rejected batch)', () => {
  const both = avaP(BASE_M, { ...P_O, irl_terms_on: 'both' });
  sameTerms(pBase(), both, ['nll', 'neg', 'kl', 'td', 'cer']);
  const rej = termsOf(avaDObjective(view(REJECTED, BASE_M), BASE_M, P_O));
  near(both.kl_rejected, rej.kl);
  near(both.td_rejected, rej.td);
  near(sum(both), sum(pBase()) + rej.kl + rej.td);
});

test('cer_form changes only CER', () => {
  const l = avaP(BASE_M, { ...P_O, cer_form: 'log_sigmoid' });
  assert.ok(Math.abs(l.cer - pBase().cer) > 1e-3);
  sameTerms(pBase(), l, ['nll', 'neg', 'kl', 'td']);
});

test('use_kl / use_td in AVA-p, and irl_ablation_keeps_cer only matters for "w/o irl"', () => {
  const noKl = avaP(BASE_M, { ...P_O, use_kl: false });
  assert.deepEqual(Object.keys(noKl).sort(), ['cer', 'neg', 'nll', 'td']);
  sameTerms(pBase(), noKl, ['nll', 'neg', 'td', 'cer']);
  const noTd = avaP(BASE_M, { ...P_O, use_td: false, irl_ablation_keeps_cer: false });
  assert.deepEqual(Object.keys(noTd).sort(), ['cer', 'kl', 'neg', 'nll']);
  const woIrl = avaP(BASE_M, { ...P_O, use_kl: false, use_td: false });
  assert.deepEqual(Object.keys(woIrl).sort(), ['cer', 'neg', 'nll']);
  sameTerms(pBase(), woIrl, ['nll', 'neg', 'cer']);
  const woIrlNoCer = avaP(BASE_M, { ...P_O, use_kl: false, use_td: false, irl_ablation_keeps_cer: false });
  assert.deepEqual(Object.keys(woIrlNoCer).sort(), ['neg', 'nll']);
  sameTerms(pBase(), woIrlNoCer, ['nll', 'neg']);
});

test('sequence_reward_mode / sequence_reward_weighted change only CER, through the sequence reward', () => {
  const m = BASE_M;
  for (const sequence_reward_mode of ['last', 'weighted_sum', 'mean'] as const)
    for (const sequence_reward_weighted of [true, false]) {
      const o = { ...P_O, sequence_reward_mode, sequence_reward_weighted };
      const got = avaP(m, o);
      sameTerms(pBase(), got, ['nll', 'neg', 'kl', 'td']);
      const reward = (seqs: Plain[]) =>
        seqs.map((s) => {
          const x = s.mu.map((mu, k) => (sequence_reward_weighted ? s.w.all[k] : 1) * mu);
          if (sequence_reward_mode === 'last') return x[s.valid.lastIndexOf(1)];
          const total = x.reduce((acc, v, k) => acc + v * s.resp[k], 0);
          return sequence_reward_mode === 'weighted_sum' ? total : total / s.resp.reduce((a, b) => a + b);
        });
      const [rp, rm] = [reward(CHOSEN), reward(REJECTED)];
      close1d(sequenceRewardFor('ava-p', view(CHOSEN, m), m, o), rp);
      close1d(sequenceRewardFor('ava-d', view(REJECTED, m), m, o), rm);
      near(got.cer, val(tf.mean(cerLoss(tf.tensor1d(rp), tf.tensor1d(rm), 'sigmoid'))), 1e-5, `${sequence_reward_mode} ${sequence_reward_weighted}`);
    }
});

function close1d(t: tf.Tensor, want: number[]) {
  Array.from(t.dataSync()).forEach((x, i) => near(x, want[i], 1e-5, `[${i}]`));
}

// ---------------------------------------------------------------- model keys read by the objectives

test('reward_weight_targets: Q weighting moves ℓ and TD; σ weighting moves KL and TD', () => {
  const o = { ...BASE_O, likelihood_form: 'boltzmann' as const };
  const qms = avaD({ ...BASE_M, reward_weight_targets: 'q_mu_sigma' }, o);
  const ms = avaD({ ...BASE_M, reward_weight_targets: 'mu_sigma' }, o);
  const mOnly = avaD({ ...BASE_M, reward_weight_targets: 'mu' }, o);
  sameTerms(qms, ms, ['kl']);
  assert.ok(Math.abs(qms.nll - ms.nll) > 1e-3 && Math.abs(qms.td - ms.td) > 1e-3);
  sameTerms(ms, mOnly, ['nll']);
  assert.ok(Math.abs(ms.kl - mOnly.kl) > 1e-3 && Math.abs(ms.td - mOnly.td) > 1e-3);
});

test('applyRewardWeights: log σ̃ = log max(w, 1e-12) + log σ in log space; `mu` leaves σ and Q unweighted', () => {
  const out: TQROutputs = {
    h: tf.zeros([1, 3, 1]),
    logits: null,
    q: null,
    mu: tf.tensor2d([[0.5, -1, 2]]),
    logSigma: tf.tensor2d([[-9, 0.3, 8]]),
    w: tf.tensor2d([[1e-3, 0.5, 0]]),
    value: null,
  };
  const h = applyRewardWeights(out, { reward_weight_targets: 'q_mu_sigma' });
  close1d(tf.reshape(h.logSigt, [-1]), [Math.log(1e-3) - 9, Math.log(0.5) + 0.3, Math.log(1e-12) + 8]);
  close1d(tf.reshape(h.mut, [-1]), [5e-4, -0.5, 0]);
  assert.ok(h.qWeight !== null);
  const mu = applyRewardWeights(out, { reward_weight_targets: 'mu' });
  close1d(tf.reshape(mu.logSigt, [-1]), [-9, 0.3, 8]);
  assert.equal(mu.qWeight, null);
  assert.equal(applyRewardWeights(out, { reward_weight_targets: 'mu_sigma' }).qWeight, null);
});

test('reward_weight_scope = response_tokens: prompt positions (w = 0) are out of every term, finite gradients', () => {
  const m = { ...BASE_M, reward_weight_scope: 'response_tokens' as const };
  const o = { ...BASE_O, loss_token_scope: 'all' as const };
  // Sequence 0 has prompt positions 0 and 1: nothing read there may matter.
  const edit = (s: Plain) => perturbAt(1, ['q', 'mu', 'logSigma'])(perturbAt(0, ['q', 'mu', 'logSigma'])(s));
  const a = avaD(m, o);
  sameTerms(a, avaD(m, o, edit), ['nll', 'kl', 'td']);
  for (const v of Object.values(a)) assert.ok(Number.isFinite(v));
  // With rwt off, the scope does not apply: w ≡ 1 on the prompt and its transitions count.
  const off = { ...m, use_reward_weights: false };
  const b = avaD(off, o);
  const c = avaD(off, o, edit);
  assert.ok(Math.abs(b.nll - c.nll) > 1e-4);
  // Gradients stay finite and vanish at the weightless positions.
  const seq = view(CHOSEN, m);
  const f = (q: tf.Tensor, mu: tf.Tensor, ls: tf.Tensor, w: tf.Tensor) =>
    avaDObjective({ batch: seq.batch, out: { ...seq.out, q: q as tf.Tensor3D, mu: mu as tf.Tensor2D, logSigma: ls as tf.Tensor2D, w: w as tf.Tensor2D } }, m, o).loss;
  const grads = tf.grads(f)([seq.out.q!, seq.out.mu!, seq.out.logSigma!, seq.out.w]);
  for (const g of grads) assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  const [gq, gmu, gls, gw] = grads.map((g) => g.arraySync() as number[][] | number[][][]);
  for (const k of [0, 1]) {
    assert.ok((gq[0][k] as number[]).every((x) => x === 0), `dQ at prompt ${k}`);
    assert.equal(gmu[0][k], 0);
    assert.equal(gls[0][k], 0);
    assert.equal(gw[0][k], 0);
  }
});
