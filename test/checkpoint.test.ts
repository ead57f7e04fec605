import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';
import { AdamW } from '../src/core/engine/optim.js';
import { AvaError } from '../src/core/errors.js';
import { DEFAULT_MODEL, type ModelConfig } from '../src/core/experiment/config.js';
import { CHECKPOINT_OPTIMIZER_META, CHECKPOINT_OPTIMIZER_STATE, loadCheckpoint, saveCheckpoint } from '../src/core/model/checkpoint.js';
import { TQR } from '../src/core/model/tqr.js';
import { headsFor } from '../src/core/objectives/table.js';
import { CHECKPOINT_META, CHECKPOINT_TOKENIZER, CHECKPOINT_WEIGHTS } from '../src/core/run/layout.js';

await initBackend('cpu', () => {});

const root = mkdtempSync(join(tmpdir(), 'ava-ckpt-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const CFG: ModelConfig = { ...DEFAULT_MODEL, n_layer: 1, n_head: 2, d_model: 8, context: 6, pref_attn_dim: 4, reward_head_arch: 'mlp' };
const V = 9;
const TOKENIZER = { kind: 'word', vocab: ['<bos>', 'a', 'b'] };
const batch = {
  ids: tf.tensor2d([[0, 1, 2, 3, 0], [0, 4, 5, 6, 7]], [2, 5], 'int32'),
  valid: tf.tensor2d([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]),
  resp: tf.tensor2d([[0, 0, 1, 1, 0], [0, 0, 1, 1, 1]]),
  lengths: [4, 5],
};

const newModel = (seed: number) => new TQR(CFG, V, { seed, heads: headsFor('ava-p', CFG) });

function outputs(m: TQR): number[][] {
  return tf.tidy(() => {
    const o = m.forward(batch, { logits: true, q: true, reward: true, weights: true });
    return [o.logits!, o.q!, o.mu!, o.logSigma!, o.w].map((t) => Array.from(t.dataSync()));
  });
}

let counter = 0;
async function saved(over: { optimizer?: AdamW } = {}): Promise<{ dir: string; model: TQR }> {
  const model = newModel(3);
  const dir = join(root, `ckpt-${counter++}`);
  await saveCheckpoint(dir, { weights: model.variables(), optimizer: over.optimizer?.getState(), meta: { step: 7, note: 'x' }, tokenizer: TOKENIZER });
  return { dir, model };
}

const isCheckpointError = (pattern: RegExp) => (e: unknown) => e instanceof AvaError && e.code === 'checkpoint' && pattern.test(e.message);

test('save → load round trip: a fresh model loaded from the checkpoint gives identical outputs', async () => {
  const { dir, model } = await saved();
  assert.deepEqual(readdirSync(dir).sort(), [CHECKPOINT_META, CHECKPOINT_TOKENIZER, CHECKPOINT_WEIGHTS].sort());
  const loaded = await loadCheckpoint(dir);
  assert.deepEqual(loaded.meta, { step: 7, note: 'x' });
  assert.deepEqual(loaded.tokenizer, TOKENIZER);
  assert.equal(loaded.optimizer, undefined);
  const other = newModel(4);
  assert.notDeepEqual(outputs(other), outputs(model));
  other.loadWeights(loaded.weights);
  assert.deepEqual(outputs(other), outputs(model));
  const bytes = readFileSync(join(dir, CHECKPOINT_WEIGHTS)).byteLength;
  const values = [...model.variables().values()].reduce((n, v) => n + v.size, 0);
  assert.equal(bytes, 4 * values, 'float32, no padding');
  tf.dispose([...loaded.weights.values()]);
  [model, other].forEach((m) => m.dispose());
});

test('optimizer state round trip, and saving over an existing checkpoint replaces it', async () => {
  const model = newModel(3);
  const opt = new AdamW(model.variables(), { lr: 1e-2, beta1: 0.9, beta2: 0.99, weightDecay: 0.1, gradClip: 1, warmupSteps: 0, totalSteps: 10, schedule: 'constant' });
  for (let i = 0; i < 2; i++) {
    tf.tidy(() => {
      opt.applyGradients(tf.variableGrads(() => tf.mean(model.forward(batch, { reward: true }).mu!) as tf.Scalar).grads);
    });
  }
  const dir = join(root, 'with-optimizer');
  await saveCheckpoint(dir, { weights: model.variables(), meta: { step: 1 }, tokenizer: TOKENIZER });
  await saveCheckpoint(dir, { weights: model.variables(), optimizer: opt.getState(), meta: { step: 2 }, tokenizer: TOKENIZER });
  assert.ok(readdirSync(dir).includes(CHECKPOINT_OPTIMIZER_STATE), 'optimizer.bin written');
  assert.deepEqual(readdirSync(root).filter((f) => f.includes('.tmp-') || f.includes('.old-')), [], 'no temporary directories left');
  const loaded = await loadCheckpoint(dir);
  assert.deepEqual(loaded.meta, { step: 2 });
  assert.deepEqual(loaded.optimizer, opt.getState());
  tf.dispose([...loaded.weights.values()]);
  opt.dispose();
  model.dispose();
});

test('missing directory or files are clear checkpoint errors', async () => {
  await assert.rejects(loadCheckpoint(join(root, 'nope')), isCheckpointError(/no checkpoint directory/));
  for (const file of [CHECKPOINT_META, CHECKPOINT_WEIGHTS, CHECKPOINT_TOKENIZER]) {
    const { dir, model } = await saved();
    rmSync(join(dir, file));
    await assert.rejects(loadCheckpoint(dir), (e: unknown) => isCheckpointError(/missing checkpoint file/)(e) && (e as AvaError).where.file === join(dir, file));
    model.dispose();
  }
});

test('corrupt files are clear checkpoint errors', async () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['truncated weights', (d) => truncateSync(join(d, CHECKPOINT_WEIGHTS), 12), /has 12 bytes but its metadata says/],
    ['bad JSON', (d) => writeFileSync(join(d, CHECKPOINT_META), '{"format": '), /invalid JSON/],
    ['not ours', (d) => writeFileSync(join(d, CHECKPOINT_META), '{"format": "other"}'), /not an AVA Lab checkpoint/],
    [
      'entry out of range',
      (d) => {
        const meta = JSON.parse(readFileSync(join(d, CHECKPOINT_META), 'utf8'));
        meta.tensors[0].shape = [9999, 8];
        meta.tensors[0].length = 9999 * 8;
        writeFileSync(join(d, CHECKPOINT_META), JSON.stringify(meta));
      },
      /bad tensor entry/,
    ],
    ['optimizer bin missing', (d) => writeFileSync(join(d, CHECKPOINT_OPTIMIZER_META), JSON.stringify({ step: 1, byteLength: 0, m: [], v: [] })), /missing checkpoint file .*optimizer\.bin/],
  ];
  for (const [what, damage, pattern] of cases) {
    const { dir, model } = await saved();
    damage(dir);
    await assert.rejects(loadCheckpoint(dir), isCheckpointError(pattern), what);
    model.dispose();
  }
});

test('weights of another model shape are rejected by loadWeights', async () => {
  const { dir, model } = await saved();
  const loaded = await loadCheckpoint(dir);
  const wider = new TQR({ ...CFG, d_model: 12 }, V, { seed: 1, heads: headsFor('ava-p', CFG) });
  assert.throws(() => wider.loadWeights(loaded.weights), isCheckpointError(/do not match the model/));
  tf.dispose([...loaded.weights.values()]);
  [model, wider].forEach((m) => m.dispose());
});
