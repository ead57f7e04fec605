/**
 * PPO (src/core/rl): GAE, the per-token rewards, whitening, the adaptive KL controller and the
 * clipped losses against hand-computed values; the losses' gradients against finite
 * differences; and a short PPO run on the `harmless` task with the gold reward as reward model
 * raises the gold of held-out answers on every seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/core/engine/backend.js';
import { DEFAULT_DATA, DEFAULT_EVAL, DEFAULT_MODEL, DEFAULT_OBJECTIVE, DEFAULT_PPO, DEFAULT_TOKENIZER, DEFAULT_TRAIN, type RunConfig } from '../src/core/experiment/config.js';
import { gae, KlController, ppoLosses, tokenRewards, whiten } from '../src/core/rl/ppo.js';
import { trainPpo } from '../src/core/rl/trainPpo.js';
import { trainRun } from '../src/core/train/trainer.js';
import { loadTrainedRun } from '../src/core/eval/trained.js';
import { generate } from '../src/core/generate/generate.js';
import { goldReward } from '../src/core/eval/judges.js';
import { TASKS } from '../src/core/tasks/index.js';
import { dataFilesFor } from '../src/core/train/data.js';
import type { TQR } from '../src/core/model/tqr.js';
import type { Tokenizer } from '../src/core/data/tokenizer.js';

const engine = await initBackend('wasm', () => {});
const near = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('GAE, per-token rewards and whitening against hand values', () => {
  // rewards [1, 0, 2], values [0.5, 1, 0.5], γ = 1, λ = 0.5:
  // δ2 = 2 − 0.5 = 1.5; δ1 = 0 + 0.5 − 1 = −0.5; δ0 = 1 + 1 − 0.5 = 1.5
  // A2 = 1.5; A1 = −0.5 + 0.5·1.5 = 0.25; A0 = 1.5 + 0.5·0.25 = 1.625; R = A + V
  const g = gae([1, 0, 2], [0.5, 1, 0.5], 1, 0.5);
  g.advantages.forEach((a, i) => near(a, [1.625, 0.25, 1.5][i]));
  g.returns.forEach((r, i) => near(r, [2.125, 1.25, 2][i]));
  // γ = 0.5, λ = 1: A2 = 1.5; A1 = (0 + 0.25 − 1) + 0.5·1.5 = 0; A0 = (1 + 0.5 − 0.5) + 0.5·0 = 1
  gae([1, 0, 2], [0.5, 1, 0.5], 0.5, 1).advantages.forEach((a, i) => near(a, [1, 0, 1.5][i]));
  const r = tokenRewards([0.5, -0.1], 2, 0.2);
  near(r[0], -0.1);
  near(r[1], 2.02);
  // dense (spec §8 #26): a reward per token instead of the score at the last one
  const d = tokenRewards([0.5, -0.1], [1, 3], 0.2);
  near(d[0], 0.9);
  near(d[1], 3.02);
  assert.throws(() => tokenRewards([0.5, -0.1], [1], 0.2), /1 values for 2 tokens/);
  whiten([1, 2, 3]).forEach((x, i) => near(x, [-1.224745, 0, 1.224745][i]));
});

test('adaptive KL controller: clipped proportional error over the horizon; fixed when off', () => {
  const kl = new KlController(0.2, { target: 6, horizon: 10000 });
  kl.update(12, 32); // error clipped to 0.2: ×(1 + 0.2·32/10000)
  near(kl.value, 0.2 * 1.00064, 1e-12);
  kl.update(5.7, 100); // error −0.05: ×(1 − 0.05·100/10000)
  near(kl.value, 0.2 * 1.00064 * 0.9995, 1e-12);
  const fixed = new KlController(0.2, null);
  fixed.update(100, 32);
  assert.equal(fixed.value, 0.2);
});

const inputs = () => ({
  logp: tf.tensor2d([[Math.log(1.5), Math.log(0.5), 0]]),
  oldLogp: tf.tensor2d([[0, 0, 0]]),
  values: tf.tensor2d([[1, 0, 0]]),
  oldValues: tf.tensor2d([[0.5, 0.1, 0]]),
  advantages: tf.tensor2d([[1, 1, 5]]),
  returns: tf.tensor2d([[2, 0, 0]]),
  mask: tf.tensor2d([[1, 1, 0]]),
});
const COEF = { cliprange: 0.2, cliprange_value: 0.2, vf_coef: 0.1 };

test('clipped policy and value losses on a fixed batch, against hand values', () => {
  const l = ppoLosses(inputs(), COEF);
  // ratio 1.5, 0.5 (third token masked): −A·ratio = −1.5, −0.5; clipped −1.2, −0.8 ⇒ max −1.2, −0.5
  near(l.policy.dataSync()[0], -0.85);
  near(l.clipfrac.dataSync()[0], 0.5);
  // V_clip = 0.5 + 0.2 = 0.7, 0.1 − 0.1 = 0 ⇒ max((1−2)², (0.7−2)²) = 1.69 and 0 ⇒ ½·(1.69 + 0)/2
  near(l.value.dataSync()[0], 0.4225);
  near(l.valueClipfrac.dataSync()[0], 0.5);
  near(l.loss.dataSync()[0], -0.85 + 0.1 * 0.4225);
  // ½·mean((ln 1.5)², (ln 0.5)²) = ¼·(0.164402 + 0.480453)
  near(l.approxKl.dataSync()[0], 0.161214);
});

test('the PPO loss gradient matches finite differences (log π and V, away from the clip kinks)', () => {
  const base = inputs();
  const logp0 = [Math.log(1.1), Math.log(0.95), 0];
  const values0 = [0.6, 0.05, 0];
  const loss = (logp: number[], values: number[]) =>
    tf.tidy(() => ppoLosses({ ...base, logp: tf.tensor2d([logp]), values: tf.tensor2d([values]) }, COEF).loss.dataSync()[0]);
  const [gLogp, gValues] = tf.grads((lp: tf.Tensor, v: tf.Tensor) => ppoLosses({ ...base, logp: lp as tf.Tensor2D, values: v as tf.Tensor2D }, COEF).loss)([
    tf.tensor2d([logp0]),
    tf.tensor2d([values0]),
  ]);
  const h = 1e-3;
  for (let i = 0; i < 2; i++) {
    const up = [...logp0];
    const down = [...logp0];
    up[i] += h;
    down[i] -= h;
    near(gLogp.dataSync()[i], (loss(up, values0) - loss(down, values0)) / (2 * h), 2e-3);
    const vu = [...values0];
    const vd = [...values0];
    vu[i] += h;
    vd[i] -= h;
    near(gValues.dataSync()[i], (loss(logp0, vu) - loss(logp0, vd)) / (2 * h), 2e-3);
  }
  assert.equal(Math.abs(gLogp.dataSync()[2]), 0, 'masked tokens get no gradient');
});

test('PPO with the gold reward as reward model raises the gold of held-out answers on every seed', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ava-ppo-'));
  try {
    const run: RunConfig = {
      name: 'ppo-sft',
      variant: 'sft',
      seed: 0,
      recipe: 'paper',
      engine: { backend: 'wasm' },
      data: { ...DEFAULT_DATA, task: 'harmless', task_options: { ...DEFAULT_DATA.task_options, n_train: 400, n_eval: 100, seed: 4 } },
      tokenizer: DEFAULT_TOKENIZER,
      model: { ...DEFAULT_MODEL, n_layer: 1, n_head: 2, d_model: 32, context: 24, pref_attn_dim: 16 },
      objective: { ...DEFAULT_OBJECTIVE, kind: 'sft' },
      train: { ...DEFAULT_TRAIN, steps: 150, batch_size: 16, lr: 3e-3, warmup_steps: 5, log_every: 50, eval_every: 0, checkpoint_every: 150 },
      eval: { ...DEFAULT_EVAL, dump_token_rewards: 0 },
    };
    const runDir = join(root, 'sft');
    mkdirSync(runDir, { recursive: true });
    await trainRun({ run, runDir, dataRoot: join(root, 'data'), engine, resume: false, hooks: { emit: () => {}, log: () => {}, signal: new AbortController().signal } });
    const sft = await loadTrainedRun(runDir);
    const files = await dataFilesFor(run, join(root, 'data'));
    const read = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { prompt: string }).prompt);
    const [trainPrompts, evalPrompts] = [read(files.train), read(files.eval!)];
    const gold = (prompt: string, response: string) => goldReward(TASKS.harmless, prompt, response);
    const meanGold = (model: TQR, tok: Tokenizer) => {
      const gens = generate(model, tok, evalPrompts.map((p) => tok.encode(p)), 1, { temperature: 1, topK: 0, topP: 1, maxNewTokens: 10, seed: 99, policy: 'lm', beta: 1, batchSize: 100, useCache: true });
      return gens.reduce((s, g, i) => s + gold(evalPrompts[i], tok.decode(g.ids)), 0) / gens.length;
    };
    const before = meanGold(sft.models.policy, sft.tokenizer);
    for (const seed of [0, 1, 2]) {
      const dir = join(root, `ppo-${seed}`);
      const { policy, metrics } = await trainPpo({
        run: sft.run,
        tokenizer: sft.tokenizer,
        weights: sft.models.policy.variables(),
        prompts: trainPrompts,
        score: (items) => items.map((it) => gold(it.prompt, it.response)),
        gold,
        ppo: { ...DEFAULT_PPO, steps: 40 },
        maxNewTokens: 10,
        seed,
        dir,
      });
      const after = meanGold(policy, sft.tokenizer);
      policy.dispose();
      t.diagnostic(`seed ${seed}: mean gold of 100 held-out answers ${before.toFixed(3)} → ${after.toFixed(3)}`);
      assert.ok(after > before + 0.15, `seed ${seed}: mean gold of held-out answers ${before.toFixed(3)} → ${after.toFixed(3)}`);
      assert.equal(metrics.length, 40);
      // A run directory like a grid cell's: metric records (phase train) and a status file.
      const logged = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; phase: string; values: Record<string, number> });
      assert.equal(logged.length, 40);
      assert.deepEqual([logged[0].step, logged[39].step, logged[39].phase], [1, 40, 'train']);
      for (const key of ['objective/kl', 'objective/entropy', 'objective/scores', 'objective/gold', 'policy/clipfrac_avg', 'loss/value_avg', 'objective/kl_coef']) {
        assert.ok(Number.isFinite(logged[39].values[key]), `${key} logged`);
      }
      assert.equal(logged[39].values['objective/gold'], metrics[39]['objective/gold']);
      assert.ok(logged[39].values['objective/kl'] > 0, 'the policy moved away from the reference');
      const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
      assert.deepEqual([status.status, status.step, status.total_steps], ['finished', 40, 40]);
    }
    sft.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
