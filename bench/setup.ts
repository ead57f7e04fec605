/**
 * The fixed benchmark step (shared by bench.ts and profile.ts): the TQR configuration of the
 * offline-environment notes, a deterministic batch, and one full training step (forward,
 * backward, AdamW) of the LM objective or AVA-p.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from '../src/core/engine/optim.js';
import { DEFAULT_MODEL, DEFAULT_OBJECTIVE, DEFAULT_TRAIN, recipeDefaults, type ModelConfig, type ObjectiveKind, type RunConfig } from '../src/core/experiment/config.js';
import { TQR } from '../src/core/model/tqr.js';
import { headsFor } from '../src/core/objectives/table.js';
import { collatePairs, collateSeqs } from '../src/core/data/batch.js';
import type { EncodedSeq, PairBatch, PairExample, SeqBatch } from '../src/core/data/types.js';
import type { Models } from '../src/core/objectives/models.js';
import type { EngineInfo } from '../src/core/engine/backend.js';
import { DataParallel, phaseLoss } from '../src/core/train/parallel.js';
import { disposePairBatch, disposeSeqBatch } from '../src/core/objectives/batching.js';

/** The fixed configuration (the one measured in the offline-environment notes). */
export const BENCH = { vocab: 512, d_model: 128, n_layer: 4, n_head: 4, context: 64, batch: 16 } as const;

/** `ava-p` runs the spec's literal defaults (`recipe: paper`); `ava-p-robust` the `robust` recipe. */
export type BenchObjective = 'lm' | 'ava-p' | 'ava-p-robust';

export function benchModelConfig(base: ModelConfig = DEFAULT_MODEL): ModelConfig {
  return { ...base, n_layer: BENCH.n_layer, n_head: BENCH.n_head, d_model: BENCH.d_model, context: BENCH.context, pref_attn_dim: BENCH.d_model };
}

/** The run configuration of a bench step: the spec defaults (or the `robust` recipe) with the bench model. */
export function benchRunConfig(objective: BenchObjective, steps: number): RunConfig {
  const kind: ObjectiveKind = objective === 'lm' ? 'sft' : 'ava-p';
  const robust = objective === 'ava-p-robust' ? recipeDefaults('robust') : null;
  return {
    name: 'bench',
    variant: '',
    seed: 0,
    model: benchModelConfig(robust?.model),
    objective: { ...(robust?.objective ?? DEFAULT_OBJECTIVE), kind },
    train: { ...DEFAULT_TRAIN, lr: 1e-3, warmup_steps: 0, steps, lr_schedule: 'constant', batch_size: BENCH.batch, pretrain_steps: objective === 'lm' ? steps : 0 },
  } as RunConfig;
}

/** Deterministic pseudo-random token sequences of full length (half prompt, half response). */
export function benchSequences(n: number, seed: number): EncodedSeq[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % (BENCH.vocab - 4)) + 4;
  return Array.from({ length: n }, () => ({ ids: [1, ...Array.from({ length: BENCH.context - 1 }, next)], promptLen: BENCH.context / 2 }));
}

/** The bench batch as pairs (AVA-p) or the chosen halves as sequences (LM). */
export function benchPairs(): PairExample[] {
  const seqs = benchSequences(BENCH.batch * 2, 7);
  return Array.from({ length: BENCH.batch }, (_, i) => ({ line: i + 1, chosen: seqs[2 * i], rejected: seqs[2 * i + 1] }));
}

/** Tokens one step processes: B·T for LM, 2·B·T for AVA-p (chosen and rejected). */
export function tokensPerStep(objective: BenchObjective): number {
  return (objective === 'lm' ? 1 : 2) * BENCH.batch * BENCH.context;
}

/** A model, optimiser and device batch ready to step on the current backend. */
export interface BenchStep {
  /** One training step; resolves with the loss. */
  step(): Promise<number>;
  dispose(): void;
}

/**
 * The bench step on the current backend: in this thread (`workers` = 1) or data-parallel over
 * `workers` threads (src/core/train/parallel.ts), exactly as a run with `train.workers` trains.
 */
export async function makeBenchStep(objective: BenchObjective, steps: number, workers = 1, engine?: EngineInfo): Promise<BenchStep> {
  const run = benchRunConfig(objective, steps);
  run.train.workers = workers;
  const policy = new TQR(run.model, BENCH.vocab, { seed: 0, heads: headsFor(run.objective.kind, run.model) });
  const models: Models = { policy, reference: null };
  const optimizer = new AdamW(policy.variables(), { lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0.01, gradClip: 1, warmupSteps: 0, totalSteps: steps, schedule: 'constant' });
  const pairs = benchPairs();
  const batch: SeqBatch | PairBatch = objective === 'lm' ? collateSeqs(pairs.map((p) => p.chosen)) : collatePairs(pairs);
  const phase = objective === 'lm' ? 'pretrain' : 'train';
  const parallel = workers > 1 ? await DataParallel.start({ run, vocabSize: BENCH.vocab, engine: engine!, models, optimizer }) : null;
  const lossFn = phaseLoss(phase, run);
  const local = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => lossFn(models, batch).loss, [...policy.variables().values()]);
      optimizer.applyGradients(grads);
      return value.dataSync()[0];
    });
  return {
    step: async () => (parallel ? (await parallel.step(batch, phase)).loss : local()),
    dispose: () => {
      parallel?.dispose();
      optimizer.dispose();
      policy.dispose();
      'chosen' in batch ? disposePairBatch(batch) : disposeSeqBatch(batch);
    },
  };
}
