/**
 * PPO fine-tuning of a trained policy against a reward model (spec §6.6), the loop around
 * ./ppo.ts. Per iteration:
 *   1. sample one response to each of `batch_size` training prompts from the policy;
 *   2. score the texts with the reward model: at EOS (the reward model retokenises them), or,
 *      with `tokenScores` (dense delivery, spec §8 #26), per token on the policy's own ids;
 *   3. one pass without gradients: log π_old, log π_ref (the frozen initial policy), V_old;
 *   4. per-token rewards (KL penalty + the score at the last token), GAE, whitened advantages;
 *   5. `ppo_epochs` passes of `mini_batches` AdamW steps on the clipped losses;
 *   6. the adaptive KL controller.
 * `dir` is a run directory like a grid cell's, so the Runs view and the dashboard show it: each
 * iteration appends a metric record (phase `train`) to `metrics.jsonl` under TRL's metric names
 * (`objective/kl`, `objective/entropy`, `objective/scores`, `objective/rlhf_reward`,
 * `policy/clipfrac_avg`, `policy/approxkl_avg`, `loss/policy_avg`, `loss/value_avg`,
 * `val/clipfrac_avg`) plus `objective/gold` on the built-in tasks, and `status.json` follows the
 * iterations (running, then finished, stopped when cancelled, failed with the error).
 *
 * The policy is a copy of the initial one with a value head (V = Dense(H→1)(h), fresh), so the
 * value shares the backbone as in TRL's AutoModelForCausalLMWithValueHead.
 */
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { collateSeqs } from '../data/batch.js';
import type { EncodedSeq, SeqBatch } from '../data/types.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { AdamW } from '../engine/optim.js';
import { deriveSeed } from '../engine/random.js';
import type { PpoConfig, RunConfig } from '../experiment/config.js';
import { AvaError } from '../errors.js';
import { generate } from '../generate/generate.js';
import { TQR } from '../model/tqr.js';
import { disposeSeqBatch } from '../objectives/batching.js';
import { tokenLogProbs } from '../objectives/baselines.js';
import { hostname } from 'node:os';
import type { MetricRecord } from '../../protocol/events.js';
import { JsonlAppender } from '../run/files.js';
import type { RunStatusFile } from '../run/layout.js';
import { RUN_METRICS } from '../run/layout.js';
import { writeStatus } from '../run/status.js';
import { gae, KlController, ppoLosses, tokenRewards, whiten } from './ppo.js';

export interface PpoInputs {
  /** The initial policy's config and weights (the generator). */
  run: RunConfig;
  tokenizer: Tokenizer;
  weights: Map<string, tf.Tensor>;
  prompts: readonly string[];
  /** The reward model's score of each (prompt, response). */
  score(items: { prompt: string; response: string }[]): number[];
  /**
   * Dense delivery: the reward model's reward of each response token of each sequence (the
   * policy's ids, BOS + prompt + actions), one per action. When given, it replaces `score`.
   */
  tokenScores?: (seqs: EncodedSeq[]) => number[][];
  /** Gold of a response to a prompt, on built-in tasks. */
  gold?: (prompt: string, response: string) => number;
  ppo: PpoConfig;
  maxNewTokens: number;
  seed: number;
  /** metrics.jsonl goes here. */
  dir: string;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export interface PpoResult {
  /** The tuned policy (the caller disposes it). */
  policy: TQR;
  metrics: Record<string, number>[];
}

interface Rollout {
  batch: SeqBatch;
  /** Per row: first transition index and number of response tokens. */
  spans: { start: number; n: number }[];
  oldLogp: tf.Tensor2D;
  oldValues: tf.Tensor2D;
  advantages: tf.Tensor2D;
  returns: tf.Tensor2D;
  mask: tf.Tensor2D;
  stats: Record<string, number>;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

export async function trainPpo(x: PpoInputs): Promise<PpoResult> {
  const { run, tokenizer: tok, ppo } = x;
  if (x.prompts.length === 0) throw new AvaError('data', 'PPO needs training prompts');
  const heads = { q: false, reward: false, weights: false, value: true };
  const policy = new TQR(run.model, tok.vocabSize, { seed: deriveSeed(x.seed, 'ppo-value'), heads });
  const reference = new TQR(run.model, tok.vocabSize, { seed: x.seed, heads: { ...heads, value: false } });
  policy.loadWeights(x.weights, { strict: false });
  reference.loadWeights(x.weights, { strict: false });
  const optimizer = new AdamW(policy.variables(), { lr: ppo.lr, beta1: 0.9, beta2: 0.999, weightDecay: 0, gradClip: 1, warmupSteps: 0, totalSteps: ppo.steps, schedule: 'constant' });
  const kl = new KlController(ppo.init_kl_coef, ppo.adap_kl_ctrl ? { target: ppo.target_kl, horizon: ppo.horizon } : null);
  const metricsFile = new JsonlAppender(`${x.dir}/${RUN_METRICS}`);
  const pick = seedrandom(`ava-ppo-prompts:${x.seed}`);
  const metrics: Record<string, number>[] = [];
  const started = Date.now();
  let status: RunStatusFile = { status: 'running', pid: process.pid, host: hostname(), started: new Date(started).toISOString(), updated: new Date(started).toISOString(), step: 0, total_steps: ppo.steps };
  const setStatus = (patch: Partial<RunStatusFile>) => {
    status = { ...status, ...patch, updated: new Date().toISOString() };
    writeStatus(x.dir, status);
  };
  setStatus({});
  try {
    for (let step = 1; step <= ppo.steps; step++) {
      if (x.signal?.aborted) throw new AvaError('usage', 'PPO was cancelled');
      const prompts = Array.from({ length: ppo.batch_size }, () => x.prompts[Math.floor(pick() * x.prompts.length)]);
      const rollout = collect(policy, reference, tok, prompts, x, kl.value, step);
      const update = optimise(policy, optimizer, rollout, ppo, deriveSeed(x.seed, 'ppo-minibatches', step));
      kl.update(rollout.stats['objective/kl'], ppo.batch_size);
      const record: Record<string, number> = { step, ...rollout.stats, ...update, 'objective/kl_coef': kl.value };
      metrics.push(record);
      const { step: _step, ...values } = record;
      metricsFile.append({ step, phase: 'train', time: (Date.now() - started) / 1000, values } satisfies MetricRecord);
      setStatus({ step });
      tf.dispose([rollout.oldLogp, rollout.oldValues, rollout.advantages, rollout.returns, rollout.mask]);
      disposeSeqBatch(rollout.batch);
      if (step === 1 || step % 10 === 0 || step === ppo.steps) {
        x.log?.(`PPO ${step}/${ppo.steps}: score ${record['objective/scores'].toFixed(3)}${record['objective/gold'] !== undefined ? `, gold ${record['objective/gold'].toFixed(3)}` : ''}, KL ${record['objective/kl'].toFixed(3)}, clipfrac ${update['policy/clipfrac_avg'].toFixed(3)}`);
      }
      await new Promise((r) => setImmediate(r)); // let a cancel arrive
    }
    setStatus({ status: 'finished' });
  } catch (e) {
    policy.dispose();
    const cancelled = x.signal?.aborted === true;
    setStatus({ status: cancelled ? 'stopped' : 'failed', ...(!cancelled && { error: e instanceof Error ? e.message : String(e) }) });
    throw e;
  } finally {
    reference.dispose();
    optimizer.dispose();
    metricsFile.close();
  }
  return { policy, metrics };
}

/** Steps 1-4: the rollout and everything the updates need, as tensors. */
function collect(policy: TQR, reference: TQR, tok: Tokenizer, prompts: string[], x: PpoInputs, klCoef: number, step: number): Rollout {
  const promptIds = prompts.map((p) => tok.encode(p));
  const gens = generate(policy, tok, promptIds, 1, {
    temperature: 1,
    topK: 0,
    topP: 1,
    maxNewTokens: x.maxNewTokens,
    seed: deriveSeed(x.seed, 'ppo-rollout', step),
    policy: 'lm',
    beta: 1,
    batchSize: prompts.length,
    useCache: true,
  });
  const texts = gens.map((g) => tok.decode(g.ids).trim());
  const seqs = gens.map((g, i) => {
    const head = [tok.bos, ...promptIds[i].slice(g.promptTruncated)]; // as generate() fitted it to the context
    const actions = g.finish === 'eos' ? [...g.ids, tok.eos] : g.ids;
    return { ids: [...head, ...actions], promptLen: head.length };
  });
  const dense = x.tokenScores?.(seqs) ?? null;
  const scores = dense ? dense.map((r) => r.reduce((a, v) => a + v, 0)) : x.score(prompts.map((prompt, i) => ({ prompt, response: texts[i] })));
  const batch = collateSeqs(seqs, undefined, tok.pad);
  const [B, T] = batch.ids.shape;
  const spans = seqs.map((s) => ({ start: s.promptLen - 1, n: s.ids.length - s.promptLen }));
  const { oldLogp, refLogp, values, entropy } = tf.tidy(() => {
    const out = policy.forward(batch, { logits: true, value: true });
    const ref = reference.forward(batch, { logits: true });
    const logProbs = tf.logSoftmax(out.logits!);
    return {
      oldLogp: tokenLogProbs(out.logits!, batch.ids),
      refLogp: tokenLogProbs(ref.logits!, batch.ids),
      values: out.value!,
      entropy: tf.neg(tf.sum(tf.mul(tf.exp(logProbs), logProbs), -1)) as tf.Tensor2D,
    };
  });
  const [lp, rp, v, ent] = [oldLogp.dataSync(), refLogp.dataSync(), values.dataSync(), entropy.dataSync()];
  tf.dispose([refLogp, entropy]);
  const adv = new Float32Array(B * T);
  const ret = new Float32Array(B * T);
  const mask = new Float32Array(B * T);
  const klSums: number[] = [];
  const entropySums: number[] = [];
  const flatAdv: number[] = [];
  spans.forEach(({ start, n }, b) => {
    const at = (t: number) => b * T + start + t;
    const klT = Array.from({ length: n }, (_, t) => lp[at(t)] - rp[at(t)]);
    const vT = Array.from({ length: n }, (_, t) => v[at(t)]);
    const r = tokenRewards(klT, dense ? dense[b] : scores[b], klCoef);
    const g = gae(r, vT, x.ppo.gamma, x.ppo.lam);
    for (let t = 0; t < n; t++) {
      adv[at(t)] = g.advantages[t];
      ret[at(t)] = g.returns[t];
      mask[at(t)] = 1;
      flatAdv.push(g.advantages[t]);
    }
    klSums.push(klT.reduce((s, k) => s + k, 0));
    entropySums.push(Array.from({ length: n }, (_, t) => ent[at(t)]).reduce((s, e) => s + e, 0));
  });
  if (x.ppo.whiten_advantages) {
    const w = whiten(flatAdv);
    let i = 0;
    for (let k = 0; k < mask.length; k++) if (mask[k] === 1) adv[k] = w[i++];
  }
  const golds = x.gold ? prompts.map((p, i) => x.gold!(p, texts[i])) : null;
  const meanKl = mean(klSums);
  const stats: Record<string, number> = {
    'objective/scores': mean(scores),
    'objective/kl': meanKl,
    'objective/entropy': mean(entropySums),
    'objective/non_score_reward': -klCoef * meanKl,
    'objective/rlhf_reward': mean(scores) - klCoef * meanKl,
    'tokens/response_length': mean(spans.map((s) => s.n)),
    ...(golds && { 'objective/gold': mean(golds) }),
  };
  return {
    batch,
    spans,
    oldLogp,
    oldValues: values,
    advantages: tf.tensor2d(adv, [B, T]),
    returns: tf.tensor2d(ret, [B, T]),
    mask: tf.tensor2d(mask, [B, T]),
    stats,
  };
}

/** Step 5: `ppo_epochs` × `mini_batches` clipped updates; the means of their diagnostics. */
function optimise(policy: TQR, optimizer: AdamW, r: Rollout, ppo: PpoConfig, seed: number): Record<string, number> {
  const B = r.batch.lengths.length;
  const rng = seedrandom(`ava-ppo-mb:${seed}`);
  const sums = { 'loss/policy_avg': 0, 'loss/value_avg': 0, 'policy/clipfrac_avg': 0, 'val/clipfrac_avg': 0, 'policy/approxkl_avg': 0 };
  let count = 0;
  const vars = [...policy.variables().values()];
  for (let epoch = 0; epoch < ppo.ppo_epochs; epoch++) {
    const order = Array.from({ length: B }, (_, i) => i);
    for (let i = B - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const size = Math.ceil(B / ppo.mini_batches);
    for (let start = 0; start < B; start += size) {
      const idx = tf.tensor1d(order.slice(start, start + size), 'int32');
      const rows = <T extends tf.Tensor>(t: T) => tf.gather(t, idx) as T;
      const mb: SeqBatch = { ids: rows(r.batch.ids), valid: rows(r.batch.valid), resp: rows(r.batch.resp), lengths: order.slice(start, start + size).map((k) => r.batch.lengths[k]) };
      const fixed = { oldLogp: rows(r.oldLogp), oldValues: rows(r.oldValues), advantages: rows(r.advantages), returns: rows(r.returns), mask: rows(r.mask) };
      let diag: number[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const out = policy.forward(mb, { logits: true, value: true, training: true });
        const losses = ppoLosses({ ...fixed, logp: tokenLogProbs(out.logits!, mb.ids), values: out.value! }, ppo);
        diag = [losses.policy, losses.value, losses.clipfrac, losses.valueClipfrac, losses.approxKl].map((t) => t.dataSync()[0]);
        return losses.loss;
      }, vars);
      const report = optimizer.applyGradients(grads);
      tf.dispose([value, idx, mb.ids, mb.valid, mb.resp, ...Object.values(fixed), ...Object.values(grads)]);
      if (!Number.isFinite(report.gradNorm)) throw new AvaError('numeric', 'PPO: the gradient is not finite; lower winrates.ppo.lr', { key: 'winrates.ppo.lr' });
      Object.keys(sums).forEach((k, i) => (sums[k as keyof typeof sums] += diag[i]));
      count++;
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, s]) => [k, s / count]));
}
