import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';
import { DEFAULT_MODEL, type ModelConfig } from '../src/core/experiment/config.js';
import { buildTokenizer } from '../src/core/data/tokenizer.js';
import { collateSeqs } from '../src/core/data/batch.js';
import { disposeCache, TQR } from '../src/core/model/tqr.js';
import { drawToken, logSoftmax, samplingDistribution, samplingProblem } from '../src/core/generate/sampling.js';
import { generate, type GenerateOptions } from '../src/core/generate/generate.js';

await initBackend('cpu', () => {});

const tok = buildTokenizer({ kind: 'word', lowercase: true, remap_to_data: false }, ['a b c d e f g h i j k l']);
const TINY: ModelConfig = { ...DEFAULT_MODEL, n_layer: 2, n_head: 2, d_model: 16, context: 12, pref_attn_dim: 8 };
const HEADS = { q: false, reward: false, weights: false, value: false };
const OPTS: GenerateOptions = { temperature: 1, topK: 0, topP: 1, maxNewTokens: 6, seed: 3, policy: 'lm', beta: 1, batchSize: 8, useCache: true };

function model(over: Partial<ModelConfig> = {}, seed = 1): TQR {
  // Larger init than GPT-2's so a random model's next-token distribution is far from uniform.
  const m = new TQR({ ...TINY, ...over }, tok.vocabSize, { seed, heads: HEADS });
  for (const v of m.variables().values()) if (v.shape.length === 2) tf.tidy(() => v.assign(tf.mul(v, 25)));
  return m;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  const d = Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
  assert.ok(d < tol, `max |difference| ${d} ≥ ${tol}`);
};

// ---- sampling rules, against hand-computed values ----------------------------------------------

test('softmax with temperature: scores [2, 1, 0] at T = 1 and T = 0.5', () => {
  // e^2, e^1, e^0 = 7.389056, 2.718282, 1 (sum 11.107338) ⇒ 0.665241, 0.244728, 0.090031
  close(samplingDistribution([2, 1, 0], { temperature: 1, topK: 0, topP: 1 }), [0.665241, 0.244728, 0.090031], 1e-6);
  // T = 0.5: e^4, e^2, 1 = 54.59815, 7.389056, 1 (sum 62.987206) ⇒ 0.866813, 0.117310, 0.015876
  close(samplingDistribution([2, 1, 0], { temperature: 0.5, topK: 0, topP: 1 }), [0.866813, 0.11731, 0.015876], 1e-6);
});

test('temperature 0 is greedy; banned ids never get mass', () => {
  assert.deepEqual(Array.from(samplingDistribution([0.1, 3, 2], { temperature: 0, topK: 0, topP: 1 })), [0, 1, 0]);
  assert.deepEqual(Array.from(samplingDistribution([0.1, 3, 2], { temperature: 0, topK: 0, topP: 1 }, new Set([1]))), [0, 0, 1]);
  const p = samplingDistribution([5, 0, 0], { temperature: 1, topK: 0, topP: 1 }, new Set([0]));
  close(p, [0, 0.5, 0.5], 1e-12);
});

test('top-k keeps the k most probable (ties to the lower id) and renormalises', () => {
  // [2, 1, 1, 0], k = 2 ⇒ ids 0 and 1: e^2 / (e^2 + e) = 0.731059, 0.268941
  close(samplingDistribution([2, 1, 1, 0], { temperature: 1, topK: 2, topP: 1 }), [0.731059, 0.268941, 0, 0], 1e-6);
});

test('top-p keeps the smallest head of the distribution whose mass reaches p', () => {
  // probabilities 0.665241, 0.244728, 0.090031: p = 0.6 keeps one token, p = 0.7 two, p = 0.95 three
  assert.deepEqual(Array.from(samplingDistribution([2, 1, 0], { temperature: 1, topK: 0, topP: 0.6 })), [1, 0, 0]);
  close(samplingDistribution([2, 1, 0], { temperature: 1, topK: 0, topP: 0.7 }), [0.731059, 0.268941, 0], 1e-6);
  close(samplingDistribution([2, 1, 0], { temperature: 1, topK: 0, topP: 0.95 }), [0.665241, 0.244728, 0.090031], 1e-6);
  // top-k applies first: k = 1 wins over a generous p
  assert.deepEqual(Array.from(samplingDistribution([1, 2, 0], { temperature: 1, topK: 1, topP: 0.99 })), [0, 1, 0]);
});

test('drawToken inverts the CDF; logSoftmax; option checks', () => {
  const p = [0.2, 0, 0.5, 0.3];
  assert.deepEqual([0, 0.19, 0.2, 0.69, 0.7, 0.999999].map((u) => drawToken(p, u)), [0, 0, 2, 2, 3, 3]);
  close(logSoftmax([2, 1, 0]), [-0.407606, -1.407606, -2.407606], 1e-6);
  assert.match(samplingProblem({ temperature: -1, topK: 0, topP: 1 })!, /temperature/);
  assert.match(samplingProblem({ temperature: 1, topK: 1.5, topP: 1 })!, /top-k/);
  assert.match(samplingProblem({ temperature: 1, topK: 0, topP: 0 })!, /top-p/);
  assert.equal(samplingProblem({ temperature: 1, topK: 3, topP: 0.9 }), null);
});

// ---- the key/value cache -----------------------------------------------------------------------

test('cached decoding gives the full forward pass’s logits at every position, with padded prompts', () => {
  const m = model();
  const seqs = [
    [1, 5, 6, 7, 8, 9, 10],
    [1, 4, 11, 12, 5, 6, 7],
  ];
  const promptLens = [2, 4];
  // Reference: one full forward pass per sequence, logits at each position.
  const full = seqs.map((ids) => {
    const b = collateSeqs([{ ids, promptLen: 1 }]);
    const o = m.forward(b, { logits: true });
    const z = Array.from(o.logits!.dataSync());
    tf.dispose([b.ids, b.valid, b.resp, ...Object.values(o).filter((t): t is tf.Tensor => t !== null)]);
    return z;
  });
  const V = tok.vocabSize;
  const prompts = collateSeqs(seqs.map((s, b) => ({ ids: s.slice(0, promptLens[b]), promptLen: promptLens[b] })));
  let { cache, h } = m.prefill(prompts);
  tf.dispose([prompts.ids, prompts.valid, prompts.resp]);
  for (let step = 0; step < 3; step++) {
    const z = m.nextTokenScores(h, 'lm');
    const got = z.dataSync();
    seqs.forEach((_, b) => {
      const pos = promptLens[b] - 1 + step;
      close(got.subarray(b * V, (b + 1) * V), full[b].slice(pos * V, (pos + 1) * V), 1e-4);
    });
    tf.dispose([z, h]);
    const next = m.decodeStep(
      cache,
      seqs.map((s, b) => s[promptLens[b] + step]),
      promptLens.map((L) => L + step),
    );
    disposeCache(cache);
    ({ cache, h } = next);
  }
  disposeCache(cache);
  h.dispose();
  m.dispose();
});

test('generation: same samples with and without the cache, for any batch size; seeded', () => {
  const m = model();
  const prompts = [[5, 6], [7], [8, 9, 10, 11]];
  const base = generate(m, tok, prompts, 2, OPTS);
  assert.equal(base.length, 6);
  assert.deepEqual(base.map((g) => [g.prompt, g.sample]), [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]);
  const noCache = generate(m, tok, prompts, 2, { ...OPTS, useCache: false });
  const oneByOne = generate(m, tok, prompts, 2, { ...OPTS, batchSize: 1 });
  for (const other of [noCache, oneByOne]) {
    assert.deepEqual(other.map((g) => g.ids), base.map((g) => g.ids));
    base.forEach((g, i) => close(other[i].logp, g.logp, 1e-4));
  }
  const again = generate(m, tok, prompts, 2, OPTS);
  assert.deepEqual(again.map((g) => g.ids), base.map((g) => g.ids));
  const reseeded = generate(m, tok, prompts, 2, { ...OPTS, seed: 4 });
  assert.notDeepEqual(reseeded.map((g) => g.ids), base.map((g) => g.ids));
  // Two samples of one prompt are different draws.
  assert.notDeepEqual(base[0].ids, base[1].ids);
  for (const g of base) {
    assert.ok(!g.ids.some((id) => id === tok.pad || id === tok.bos || id === tok.unk || id === tok.eos), `special token in ${g.ids}`);
    assert.equal(g.logp.length, g.ids.length + (g.finish === 'eos' ? 1 : 0));
    assert.ok(g.logp.every((x) => x <= 0 && Number.isFinite(x)));
    if (g.finish === 'length') assert.equal(g.ids.length, OPTS.maxNewTokens);
  }
  m.dispose();
});

test('generation stops at model.context and left-truncates a prompt that leaves no room', () => {
  const m = model();
  const [fits, tooLong] = generate(m, tok, [[5, 6, 7, 8, 9, 10, 11, 12], Array.from({ length: 14 }, (_, i) => 4 + (i % 9))], 1, { ...OPTS, maxNewTokens: 50, temperature: 0 });
  // BOS + 8 prompt tokens leave 3 positions of the 12.
  assert.ok(fits.ids.length <= 3 && fits.promptTruncated === 0);
  if (fits.finish === 'length') assert.equal(fits.ids.length, 3);
  assert.equal(tooLong.promptTruncated, 15 - 11);
  assert.ok(tooLong.ids.length <= 1);
  m.dispose();
});

test('generation_policy q samples from β·Q, not from the LM logits; greedy is deterministic', () => {
  const m = new TQR({ ...TINY, q_head: 'fresh' }, tok.vocabSize, { seed: 2, heads: { ...HEADS, q: true } });
  for (const v of m.variables().values()) if (v.shape.length === 2) tf.tidy(() => v.assign(tf.mul(v, 25)));
  const prompts = [[5], [6, 7], [8]];
  const lm = generate(m, tok, prompts, 2, OPTS);
  const q = generate(m, tok, prompts, 2, { ...OPTS, policy: 'q' });
  assert.notDeepEqual(q.map((g) => g.ids), lm.map((g) => g.ids));
  const greedyA = generate(m, tok, prompts, 2, { ...OPTS, temperature: 0, seed: 1 });
  const greedyB = generate(m, tok, prompts, 2, { ...OPTS, temperature: 0, seed: 2 });
  assert.deepEqual(greedyA.map((g) => g.ids), greedyB.map((g) => g.ids));
  assert.deepEqual(greedyA[0].ids, greedyA[1].ids);
  m.dispose();
});

test('generation leaves no tensors behind', () => {
  const m = model();
  generate(m, tok, [[5, 6]], 1, OPTS); // warm-up (kernels, constants)
  const before = tf.memory().numTensors;
  generate(m, tok, [[5, 6], [7, 8, 9]], 3, OPTS);
  generate(m, tok, [[5, 6], [7, 8, 9]], 3, { ...OPTS, useCache: false });
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
});
