/**
 * The LM warm-up and the frozen reference through whole runs (src/core/train/trainer.ts):
 * DPO's reference is the policy as the objective starts, i.e. after `train.pretrain_steps`, in
 * one process, with workers, and after a resume at the warm-up's last step; and
 * `train.pretrain_data` decides which responses the warm-up reads.
 *
 * The check for the reference is exact: while policy = reference the implicit rewards are 0, so
 * the first DPO step's loss is −log σ(0) = ln 2 whatever the weights. A reference left at the
 * random initialisation gives another value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricRecord } from '../src/protocol/events.js';
import { initBackend } from '../src/core/engine/backend.js';
import { DEFAULT_DATA, DEFAULT_EVAL, DEFAULT_MODEL, DEFAULT_OBJECTIVE, DEFAULT_TOKENIZER, DEFAULT_TRAIN, type ObjectiveKind, type RunConfig, type TrainConfig } from '../src/core/experiment/config.js';
import { OBJECTIVES } from '../src/core/objectives/table.js';
import { trainRun } from '../src/core/train/trainer.js';

const engine = await initBackend('cpu', () => {});
const root = mkdtempSync(join(tmpdir(), 'ava-reference-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const PRE = 4;

function runConfig(kind: ObjectiveKind, train: Partial<TrainConfig>): RunConfig {
  return {
    name: 'reference',
    variant: '',
    seed: 2,
    recipe: 'paper',
    engine: { backend: 'cpu' },
    data: { ...DEFAULT_DATA, task: 'harmless', task_options: { ...DEFAULT_DATA.task_options, n_train: 40, n_eval: 8, seed: 5 } },
    tokenizer: DEFAULT_TOKENIZER,
    model: { ...DEFAULT_MODEL, n_layer: 1, n_head: 2, d_model: 16, context: 48, pref_attn_dim: 16 },
    objective: { ...DEFAULT_OBJECTIVE, kind },
    // A large learning rate: the warm-up moves the policy far from its initialisation.
    train: { ...DEFAULT_TRAIN, steps: 3, pretrain_steps: PRE, batch_size: 6, lr: 3e-2, warmup_steps: 0, log_every: 1, eval_every: 0, checkpoint_every: 0, ...train },
    eval: { ...DEFAULT_EVAL, dump_token_rewards: 0 },
  };
}

async function train(name: string, run: RunConfig, opts: { stopAfter?: number; resume?: boolean } = {}): Promise<void> {
  const controller = new AbortController();
  const runDir = join(root, name);
  mkdirSync(runDir, { recursive: true });
  const emit = (e: { type: string; step?: number }) => {
    if (e.type === 'progress' && e.step === opts.stopAfter) controller.abort();
  };
  await trainRun({ run, runDir, dataRoot: join(root, 'data'), engine, resume: opts.resume ?? false, hooks: { emit, log: () => {}, signal: controller.signal } });
}

function records(name: string): MetricRecord[] {
  return readFileSync(join(root, name, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricRecord);
}

const firstObjectiveLoss = (name: string): number => records(name).find((r) => r.phase === 'train')!.values.loss;

test('every objective kind has its entry, and the table says which read pairs', () => {
  for (const [kind, def] of Object.entries(OBJECTIVES)) assert.equal(def.kind, kind);
  const pairwise = Object.values(OBJECTIVES).filter((d) => d.input === 'pairs').map((d) => d.kind).sort();
  assert.deepEqual(pairwise, ['ava-p', 'bt', 'dpo', 'pt']);
  assert.deepEqual(Object.values(OBJECTIVES).filter((d) => d.reference).map((d) => d.kind), ['dpo']);
});

test('DPO: the reference is the warmed-up policy, so the first objective step costs ln 2', async () => {
  await train('dpo', runConfig('dpo', {}));
  const warm = records('dpo').filter((r) => r.phase === 'pretrain');
  assert.equal(warm.length, PRE);
  assert.ok(warm[PRE - 1].values.loss < warm[0].values.loss - 0.1, 'the warm-up moved the policy');
  assert.ok(Math.abs(firstObjectiveLoss('dpo') - Math.LN2) < 1e-5, `first DPO loss ${firstObjectiveLoss('dpo')}`);
});

test('DPO with two workers: each replica freezes its reference after the warm-up too', async () => {
  await train('dpo-workers', runConfig('dpo', { workers: 2 }));
  assert.ok(Math.abs(firstObjectiveLoss('dpo-workers') - Math.LN2) < 1e-5, `first DPO loss ${firstObjectiveLoss('dpo-workers')}`);
});

test('DPO resumed at the last warm-up step freezes the reference as an uninterrupted run does', async () => {
  const run = runConfig('dpo', {});
  await train('dpo-resumed', run, { stopAfter: PRE });
  assert.ok(records('dpo-resumed').every((r) => r.phase === 'pretrain'), 'stopped during the warm-up');
  await train('dpo-resumed', run, { resume: true });
  assert.ok(Math.abs(firstObjectiveLoss('dpo-resumed') - Math.LN2) < 1e-5, `first DPO loss ${firstObjectiveLoss('dpo-resumed')}`);
  const losses = (name: string) => records(name).filter((r) => r.phase !== 'eval').map((r) => r.values.loss);
  const [straight, resumed] = [losses('dpo'), losses('dpo-resumed')];
  assert.equal(straight.length, PRE + 3);
  assert.equal(resumed.length, straight.length);
  resumed.forEach((l, i) => assert.ok(Math.abs(l - straight[i]) < 1e-5, `step ${i + 1}: ${l} vs ${straight[i]}`));
});

test('train.pretrain_data: `both` reads rejected halves in the warm-up, `chosen` only chosen ones', async () => {
  await train('pre-both', runConfig('bt', { steps: 1, pretrain_steps: 1, pretrain_data: 'both' }));
  await train('pre-chosen', runConfig('bt', { steps: 1, pretrain_steps: 1, pretrain_data: 'chosen' }));
  const [both, chosen] = ['pre-both', 'pre-chosen'].map((n) => records(n).find((r) => r.phase === 'pretrain')!.values.loss);
  // Same seed, same weights, same sampled rows: only the halves read differ.
  assert.ok(Math.abs(both - chosen) > 1e-4, `warm-up NLL ${both} (both) vs ${chosen} (chosen)`);
});
