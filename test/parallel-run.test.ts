/**
 * A whole run with `train.workers: 2` (src/core/train/parallel.ts through the trainer): the
 * same seed gives the same metrics, the first step matches the single-process run to float
 * rounding, and a stopped run resumes to exactly the uninterrupted result. (A worker thread left
 * running after its run would keep this test process from exiting.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { MetricRecord } from '../src/protocol/events.js';
import { initBackend } from '../src/core/engine/backend.js';
import { DEFAULT_DATA, DEFAULT_EVAL, DEFAULT_MODEL, DEFAULT_OBJECTIVE, DEFAULT_TOKENIZER, DEFAULT_TRAIN, type RunConfig } from '../src/core/experiment/config.js';
import { trainRun } from '../src/core/train/trainer.js';

const engine = await initBackend('cpu', () => {});
const root = mkdtempSync(join(tmpdir(), 'ava-parallel-'));

function runConfig(workers: number): RunConfig {
  return {
    name: 'parallel',
    variant: '',
    seed: 4,
    recipe: 'paper',
    engine: { backend: 'cpu' },
    data: { ...DEFAULT_DATA, task: 'helpful', task_options: { ...DEFAULT_DATA.task_options, n_train: 48, n_eval: 8, seed: 3 } },
    tokenizer: DEFAULT_TOKENIZER,
    model: { ...DEFAULT_MODEL, n_layer: 1, n_head: 2, d_model: 16, context: 48, pref_attn_dim: 16 },
    objective: { ...DEFAULT_OBJECTIVE, reduction: 'token_mean' },
    // An odd batch: the shards have 3 and 2 pairs.
    train: { ...DEFAULT_TRAIN, steps: 6, batch_size: 5, lr: 3e-3, warmup_steps: 1, log_every: 1, eval_every: 0, checkpoint_every: 0, workers },
    eval: { ...DEFAULT_EVAL, dump_token_rewards: 2 },
  };
}

/** Trains into `<root>/<name>`, stopping (as on SIGTERM) once `stopAfter` steps are done. */
async function train(name: string, workers: number, opts: { stopAfter?: number; resume?: boolean } = {}) {
  const controller = new AbortController();
  const runDir = join(root, name);
  const emit = (e: { type: string; step?: number }) => {
    if (e.type === 'progress' && e.step === opts.stopAfter) controller.abort();
  };
  mkdirSync(runDir, { recursive: true });
  return trainRun({ run: runConfig(workers), runDir, dataRoot: join(root, 'data'), engine, resume: opts.resume ?? false, hooks: { emit, log: () => {}, signal: controller.signal } });
}

/** The logged training values per step, without the wall-clock ones. */
function trainValues(name: string): Record<string, number>[] {
  return readFileSync(join(root, name, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricRecord)
    .filter((r) => r.phase === 'train')
    .map(({ values: { tokens_per_s: _t, ...rest } }) => rest);
}

test('two workers: the same seed gives the same metrics, and step 1 matches one process', async () => {
  const tensors = tf.memory().numTensors;
  assert.equal((await train('a', 2)).status, 'finished');
  assert.equal((await train('b', 2)).status, 'finished');
  await train('single', 1);
  assert.equal(tf.memory().numTensors, tensors, 'every tensor of the runs is released');
  const [a, b, single] = ['a', 'b', 'single'].map(trainValues);
  assert.equal(a.length, 6);
  assert.deepEqual(a, b);
  // Before any update both see the same weights and batch: the full-batch loss, terms and gradient norm.
  for (const key of ['loss', 'nll', 'neg', 'kl', 'td', 'cer', 'grad_norm']) {
    assert.ok(Math.abs(a[0][key] - single[0][key]) <= 1e-5 * Math.max(1, Math.abs(single[0][key])), `${key}: ${a[0][key]} (2 workers) vs ${single[0][key]} (1)`);
  }
});

test('two workers: a stopped run resumes to exactly the uninterrupted result', async () => {
  assert.equal((await train('stopped', 2, { stopAfter: 3 })).status, 'stopped');
  assert.equal((await train('stopped', 2, { resume: true })).status, 'finished');
  const straight = trainValues('a');
  const resumed = trainValues('stopped');
  assert.deepEqual(resumed.map(({ num_tensors: _n, ...v }) => v), straight.map(({ num_tensors: _n, ...v }) => v));
});
