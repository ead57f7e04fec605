/**
 * `train.term_grads_every` (train/termGrads.ts): the gradient norm each AVA-p term alone sends to
 * the reward head and to the Eq. 11 weight head, logged on the steps it names. Checked against
 * what the formulas say must be zero: the likelihood terms (nll, neg) read Q only, so they send
 * nothing to the reward head; with `reward_weight_targets: mu` the weights do not scale Q, so
 * they send nothing to the weights either, while with `q_mu_sigma` (the paper's reading) they do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricRecord } from '../src/protocol/events.js';
import { initBackend } from '../src/core/engine/backend.js';
import { recipeDefaults, type ModelConfig, type RunConfig } from '../src/core/experiment/config.js';
import { trainRun } from '../src/core/train/trainer.js';

const engine = await initBackend('cpu', () => {});
const root = mkdtempSync(join(tmpdir(), 'ava-termgrads-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function runConfig(every: number, model: Partial<ModelConfig> = {}): RunConfig {
  const d = recipeDefaults('paper');
  return {
    name: 'term-grads',
    variant: '',
    seed: 1,
    ...d,
    engine: { backend: 'cpu' },
    data: { ...d.data, task: 'harmless', task_options: { ...d.data.task_options, n_train: 40, n_eval: 8, seed: 2 } },
    model: { ...d.model, n_layer: 1, n_head: 2, d_model: 16, context: 48, pref_attn_dim: 16, ...model },
    train: { ...d.train, steps: 4, pretrain_steps: 2, batch_size: 4, log_every: 1, term_grads_every: every, eval_every: 0, checkpoint_every: 0 },
    eval: { ...d.eval, dump_token_rewards: 0 },
  };
}

async function records(name: string, run: RunConfig): Promise<MetricRecord[]> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  await trainRun({ run, runDir: dir, dataRoot: join(root, 'data'), engine, resume: false, hooks: { emit: () => {}, log: () => {}, signal: new AbortController().signal } });
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricRecord)
    .filter((r) => r.phase !== 'eval');
}

const gradKeys = (r: MetricRecord) => Object.keys(r.values).filter((k) => k.startsWith('grad_') && k !== 'grad_norm').sort();

test('off by default; every N objective steps a norm per term and group', async () => {
  const off = await records('off', runConfig(0));
  assert.deepEqual(off.flatMap(gradKeys), []);
  const on = await records('on', runConfig(2));
  assert.deepEqual(
    on.map((r) => [r.phase, r.step, gradKeys(r).length > 0]),
    [
      ['pretrain', 1, false],
      ['pretrain', 2, false],
      ['train', 3, false],
      ['train', 4, true],
      ['train', 5, false],
      ['train', 6, true],
    ],
  );
  const terms = ['cer', 'kl', 'neg', 'nll', 'td'];
  assert.deepEqual(gradKeys(on[3]), [...terms.map((t) => `grad_reward.${t}`), ...terms.map((t) => `grad_weights.${t}`)].sort());
  const v = on[3].values;
  assert.equal(v['grad_reward.nll'], 0, 'the likelihood reads Q, not the reward head');
  assert.equal(v['grad_reward.neg'], 0);
  for (const t of ['kl', 'td', 'cer']) assert.ok(v[`grad_reward.${t}`] > 0, `${t} reaches the reward head`);
  assert.ok(v['grad_weights.nll'] > 0, 'q_mu_sigma: the weights scale Q, so the likelihood trains them');
});

test('reward_weight_targets mu: the likelihood terms send nothing to the weights', async () => {
  const [r] = (await records('mu', runConfig(2, { reward_weight_targets: 'mu' }))).filter((x) => gradKeys(x).length);
  assert.equal(r.values['grad_weights.nll'], 0);
  assert.equal(r.values['grad_weights.neg'], 0);
  assert.ok(r.values['grad_weights.cer'] > 0, 'CER reads w·μ');
});
