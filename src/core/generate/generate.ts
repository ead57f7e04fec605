/**
 * Batched, seeded sampling from a trained model (spec §6.7, §8 #23).
 *
 * Each (prompt, sample) pair is a job with its own random stream
 * seedrandom(`ava-sample:<seed>:<prompt>:<sample>`), one uniform number per new token, so a
 * job's text depends on the seed and the model only: not on the batch size, on the other
 * prompts of its batch, or on the cache being used.
 *
 * A job's sequence is [BOS, prompt…] followed by the new tokens; it ends at EOS (not part of
 * the response text) or after `maxNewTokens`, or where the next position would pass
 * model.context. A prompt too long to leave room for one new token keeps its last tokens
 * (left truncation, as training's `data.truncation: left`).
 *
 * With `useCache` (the default) the prompts run once (`TQR.prefill`) and each step feeds only
 * the new tokens (`TQR.decodeStep`); without it every step reruns the whole sequence. Both give
 * the same scores (test/generate.test.ts); the second exists for the benchmark.
 *
 * Scores per `policy`: `lm` = the LM logits z, `q` = β·Q (Boltzmann over Q, spec §2); sampling
 * per ./sampling.ts. Each token's log-probability under the policy itself (softmax of the
 * scores, before temperature and filters) is kept, as an RL update needs it.
 */
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { collateSeqs } from '../data/batch.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { disposeCache, type KVCache, type TQR } from '../model/tqr.js';
import { drawToken, logSoftmax, samplingDistribution, samplingProblem, type SamplingOptions } from './sampling.js';
import { AvaError } from '../errors.js';

export type GenerationPolicy = 'lm' | 'q';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  /** spec §8 #23 `generation_policy`. */
  policy: GenerationPolicy;
  /** β of the Boltzmann policy over Q (`policy: q`). */
  beta: number;
  /** Jobs per forward pass. */
  batchSize: number;
  useCache: boolean;
  signal?: AbortSignal;
  /** Called after each finished batch with the number of jobs done so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface Generation {
  /** Index into the prompts. */
  prompt: number;
  /** 0-based sample number for that prompt. */
  sample: number;
  /** The new tokens, EOS excluded. */
  ids: number[];
  /** Policy log-probability of each new token (EOS included when it ended the response). */
  logp: number[];
  finish: 'eos' | 'length';
  /** How many prompt tokens were dropped from the left to fit model.context. */
  promptTruncated: number;
}

export function generateOptionsProblem(o: GenerateOptions): string | null {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) return `max new tokens must be a positive integer, got ${o.maxNewTokens}`;
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) return `batch size must be a positive integer, got ${o.batchSize}`;
  if (!Number.isInteger(o.seed)) return `seed must be an integer, got ${o.seed}`;
  return samplingProblem(o);
}

interface Job {
  prompt: number;
  sample: number;
  /** BOS + (truncated) prompt tokens. */
  context: number[];
  truncated: number;
  out: Generation;
  rng: () => number;
  budget: number;
  done: boolean;
}

/**
 * Samples `samplesPerPrompt` responses to each prompt (token ids without BOS). Returns them
 * ordered by prompt, then sample.
 */
export function generate(model: TQR, tok: Tokenizer, prompts: readonly number[][], samplesPerPrompt: number, o: GenerateOptions): Generation[] {
  const problem = generateOptionsProblem(o);
  if (problem) throw new AvaError('usage', problem);
  const blockSize = model.config.blockSize;
  const banned = new Set([tok.pad, tok.bos, tok.unk].filter((id) => id !== tok.eos));
  const jobs: Job[] = prompts.flatMap((ids, p) =>
    Array.from({ length: samplesPerPrompt }, (_, s) => {
      const full = [tok.bos, ...ids];
      const truncated = Math.max(0, full.length - (blockSize - 1));
      const context = truncated > 0 ? [tok.bos, ...full.slice(1 + truncated)] : full;
      const out: Generation = { prompt: p, sample: s, ids: [], logp: [], finish: 'length', promptTruncated: truncated };
      return { prompt: p, sample: s, context, truncated, out, rng: seedrandom(`ava-sample:${o.seed}:${p}:${s}`), budget: Math.min(o.maxNewTokens, blockSize - context.length), done: false };
    }),
  );
  for (let start = 0; start < jobs.length; start += o.batchSize) {
    if (o.signal?.aborted) throw new AvaError('usage', 'sampling was cancelled');
    const batch = jobs.slice(start, start + o.batchSize);
    (o.useCache ? decodeWithCache : decodeWithoutCache)(model, tok, batch, o, banned);
    o.onProgress?.(Math.min(start + o.batchSize, jobs.length), jobs.length);
  }
  return jobs.map((j) => j.out);
}

/** Picks each live row's next token from its scores row; marks rows that end. */
function choose(scores: tf.Tensor2D, jobs: Job[], o: GenerateOptions, tok: Tokenizer, banned: ReadonlySet<number>): void {
  const V = scores.shape[1];
  const data = scores.dataSync();
  jobs.forEach((job, b) => {
    if (job.done) return;
    const row = data.subarray(b * V, (b + 1) * V);
    const policyRow = o.policy === 'q' ? row.map((x) => o.beta * x) : row;
    const id = drawToken(samplingDistribution(policyRow, o, banned), job.rng());
    job.out.logp.push(logSoftmax(policyRow, banned)[id]);
    if (id === tok.eos) {
      job.out.finish = 'eos';
      job.done = true;
      return;
    }
    job.out.ids.push(id);
    if (job.out.ids.length >= job.budget) job.done = true;
  });
}

function decodeWithCache(model: TQR, tok: Tokenizer, jobs: Job[], o: GenerateOptions, banned: ReadonlySet<number>): void {
  const prompts = collateSeqs(
    jobs.map((j) => ({ ids: j.context, promptLen: j.context.length })),
    undefined,
    tok.pad,
  );
  let { cache, h } = model.prefill(prompts);
  tf.dispose([prompts.ids, prompts.valid, prompts.resp]);
  try {
    for (;;) {
      const scores = model.nextTokenScores(h, o.policy);
      tf.dispose(h);
      choose(scores, jobs, o, tok, banned);
      scores.dispose();
      if (jobs.every((j) => j.done)) return;
      // Finished rows feed padding at their last valid position; their outputs are ignored.
      const ids = jobs.map((j) => (j.done ? tok.pad : j.out.ids[j.out.ids.length - 1]));
      const positions = jobs.map((j) => Math.min(j.context.length + j.out.ids.length - 1, model.config.blockSize - 1));
      const next: { cache: KVCache; h: tf.Tensor2D } = model.decodeStep(cache, ids, positions);
      disposeCache(cache);
      ({ cache, h } = next);
    }
  } finally {
    disposeCache(cache);
    if (!h.isDisposed) h.dispose();
  }
}

function decodeWithoutCache(model: TQR, tok: Tokenizer, jobs: Job[], o: GenerateOptions, banned: ReadonlySet<number>): void {
  while (!jobs.every((j) => j.done)) {
    const seqs = jobs.map((j) => ({ ids: [...j.context, ...j.out.ids], promptLen: j.context.length }));
    const batch = collateSeqs(seqs, undefined, tok.pad);
    const scores = tf.tidy(() => {
      const { h } = model.forward(batch, {});
      const [B, T, H] = h.shape;
      const last = tf.tensor1d(batch.lengths.map((len, b) => b * T + len - 1), 'int32');
      const hLast = tf.gather(tf.reshape(h, [B * T, H]), last) as tf.Tensor2D;
      return model.nextTokenScores(hLast, o.policy);
    });
    tf.dispose([batch.ids, batch.valid, batch.resp]);
    choose(scores, jobs, o, tok, banned);
    scores.dispose();
  }
}
