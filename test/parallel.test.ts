/**
 * Data parallelism (src/core/train/parallel.ts, src/core/objectives/shares.ts): a shard's loss is
 * its exact share of the full-batch loss, for every objective and reduction, so the shards'
 * gradients add up to the full-batch gradient; through real worker threads too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type EngineInfo } from '../src/core/engine/backend.js';
import { AdamW } from '../src/core/engine/optim.js';
import { DEFAULT_MODEL, DEFAULT_OBJECTIVE, DEFAULT_TRAIN, type ObjectiveConfig, type RunConfig } from '../src/core/experiment/config.js';
import { TQR } from '../src/core/model/tqr.js';
import { collatePairs, collateSeqs } from '../src/core/data/batch.js';
import type { EncodedSeq, PairBatch, SeqBatch } from '../src/core/data/types.js';
import { termShares } from '../src/core/objectives/shares.js';
import { headsFor, termCounts, type TermSource } from '../src/core/objectives/table.js';
import { DataParallel, phaseLoss, shardGradients, shardSizes } from '../src/core/train/parallel.js';
import type { Models } from '../src/core/objectives/models.js';

const engine: EngineInfo = await initBackend('cpu', () => {});
const VOCAB = 23;
const model = { ...DEFAULT_MODEL, n_layer: 1, n_head: 2, d_model: 16, context: 12, pref_attn_dim: 8 };

function runConfig(objective: Partial<ObjectiveConfig>, workers = 1): RunConfig {
  return { name: 't', variant: '', seed: 3, model, objective: { ...DEFAULT_OBJECTIVE, ...objective }, train: { ...DEFAULT_TRAIN, workers } } as RunConfig;
}

/** Five sequences of different lengths and prompt lengths (padding and masks differ per row). */
function sequences(offset: number): EncodedSeq[] {
  return [9, 12, 7, 11, 10].map((len, i) => ({ ids: [1, ...Array.from({ length: len - 1 }, (_, j) => 4 + ((i * 7 + j * 5 + offset) % (VOCAB - 4)))], promptLen: 2 + (i % 3) }));
}

function pairBatch(rows: number[]): PairBatch {
  const [c, r] = [sequences(0), sequences(3)];
  return collatePairs(rows.map((i) => ({ line: i + 1, chosen: c[i], rejected: r[i] })), 12);
}

function seqBatch(rows: number[]): SeqBatch {
  return collateSeqs(rows.map((i) => sequences(0)[i]), 12);
}

function modelsFor(run: RunConfig): Models {
  const heads = headsFor(run.objective.kind, model);
  const policy = new TQR(model, VOCAB, { seed: 1, heads });
  const reference = run.objective.kind === 'dpo' ? new TQR(model, VOCAB, { seed: 2, heads }) : null;
  return { policy, reference };
}

function dispose(models: Models, ...batches: (SeqBatch | PairBatch)[]): void {
  models.policy.dispose();
  models.reference?.dispose();
  for (const b of batches) tf.dispose('chosen' in b ? [b.chosen.ids, b.chosen.valid, b.chosen.resp, b.rejected.ids, b.rejected.valid, b.rejected.resp] : [b.ids, b.valid, b.resp]);
}

/** Largest |a − b| over all gradients, relative to the largest |a|. */
function relDiff(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), 'the same variables have gradients');
  return tf.tidy(() => {
    const diff = Math.max(...Object.keys(a).map((k) => tf.max(tf.abs(tf.sub(a[k], b[k]))).dataSync()[0]));
    const scale = Math.max(...Object.values(a).map((g) => tf.max(tf.abs(g)).dataSync()[0]));
    return diff / scale;
  });
}

function fullBatch(models: Models, batch: SeqBatch | PairBatch, run: RunConfig, phase: 'pretrain' | 'train') {
  const logged: Record<string, number> = {};
  const result = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const r = phaseLoss(phase, run)(models, batch);
      for (const [k, t] of Object.entries({ ...r.terms, ...r.diagnostics })) logged[k] = t.dataSync()[0];
      return r.loss;
    }, [...models.policy.variables().values()]);
    return { loss: value.dataSync()[0], grads };
  });
  return { ...result, logged };
}

test('shardSizes: contiguous, as even as possible, the first shards take the remainder', () => {
  assert.deepEqual(shardSizes(16, 2), [8, 8]);
  assert.deepEqual(shardSizes(5, 2), [3, 2]);
  assert.deepEqual(shardSizes(7, 3), [3, 2, 2]);
  assert.deepEqual(shardSizes(2, 3), [1, 1, 0]);
});

test('termShares: max(n_k,1)/max(N,1); shares of per-row terms are the row fractions', () => {
  const whole = { lm: 10, cer: 5 };
  assert.deepEqual(termShares({ lm: 4, cer: 3 }, whole), { lm: 0.4, cer: 0.6 });
  assert.deepEqual(termShares({ lm: 0, cer: 2 }, whole), { lm: 0.1, cer: 0.4 });
  assert.deepEqual(termShares({ lm: 0 }, { lm: 0 }), { lm: 1 });
});

const CASES: [string, Partial<ObjectiveConfig>, 'pretrain' | 'train'][] = [
  ['LM warm-start (token mean)', { kind: 'ava-p' }, 'pretrain'],
  ['SFT (token mean over the response)', { kind: 'sft' }, 'train'],
  ['AVA-d, seq_sum_batch_mean', { kind: 'ava-d' }, 'train'],
  ['AVA-d, token_mean', { kind: 'ava-d', reduction: 'token_mean' }, 'train'],
  ['AVA-p, seq_sum_batch_mean', { kind: 'ava-p' }, 'train'],
  ['AVA-p, token_mean, IRL terms on both', { kind: 'ava-p', reduction: 'token_mean', irl_terms_on: 'both' }, 'train'],
  ['AVA-p, seq_mean, log_sigmoid CER', { kind: 'ava-p', reduction: 'seq_mean', cer_form: 'log_sigmoid' }, 'train'],
  ['Bradley-Terry', { kind: 'bt' }, 'train'],
  ['Preference Transformer', { kind: 'pt' }, 'train'],
  ['DPO', { kind: 'dpo' }, 'train'],
];

test('for every objective and reduction, the shards of a batch (3 + 2 rows) add up to the full-batch loss, terms and gradient', () => {
  for (const [what, objective, phase] of CASES) {
    const run = runConfig(objective);
    const pairwise = phase === 'train' && ['ava-p', 'bt', 'pt', 'dpo'].includes(run.objective.kind);
    const make = (rows: number[]) => (pairwise ? pairBatch(rows) : seqBatch(rows));
    const models = modelsFor(run);
    const [whole, first, second] = [make([0, 1, 2, 3, 4]), make([0, 1, 2]), make([3, 4])];
    const source: TermSource = phase === 'pretrain' ? 'lm' : run.objective.kind;
    const counts = [first, second].map((b) => termCounts(source, b, run.model, run.objective));
    const total = termCounts(source, whole, run.model, run.objective);
    for (const term of Object.keys(total)) assert.equal(counts[0][term] + counts[1][term], total[term], `${what}: counts of ${term} add up`);
    const parts = [first, second].map((b, k) => shardGradients(models, b, phaseLoss(phase, run), termShares(counts[k], total)));
    const reference = fullBatch(models, whole, run, phase);
    const summed = tf.tidy(() => Object.fromEntries(Object.keys(parts[0].grads).map((name) => [models.policy.variables().get(name)!.name, tf.add(parts[0].grads[name], parts[1].grads[name])])));
    assert.ok(Math.abs(parts[0].values.loss + parts[1].values.loss - reference.loss) <= 1e-5 * Math.max(1, Math.abs(reference.loss)), `${what}: loss ${parts[0].values.loss + parts[1].values.loss} vs ${reference.loss}`);
    const diff = relDiff(reference.grads, summed);
    assert.ok(diff < 1e-5, `${what}: gradients differ by ${diff} (relative)`);
    // Every logged term and diagnostic (reward_margin, response_weight) adds up over the shards too.
    for (const [k, v] of Object.entries(reference.logged)) {
      const sum = parts[0].values[k] + parts[1].values[k];
      assert.ok(Math.abs(sum - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${what}: ${k} ${sum} vs ${v}`);
    }
    if (run.objective.kind === 'ava-p' && phase === 'train') assert.ok('reward_margin' in reference.logged, `${what}: AVA-p logs reward_margin`);
    tf.dispose([...parts.flatMap((p) => Object.values(p.grads)), ...Object.values(reference.grads), ...Object.values(summed)]);
    dispose(models, whole, first, second);
  }
});

test('two worker threads: the same loss, terms and gradient as one process (5 rows, uneven shards); the tensor count stays flat', async () => {
  const run = runConfig({ kind: 'ava-p', reduction: 'token_mean' }, 2);
  const models = modelsFor(run);
  const optimizer = new AdamW(models.policy.variables(), { lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0.01, gradClip: 1, warmupSteps: 0, totalSteps: 10, schedule: 'constant' });
  const parallel = await DataParallel.start({ run, vocabSize: VOCAB, engine, models, optimizer });
  const batch = pairBatch([0, 1, 2, 3, 4]);
  try {
    const reference = fullBatch(models, batch, run, 'train');
    const { values, grads } = await parallel.gradients(batch, 'train');
    assert.ok(Math.abs(values.loss - reference.loss) < 1e-5 * Math.abs(reference.loss), `loss ${values.loss} vs ${reference.loss}`);
    assert.ok(relDiff(reference.grads, grads) < 1e-5);
    tf.dispose([...Object.values(grads), ...Object.values(reference.grads)]);
    // Steps update the main model; the worker copies the new weights before its next shard.
    await parallel.step(batch, 'train');
    const before = tf.memory().numTensors;
    const second = await parallel.step(batch, 'train');
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks across steps');
    const after = fullBatch(models, batch, run, 'train');
    const next = await parallel.gradients(batch, 'train');
    assert.ok(Math.abs(next.values.loss - after.loss) < 1e-5 * Math.abs(after.loss), 'the worker follows the updated weights');
    assert.ok(relDiff(after.grads, next.grads) < 1e-5);
    assert.ok(Number.isFinite(second.grad_norm) && second.lr === 1e-3);
    tf.dispose([...Object.values(next.grads), ...Object.values(after.grads)]);
  } finally {
    parallel.dispose();
    optimizer.dispose();
    dispose(models, batch);
  }
  await assert.rejects(parallel.step(pairBatch([0, 1]), 'train'), /worker threads were stopped/);
});

test('a worker that fails to start fails with a clear error naming it', async () => {
  const run = runConfig({ kind: 'ava-p' }, 2);
  // The main model is built with other heads than run.objective implies: the replica cannot match it.
  const policy = new TQR(model, VOCAB, { seed: 1, heads: headsFor('bt', model) });
  const optimizer = new AdamW(policy.variables(), { lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0, gradClip: 0, warmupSteps: 0, totalSteps: 1, schedule: 'constant' });
  try {
    await assert.rejects(DataParallel.start({ run, vocabSize: VOCAB, engine, models: { policy, reference: null }, optimizer }), (e: Error) => e.name === 'AvaError' && /data-parallel worker 1 of 1 crashed: replica parameters differ/.test(e.message));
  } finally {
    optimizer.dispose();
    policy.dispose();
  }
});
