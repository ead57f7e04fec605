import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';
import { AdamW } from '../src/core/engine/optim.js';
import { AvaError } from '../src/core/errors.js';
import { DEFAULT_MODEL, type ModelConfig } from '../src/core/experiment/config.js';
import type { SeqBatch } from '../src/core/data/types.js';
import { TQR, type HeadSet } from '../src/core/model/tqr.js';
import { headsFor } from '../src/core/objectives/table.js';
import type { ForwardRequest, TQROutputs } from '../src/core/model/types.js';

await initBackend('cpu', () => {});

const V = 11;
const TINY: ModelConfig = { ...DEFAULT_MODEL, n_layer: 2, n_head: 2, d_model: 16, context: 8, pref_attn_dim: 8 };
const ALL: ForwardRequest = { logits: true, q: true, reward: true, weights: true, value: true };
const ALL_HEADS: HeadSet = { q: true, reward: true, weights: true, value: true };

function model(over: Partial<ModelConfig> = {}, seed = 1, heads: HeadSet = ALL_HEADS): TQR {
  return new TQR({ ...TINY, ...over }, V, { seed, heads });
}

/** Right-padded batch from id lists; the first `promptLen[b]` tokens are the prompt. */
function batchOf(seqs: number[][], promptLen: number[], T = Math.max(...seqs.map((s) => s.length))): SeqBatch {
  const pad = (row: number[]) => [...row, ...new Array(T - row.length).fill(0)];
  return {
    ids: tf.tensor2d(seqs.map(pad), [seqs.length, T], 'int32'),
    valid: tf.tensor2d(seqs.map((s) => pad(s.map(() => 1))), [seqs.length, T]),
    resp: tf.tensor2d(seqs.map((s, b) => pad(s.map((_, j) => (j >= promptLen[b] ? 1 : 0)))), [seqs.length, T]),
    lengths: seqs.map((s) => s.length),
  };
}

const A = [0, 3, 4, 5];
const LONG = [0, 1, 2, 3, 4, 5, 6, 7];
const batch = batchOf([A, LONG], [2, 3]);

function run(m: TQR, b: SeqBatch = batch, req: ForwardRequest = ALL): Record<string, number[]> {
  const o = m.forward(b, req);
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(o) as [string, tf.Tensor | null][]) if (t) out[k] = Array.from(t.dataSync());
  tf.dispose(Object.values(o).filter((t) => t !== null) as tf.Tensor[]);
  return out;
}

function assertSumsToOne(w: number[]) {
  const total = w.reduce((s, x) => s + x, 0);
  assert.ok(Math.abs(total - 1) < 1e-5, `weights sum to ${total}, not 1`);
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number) {
  const d = maxAbsDiff(a, b);
  assert.ok(d < tol, `max |difference| ${d} ≥ ${tol}`);
}

function assertDiffer(a: ArrayLike<number>, b: ArrayLike<number>, tol: number) {
  const d = maxAbsDiff(a, b);
  assert.ok(d > tol, `max |difference| ${d} ≤ ${tol}: the switch changed nothing`);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Gradients of f(outputs) w.r.t. the named variables, as plain arrays. */
function gradsOf(m: TQR, f: (o: TQROutputs) => tf.Scalar, names: string[], b: SeqBatch = batch, req: ForwardRequest = ALL): Record<string, number[]> {
  const vars = m.variables();
  const { value, grads } = tf.variableGrads(() => f(m.forward(b, req)), names.map((n) => vars.get(n)!));
  const out = Object.fromEntries(names.map((n) => [n, Array.from(grads[vars.get(n)!.name].dataSync())]));
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

test('headsFor: AVA has Q + reward (+ weights with rwt), BT value, PT value + weights, SFT/DPO none', () => {
  assert.deepEqual(headsFor('ava-p', TINY), { q: true, reward: true, weights: true, value: false });
  assert.deepEqual(headsFor('ava-d', { ...TINY, use_reward_weights: false }), { q: true, reward: true, weights: false, value: false });
  assert.deepEqual(headsFor('bt', TINY), { q: false, reward: false, weights: false, value: true });
  assert.deepEqual(headsFor('pt', TINY), { q: false, reward: false, weights: true, value: true });
  assert.deepEqual(headsFor('sft', TINY), { q: false, reward: false, weights: false, value: false });
  assert.deepEqual(headsFor('dpo', TINY), { q: false, reward: false, weights: false, value: false });
});

test('variables carry GPT-2 names and shapes (Conv1D [in,out] layout) plus the head names', () => {
  const m = model({ q_head: 'fresh', reward_head_arch: 'mlp' });
  const shapes = Object.fromEntries([...m.variables()].map(([n, v]) => [n, v.shape]));
  assert.deepEqual(shapes['wte.weight'], [V, 16]);
  assert.deepEqual(shapes['wpe.weight'], [8, 16]);
  assert.deepEqual(shapes['h.1.attn.c_attn.weight'], [16, 48]);
  assert.deepEqual(shapes['h.0.mlp.c_fc.weight'], [16, 64]);
  assert.deepEqual(shapes['h.0.mlp.c_proj.weight'], [64, 16]);
  assert.deepEqual(shapes['ln_f.bias'], [16]);
  assert.deepEqual(shapes['q_head.weight'], [16, V]);
  assert.deepEqual(shapes['reward_head.fc.weight'], [16, 16]);
  assert.deepEqual(shapes['reward_head.proj.weight'], [16, 2]);
  assert.deepEqual(shapes['reward_attn.qk.weight'], [16, 16]);
  assert.deepEqual(shapes['value_head.weight'], [16, 1]);
  assert.equal(shapes['lm_head.weight'], undefined, 'the LM head is tied to wte');
  const sft = model({}, 1, headsFor('sft', TINY));
  assert.ok([...sft.variables().keys()].every((n) => /^(wte|wpe|h\.\d+|ln_f)\./.test(n)), 'an SFT model is the bare GPT');
  m.dispose();
  sft.dispose();
});

test('same seed gives identical weights and outputs; another seed differs', () => {
  const [a, b, c] = [model({}, 7), model({}, 7), model({}, 8)];
  const [ra, rb, rc] = [run(a), run(b), run(c)];
  for (const k of Object.keys(ra)) assert.deepEqual(ra[k], rb[k], k);
  assertDiffer(ra.logits, rc.logits, 1e-4);
  [a, b, c].forEach((m) => m.dispose());
});

test('output shapes; ptq Q = log_softmax(α·softmax(z)); w sums to 1 over valid tokens', () => {
  const m = model({ alpha: 2 });
  const o = m.forward(batch, ALL);
  assert.deepEqual(o.logits!.shape, [2, 8, V]);
  assert.deepEqual(o.q!.shape, [2, 8, V]);
  assert.deepEqual(o.mu!.shape, [2, 8]);
  assert.deepEqual(o.logSigma!.shape, [2, 8]);
  assert.deepEqual(o.value!.shape, [2, 8]);
  assert.deepEqual(o.h.shape, [2, 8, 16]);
  const expectQ = tf.logSoftmax(tf.mul(tf.softmax(o.logits!), 2));
  assertClose(o.q!.dataSync(), expectQ.dataSync(), 1e-6);
  const w = o.w.arraySync();
  assertSumsToOne(w[0]);
  assert.deepEqual(w[0].slice(4), [0, 0, 0, 0]);
  assertSumsToOne(w[1]);
  tf.dispose([expectQ, ...(Object.values(o).filter((t) => t) as tf.Tensor[])]);
  m.dispose();
});

test('requests: only asked-for heads are returned; w = valid when weights are off or not requested', () => {
  const m = model({}, 1, headsFor('ava-d', { ...TINY, use_reward_weights: false }));
  const o = run(m, batch, { q: true, reward: true, weights: true });
  assert.equal(o.logits, undefined);
  assert.equal(o.value, undefined);
  assert.deepEqual(o.w, Array.from(batch.valid.dataSync()));
  assert.throws(() => m.forward(batch, { value: true }), /value/);
  const on = model();
  assert.deepEqual(run(on, batch, { reward: true }).w, Array.from(batch.valid.dataSync()));
  m.dispose();
  on.dispose();
});

test('finite differences agree with the gradient of Σ μ·c1 + Σ z·c2 + Σ logσ·c3 + Σ w·c4 + Σ Q·c5', () => {
  const m = model({ alpha: 3 });
  // Larger weights than the 0.02 init so that every path carries a visible gradient.
  for (const v of m.variables().values()) if (v.rank === 2) v.assign(tf.tidy(() => tf.mul(v, 10)));
  const c = [1, 2, 3, 4, 5].map((k) => tf.randomNormal([2, 8, ...(k === 2 || k === 5 ? [V] : [])], 0, 1, 'float32', k));
  const f = (o: TQROutputs) =>
    tf.addN([tf.sum(tf.mul(o.mu!, c[0])), tf.sum(tf.mul(o.logits!, c[1])), tf.sum(tf.mul(o.logSigma!, c[2])), tf.sum(tf.mul(o.w, c[3])), tf.sum(tf.mul(o.q!, c[4]))]) as tf.Scalar;
  const probes: [string, number][] = [
    ['wte.weight', 3 * 16 + 5],
    ['wpe.weight', 2 * 16 + 1],
    ['h.0.attn.c_attn.weight', 7 * 48 + 20],
    ['h.1.attn.c_attn.weight', 2 * 48 + 3],
    ['h.0.mlp.c_fc.weight', 5 * 64 + 9],
    ['h.1.ln_1.weight', 4],
    ['ln_f.bias', 6],
    ['reward_head.weight', 9 * 2 + 1],
    ['reward_attn.qk.weight', 3 * 16 + 2],
  ];
  const analytic = gradsOf(m, f, [...new Set(probes.map(([n]) => n))]);
  const vars = m.variables();
  const evalF = () => tf.tidy(() => f(m.forward(batch, ALL)).dataSync()[0]);
  const eps = 1e-2;
  for (const [name, idx] of probes) {
    const v = vars.get(name)!;
    const base = v.dataSync().slice();
    const at = (delta: number) => {
      const x = base.slice();
      x[idx] += delta;
      v.assign(tf.tensor(x, v.shape));
      return evalF();
    };
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    v.assign(tf.tensor(base, v.shape));
    const an = analytic[name][idx];
    assert.ok(Math.abs(fd - an) <= 2e-3 + 2e-2 * Math.abs(an), `${name}[${idx}]: finite difference ${fd} vs gradient ${an}`);
    assert.ok(Math.abs(an) > 1e-3, `${name}[${idx}]: gradient ${an} too small to test anything`);
  }
  tf.dispose(c);
  m.dispose();
});

test('reward_weight_grad = stop: no gradient reaches the weight attention through w; full: it does', () => {
  const sumW = (o: TQROutputs) => tf.sum(tf.mul(o.w, tf.reshape(tf.range(0, 16), [2, 8]))) as tf.Scalar;
  const req = { weights: true };
  const full = gradsOf(model(), sumW, ['reward_attn.qk.weight'], batch, req)['reward_attn.qk.weight'];
  const stop = gradsOf(model({ reward_weight_grad: 'stop' }), sumW, ['reward_attn.qk.weight', 'h.0.attn.c_attn.weight'], batch, req);
  assert.ok(Math.max(...full.map(Math.abs)) > 1e-6, 'full: w trains the weight attention');
  assert.ok(stop['reward_attn.qk.weight'].every((g) => g === 0), 'stop: no gradient into reward_attn');
  assert.ok(stop['h.0.attn.c_attn.weight'].every((g) => g === 0), 'stop: no gradient into the backbone through w');
});

test('reward_weight_scope = response_tokens: w = 0 on prompt positions and sums to 1 over the response', () => {
  const w = run(model({ reward_weight_scope: 'response_tokens' }), batch, { weights: true }).w;
  assert.deepEqual(w.slice(0, 2), [0, 0]);
  assert.deepEqual(w.slice(8, 11), [0, 0, 0]);
  assertSumsToOne(w.slice(2, 8));
  assertSumsToOne(w.slice(11));
});

test('reward_weight_causal, reward_weight_scale and reward_weight_source each change w', () => {
  const w = (over: Partial<ModelConfig>) => {
    const m = model(over);
    // Larger projections so that the attention is far from uniform.
    for (const v of m.variables().values()) if (v.rank === 2) v.assign(tf.tidy(() => tf.mul(v, 20)));
    const out = run(m, batch, { weights: true }).w;
    m.dispose();
    return out;
  };
  const base = w({});
  assertDiffer(base, w({ reward_weight_causal: true }), 1e-3);
  assertDiffer(base, w({ reward_weight_scale: 'none' }), 1e-3);
  const backbone = w({ reward_weight_source: 'backbone_last_layer' });
  assertDiffer(base, backbone, 1e-3);
  assertSumsToOne(backbone.slice(0, 8));
  // Causal attention: the first token collects attention from every query.
  assert.ok(backbone[0] > backbone[3], 'causal attention: every query sees the first token');
  const m = model({ reward_weight_source: 'backbone_last_layer' });
  assert.ok(![...m.variables().keys()].some((n) => n.startsWith('reward_attn')), 'no dedicated attention parameters');
  m.dispose();
});

test('q_head = fresh is a Dense H→V independent of the LM head; ptq_input and alpha change Q', () => {
  const fresh = model({ q_head: 'fresh', fresh_q_head_init_std: 0.5 });
  const o = run(fresh);
  const h = tf.tensor3d(o.h, [2, 8, 16]);
  const vars = fresh.variables();
  const expect = tf.add(tf.matMul(tf.reshape(h, [16, 16]), vars.get('q_head.weight')!), vars.get('q_head.bias')!);
  assertClose(o.q, expect.dataSync(), 1e-5);
  const std = Math.sqrt(tf.moments(vars.get('q_head.weight')!).variance.dataSync()[0]);
  assert.ok(std > 0.4 && std < 0.6, `fresh init std ${std}`);
  const q = (over: Partial<ModelConfig>) => run(model(over), batch, { q: true }).q;
  assertDiffer(q({}), q({ ptq_input: 'logits' }), 1e-3);
  assertDiffer(q({}), q({ alpha: 3 }), 1e-3);
  tf.dispose([h, expect]);
  fresh.dispose();
});

test('reward head: linear vs mlp, σ parameterisation and clamp', () => {
  const lin = run(model(), batch, { reward: true });
  const mlp = run(model({ reward_head_arch: 'mlp' }), batch, { reward: true });
  assertDiffer(lin.mu, mlp.mu, 1e-4);
  const soft = run(model({ sigma_param: 'softplus' }), batch, { reward: true });
  assert.deepEqual(soft.mu, lin.mu);
  assertDiffer(soft.logSigma, lin.logSigma, 1e-2);
  const m = model({ log_sigma_min: -0.001, log_sigma_max: 0.001 });
  m.variables().get('reward_head.bias')!.assign(tf.tensor1d([0, 5]));
  assert.ok(run(m, batch, { reward: true }).logSigma.every((s) => s === Math.fround(0.001)), 'log σ clamped at log_sigma_max');
});

test('padding invariance: a sequence gives the same outputs alone and batched with a longer one', () => {
  for (const over of [{}, { reward_weight_source: 'backbone_last_layer' as const }, { reward_weight_causal: true }, { reward_weight_scope: 'response_tokens' as const }]) {
    const m = model(over);
    const alone = run(m, batchOf([A], [2]));
    const both = run(m, batch);
    const T = 8;
    const sizes: Record<string, number> = { h: 16, logits: V, q: V, mu: 1, logSigma: 1, w: 1, value: 1 };
    for (const [k, size] of Object.entries(sizes)) {
      const firstRowValid = both[k].slice(0, A.length * size);
      assert.ok(maxAbsDiff(alone[k], firstRowValid) < 1e-5, `${k} with ${JSON.stringify(over)}`);
      assert.deepEqual(both[k].length, 2 * T * size);
    }
    m.dispose();
  }
});

test('dropout: only in training, seeded per call, identical across same-seed models', () => {
  const [a, b] = [model({ dropout: 0.3 }, 3), model({ dropout: 0.3 }, 3)];
  const evalA = run(a, batch, { logits: true }).logits;
  assert.deepEqual(run(a, batch, { logits: true }).logits, evalA);
  const t1 = run(a, batch, { logits: true, training: true }).logits;
  const t2 = run(a, batch, { logits: true, training: true }).logits;
  assertDiffer(t1, evalA, 1e-4);
  assertDiffer(t1, t2, 1e-4);
  assert.deepEqual(run(b, batch, { logits: true, training: true }).logits, t1);
  a.dispose();
  b.dispose();
});

test('a batch longer than model.context is an AvaError', () => {
  const m = model();
  assert.throws(() => m.forward(batchOf([[0, 1, 2, 3, 4, 5, 6, 7, 8]], [1]), ALL), (e: unknown) => e instanceof AvaError && e.code === 'data');
  m.dispose();
});

test('loadWeights: strict checks names and shapes and changes nothing on failure; non-strict loads a backbone', () => {
  const src = model({}, 5, headsFor('sft', TINY));
  const dst = model({}, 6);
  const before = run(dst).logits;
  assert.throws(() => dst.loadWeights(src.variables()), (e: unknown) => e instanceof AvaError && e.code === 'checkpoint' && /missing weight reward_head/.test(e.details.join('\n')));
  assert.deepEqual(run(dst).logits, before);
  const wrong = new Map<string, tf.Tensor>([['wte.weight', tf.zeros([V + 1, 16])]]);
  assert.throws(() => dst.loadWeights(wrong, { strict: false }), /shape/);
  dst.loadWeights(src.variables(), { strict: false });
  assert.deepEqual(run(dst, batch, { logits: true }).logits, run(src, batch, { logits: true }).logits);
  src.dispose();
  dst.dispose();
  wrong.get('wte.weight')!.dispose();
});

test('memory: 30 training steps (variableGrads + AdamW inside tidy) keep the tensor count flat', () => {
  const m = model({ dropout: 0.1 });
  const opt = new AdamW(m.variables(), { lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0.01, gradClip: 1, warmupSteps: 3, totalSteps: 30, schedule: 'cosine' });
  const counts: number[] = [];
  for (let step = 0; step < 30; step++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const o = m.forward(batch, { q: true, reward: true, weights: true, value: true, training: true });
        return tf.addN([tf.mean(tf.mul(o.mu!, o.w)), tf.mean(o.q!), tf.mean(tf.exp(o.logSigma!)), tf.mean(o.value!)]) as tf.Scalar;
      });
      opt.applyGradients(grads);
    });
    counts.push(tf.memory().numTensors);
  }
  assert.equal(opt.step, 30);
  assert.equal(counts[29], counts[1], `tensor counts ${counts.join(',')}`);
  opt.dispose();
  m.dispose();
});
