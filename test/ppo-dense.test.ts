/**
 * Dense PPO rewards (spec §8 #26 `rl_reward_delivery: dense`): an AVA reward model's μ̃ on each
 * of the policy's own tokens. They add up to the Eq. 19 score the sparse delivery gives the same
 * text; PPO with them starts from the same rollout and scores as sparse delivery but updates
 * differently; a reward model without per-token rewards is refused, at load time with the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/core/engine/backend.js';
import { DEFAULT_DATA, DEFAULT_EVAL, DEFAULT_MODEL, DEFAULT_OBJECTIVE, DEFAULT_PPO, DEFAULT_TOKENIZER, DEFAULT_TRAIN, type ObjectiveKind, type RunConfig } from '../src/core/experiment/config.js';
import { parseExperiment } from '../src/core/experiment/load.js';
import { trainRun } from '../src/core/train/trainer.js';
import { loadTrainedRun, type TrainedRun } from '../src/core/eval/trained.js';
import { encodeSeq } from '../src/core/data/dataset.js';
import { scoreTexts, tokenScoresOfSeqs } from '../src/core/generate/score.js';
import { trainPpo } from '../src/core/rl/trainPpo.js';
import { dataFilesFor } from '../src/core/train/data.js';
import { AvaError } from '../src/core/errors.js';
import type { EncodedSeq } from '../src/core/data/types.js';

const engine = await initBackend('wasm', () => {});
const root = mkdtempSync(join(tmpdir(), 'ava-ppo-dense-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const runConfig = (kind: ObjectiveKind): RunConfig => ({
  name: 'dense',
  variant: kind,
  seed: 0,
  recipe: 'robust',
  engine: { backend: 'wasm' },
  data: { ...DEFAULT_DATA, task: 'harmless', task_options: { ...DEFAULT_DATA.task_options, n_train: 200, n_eval: 40, seed: 3 } },
  tokenizer: DEFAULT_TOKENIZER,
  model: { ...DEFAULT_MODEL, n_layer: 1, n_head: 2, d_model: 32, context: 24, pref_attn_dim: 16 },
  objective: { ...DEFAULT_OBJECTIVE, kind },
  train: { ...DEFAULT_TRAIN, steps: 30, batch_size: 8, lr: 3e-3, warmup_steps: 2, log_every: 30, eval_every: 0, checkpoint_every: 30 },
  eval: { ...DEFAULT_EVAL, dump_token_rewards: 0 },
});

async function trained(kind: ObjectiveKind): Promise<TrainedRun> {
  const runDir = join(root, kind);
  mkdirSync(runDir, { recursive: true });
  await trainRun({ run: runConfig(kind), runDir, dataRoot: join(root, 'data'), engine, resume: false, hooks: { emit: () => {}, log: () => {}, signal: new AbortController().signal } });
  return loadTrainedRun(runDir);
}

const ava = await trained('ava-p');
const bt = await trained('bt');
const files = await dataFilesFor(ava.run, join(root, 'data'));
const rows = readFileSync(files.train, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; chosen: string; rejected: string });

test('dense rewards: one per response token (EOS included), summing to the Eq. 19 score of the same text', () => {
  const items = rows.slice(0, 12).flatMap((r) => [{ prompt: r.prompt, response: r.chosen }, { prompt: r.prompt, response: r.rejected }]);
  const seqs = items.map((it) => encodeSeq(it.prompt, it.response, ava.tokenizer, ava.run.model.context, 'prompt_left')!);
  const dense = tokenScoresOfSeqs(ava, seqs, 5);
  const sums = scoreTexts(ava, items, 7, 'sum');
  dense.forEach((r, i) => {
    assert.equal(r.length, seqs[i].ids.length - seqs[i].promptLen);
    assert.ok(Math.abs(r.reduce((a, v) => a + v, 0) - sums[i]) < 1e-4, `row ${i}: Σ dense ${r.reduce((a, v) => a + v, 0)} vs Eq. 19 ${sums[i]}`);
  });
  assert.ok(new Set(dense.flat().map((v) => v.toFixed(5))).size > 10, 'the rewards differ from token to token');
  // Too long for the reward model's context: prompt tokens after BOS go, the response's rewards stay.
  const long = { ids: [seqs[0].ids[0], ...Array<number>(30).fill(seqs[0].ids[1]), ...seqs[0].ids.slice(seqs[0].promptLen)], promptLen: 31 };
  assert.equal(tokenScoresOfSeqs(ava, [long])[0].length, seqs[0].ids.length - seqs[0].promptLen);
});

test('dense rewards need a reward model with per-token rewards', () => {
  const seq = encodeSeq(rows[0].prompt, rows[0].chosen, bt.tokenizer, bt.run.model.context, 'prompt_left')!;
  assert.throws(
    () => tokenScoresOfSeqs(bt, [seq]),
    (e: unknown) => e instanceof AvaError && e.where.key === 'winrates.ppo.rl_reward_delivery' && /bt reward model has no per-token rewards/.test(e.message),
  );
});

test('PPO with dense delivery: the same first rollout as sparse, Σ of its rewards = the Eq. 19 score of each answer that ended, a different update; score() unused', async () => {
  const prompts = rows.map((r) => r.prompt);
  const ppo = { ...DEFAULT_PPO, steps: 2, batch_size: 16, mini_batches: 2, ppo_epochs: 1 };
  const common = { run: ava.run, tokenizer: ava.tokenizer, weights: ava.models.policy.variables(), prompts, ppo, maxNewTokens: 14, seed: 5 };
  const sparseCalls: number[][] = [];
  const sparse = await trainPpo({
    ...common,
    dir: join(root, 'ppo-sparse'),
    score: (items) => {
      const s = scoreTexts(ava, items, 32, 'sum');
      sparseCalls.push(s);
      return s;
    },
  });
  let scored = 0;
  const denseCalls: { seqs: EncodedSeq[]; rewards: number[][] }[] = [];
  const dense = await trainPpo({
    ...common,
    dir: join(root, 'ppo-dense'),
    score: () => {
      scored++;
      return [];
    },
    tokenScores: (seqs) => {
      const rewards = tokenScoresOfSeqs(ava, seqs);
      denseCalls.push({ seqs, rewards });
      return rewards;
    },
  });
  sparse.policy.dispose();
  dense.policy.dispose();
  assert.equal(scored, 0);
  assert.equal(denseCalls.length, 2);
  // Step 1 samples the same answers from the same policy. An answer that ended with EOS is the
  // same tokens to both deliveries; one cut at max_new_tokens gets an EOS when retokenised for
  // the sparse score, so only the ended ones must agree.
  const { seqs, rewards } = denseCalls[0];
  let ended = 0;
  seqs.forEach((seq, b) => {
    assert.equal(rewards[b].length, seq.ids.length - seq.promptLen);
    if (seq.ids[seq.ids.length - 1] !== ava.tokenizer.eos) return;
    ended++;
    const sum = rewards[b].reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(sum - sparseCalls[0][b]) < 1e-4, `answer ${b}: Σ dense ${sum} vs Eq. 19 ${sparseCalls[0][b]}`);
  });
  assert.ok(ended >= 3, `${ended} of 16 answers ended`);
  assert.equal(sparse.metrics[0]['objective/kl'], dense.metrics[0]['objective/kl']);
  // Where the reward arrives changes the advantages, so the first update differs.
  assert.notEqual(sparse.metrics[0]['loss/policy_avg'], dense.metrics[0]['loss/policy_avg']);
  assert.ok(dense.metrics.every((m) => Number.isFinite(m['loss/value_avg']) && Number.isFinite(m['objective/scores'])));
});

test('rl_reward_delivery: dense is refused at load time for a reward model without per-token rewards', () => {
  const base = `name: d
seeds: [0]
data: { task: harmless }
ablations:
  sft: { objective: { kind: sft } }
  bt: { objective: { kind: bt } }
  ava: { objective: { kind: ava-p } }
winrates:
  generator: sft
  ppo: { rl_reward_delivery: dense }
`;
  const errors = (compare: string) => parseExperiment(`${base}  compare: [${compare}]\n`, join(root, 'd.ava.yaml')).diagnostics.filter((d) => d.severity === 'error');
  const bad = errors('ppo:bt vs stochastic, ppo:ava vs stochastic');
  assert.equal(bad.length, 1);
  assert.equal(bad[0].key, 'winrates.ppo.rl_reward_delivery');
  assert.equal(bad[0].line, 10);
  assert.match(bad[0].message, /ppo:bt does not have/);
  assert.deepEqual(errors('ppo:ava vs stochastic'), []);
  const sparse = parseExperiment(`${base.replace('rl_reward_delivery: dense', 'rl_reward_delivery: sparse_at_eos')}  compare: [ppo:bt vs stochastic]\n`, join(root, 's.ava.yaml'));
  assert.deepEqual(sparse.diagnostics.filter((d) => d.severity === 'error'), []);
});
