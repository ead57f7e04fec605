/**
 * From an objective kind to the forward pass it needs and the loss it minimises: the one
 * place where the trainer, the evaluator and the reward readout meet the objectives.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isPairwise, type ModelConfig, type ObjectiveConfig, type ObjectiveKind, type RunConfig } from '../experiment/config.js';
import type { PairBatch, SeqBatch } from '../data/types.js';
import type { TQR } from '../model/tqr.js';
import type { ForwardRequest } from '../model/types.js';
import {
  avaDObjective,
  avaPObjective,
  btObjective,
  dpoObjective,
  lmObjective,
  ptObjective,
  sequenceRewardFor,
  sftObjective,
  type LossResult,
  type SeqView,
} from '../objectives/index.js';
import { forwardPair, forwardSeq } from './batching.js';

/** The trained model and, for DPO, its frozen reference (spec §6.3). */
export interface Models {
  policy: TQR;
  reference: TQR | null;
}

/** What each objective reads from the forward pass (everything else is skipped). */
export function forwardRequestFor(kind: ObjectiveKind, m: ModelConfig, training: boolean): ForwardRequest {
  switch (kind) {
    case 'ava-p':
    case 'ava-d':
      return { q: true, reward: true, weights: m.use_reward_weights, training };
    case 'bt':
      return { value: true, training };
    case 'pt':
      return { value: true, weights: true, training };
    case 'sft':
    case 'dpo':
      return { logits: true, training };
  }
}

/**
 * Summed response log-probabilities under the frozen reference. No gradient reaches it: its
 * variables are not among those the trainer differentiates.
 */
function referenceLogps(reference: TQR, pair: PairBatch, run: RunConfig): { chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  const views = forwardPair(reference, pair, { logits: true, training: false });
  return {
    chosen: sequenceRewardFor('sft', views.chosen, run.model, run.objective),
    rejected: sequenceRewardFor('sft', views.rejected, run.model, run.objective),
  };
}

/** The loss of one batch (call inside a gradient function). Pairwise kinds take a PairBatch. */
export function objectiveLoss(models: Models, data: PairBatch | SeqBatch, run: RunConfig): LossResult {
  const { model: m, objective: o } = run;
  const req = forwardRequestFor(o.kind, m, true);
  if (isPairwise(o.kind)) {
    const pair = data as PairBatch;
    const { chosen, rejected } = forwardPair(models.policy, pair, req);
    switch (o.kind) {
      case 'ava-p':
        return avaPObjective(chosen, rejected, m, o);
      case 'bt':
        return btObjective(chosen, rejected);
      case 'pt':
        return ptObjective(chosen, rejected);
      case 'dpo': {
        if (!models.reference) throw new Error('DPO needs a frozen reference model');
        return dpoObjective(chosen, rejected, referenceLogps(models.reference, pair, run), o);
      }
    }
  }
  const seq = forwardSeq(models.policy, data as SeqBatch, req);
  return o.kind === 'ava-d' ? avaDObjective(seq, m, o) : sftObjective(seq);
}

/** LM warm-start loss (next-token NLL over all valid transitions) on single sequences. */
export function pretrainLoss(models: Models, batch: SeqBatch): LossResult {
  return lmObjective(forwardSeq(models.policy, batch, { logits: true, training: true }));
}

/**
 * Sequence rewards R(y⁺), R(y⁻) of a pair batch, used for reward accuracy (spec §7).
 * For DPO the reward is the implicit one, dpo_beta·(log π_θ(y) − log π_ref(y)) (spec §6.3).
 */
export function pairRewards(models: Models, pair: PairBatch, run: RunConfig): { chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  const { model: m, objective: o } = run;
  const views = forwardPair(models.policy, pair, forwardRequestFor(o.kind, m, false));
  const r = (v: SeqView) => sequenceRewardFor(o.kind, v, m, o);
  if (o.kind === 'dpo' && models.reference) {
    const ref = referenceLogps(models.reference, pair, run);
    return {
      chosen: tf.mul(o.dpo_beta, tf.sub(r(views.chosen), ref.chosen)) as tf.Tensor1D,
      rejected: tf.mul(o.dpo_beta, tf.sub(r(views.rejected), ref.rejected)) as tf.Tensor1D,
    };
  }
  return { chosen: r(views.chosen), rejected: r(views.rejected) };
}

/** Whether the objective trains the Gaussian reward head (and so has per-token rewards, spec §5). */
export function hasTokenRewards(kind: ObjectiveKind): boolean {
  return kind === 'ava-p' || kind === 'ava-d';
}

export type { LossResult, ObjectiveConfig };
