/**
 * One record per objective kind: the only place that knows what a kind reads (preference pairs
 * or single sequences), which heads carry parameters, what the forward pass computes, the loss,
 * the sequence reward used for accuracy and ranking, whether it has per-token rewards, whether it
 * keeps a frozen reference, and how its terms count under data parallelism.
 *
 * `OBJECTIVES` is typed `{ [K in ObjectiveKind]: … }`, so adding a kind to `ObjectiveKind` makes
 * the compiler list every field the new entry must answer; nothing else in the code switches on
 * the kind. The trainer, the evaluator, the readout, checkpoint loading and the data-parallel
 * workers all go through `objectiveLoss`, `pairRewards`, `sequenceRewardFor`, `headsFor` and the
 * entry's fields below.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, ObjectiveConfig, ObjectiveKind, RunConfig } from '../experiment/config.js';
import type { PairBatch, SeqBatch } from '../data/types.js';
import type { HeadSet, TQR } from '../model/tqr.js';
import type { ForwardRequest } from '../model/types.js';
import { forwardPair, forwardSeq } from './batching.js';
import type { LossResult, SeqView } from './common.js';
import { avaSequenceReward } from './ava.js';
import { avaDObjective, avaPObjective, btObjective, btReward, dpoObjective, lmObjective, policyLogp, ptObjective, ptReward, sftObjective } from './index.js';
import type { Models } from './models.js';
import { avaTermCounts, pairCount, responseActionCount, validActionCount } from './shares.js';

/** Summed response log-probabilities of a pair batch under the frozen reference [B]. */
export interface ReferenceLogps {
  chosen: tf.Tensor1D;
  rejected: tf.Tensor1D;
}

interface ObjectiveCommon<K extends ObjectiveKind> {
  kind: K;
  /** Name and spec section, for logs and docs. */
  title: string;
  /** Which heads carry parameters (checkpoints, replicas and loaders build the model from this). */
  heads(m: ModelConfig): HeadSet;
  /** What the forward pass must compute for the loss and the sequence reward. */
  forward(m: ModelConfig, training: boolean): ForwardRequest;
  /** Per-sequence reward R(y) [B] for reward accuracy, ranking and BoN (spec §7). */
  sequenceReward(seq: SeqView, m: ModelConfig, o: ObjectiveConfig): tf.Tensor1D;
  /** Whether the objective trains the Gaussian reward head, i.e. has per-token rewards (spec §5). */
  tokenRewards: boolean;
  /**
   * A frozen copy of the policy as the objective starts (after any LM warm-up), and the
   * implicit reward it defines from the policy's sequence score; null for no reference.
   */
  reference: null | { implicitReward(score: tf.Tensor1D, refLogp: tf.Tensor1D, o: ObjectiveConfig): tf.Tensor1D };
  /** Extra advice printed when the loss turns non-finite. */
  nonFiniteHints(run: RunConfig): string[];
}

/** An objective over preference pairs (chosen, rejected). */
export interface PairwiseObjective<K extends ObjectiveKind = ObjectiveKind> extends ObjectiveCommon<K> {
  input: 'pairs';
  loss(views: { chosen: SeqView; rejected: SeqView }, run: RunConfig, ref: ReferenceLogps | null): LossResult;
  /** Each logged term's count over a batch (objectives/shares.ts), for exact data-parallel shards. */
  termCounts(pair: PairBatch, m: ModelConfig, o: ObjectiveConfig): Record<string, number>;
}

/** An objective over single sequences (demonstrations, or the chosen halves of pairs). */
export interface SequenceObjective<K extends ObjectiveKind = ObjectiveKind> extends ObjectiveCommon<K> {
  input: 'sequences';
  loss(view: SeqView, run: RunConfig): LossResult;
  termCounts(batch: SeqBatch, m: ModelConfig, o: ObjectiveConfig): Record<string, number>;
}

export type ObjectiveDef<K extends ObjectiveKind = ObjectiveKind> = PairwiseObjective<K> | SequenceObjective<K>;

const NO_HINTS = (): string[] => [];
const avaHints = (run: RunConfig): string[] => [
  `narrow model.log_sigma_min/max (now ${run.model.log_sigma_min}..${run.model.log_sigma_max})`,
  "try objective.cer_form 'log_sigmoid' or model.ptq_input 'probs'",
];
const avaHeads = (m: ModelConfig): HeadSet => ({ q: true, reward: true, weights: m.use_reward_weights, value: false });
const avaForward = (m: ModelConfig, training: boolean): ForwardRequest => ({ q: true, reward: true, weights: m.use_reward_weights, training });
const lmHeads = (): HeadSet => ({ q: false, reward: false, weights: false, value: false });
const lmForward = (_m: ModelConfig, training: boolean): ForwardRequest => ({ logits: true, training });

export const OBJECTIVES: { readonly [K in ObjectiveKind]: ObjectiveDef<K> } = {
  'ava-p': {
    kind: 'ava-p',
    title: 'AVA-p with CER (spec §2.3, Eq. 15-18)',
    input: 'pairs',
    heads: avaHeads,
    forward: avaForward,
    loss: (v, run) => avaPObjective(v.chosen, v.rejected, run.model, run.objective),
    sequenceReward: (seq, _m, o) => avaSequenceReward(seq, o),
    tokenRewards: true,
    reference: null,
    termCounts: (pair, m, o) => {
      const chosen = avaTermCounts(pair.chosen, m, o);
      const rejected = avaTermCounts(pair.rejected, m, o);
      const pairs = pairCount(pair);
      return { ...chosen, neg: rejected.nll, kl_rejected: rejected.kl, td_rejected: rejected.td, cer: pairs, reward_margin: pairs, reward_scale: pairs, response_weight: pairs };
    },
    nonFiniteHints: avaHints,
  },
  'ava-d': {
    kind: 'ava-d',
    title: 'AVA-d (spec §2.2, Eq. 5-7, 13-14)',
    input: 'sequences',
    heads: avaHeads,
    forward: avaForward,
    loss: (v, run) => avaDObjective(v, run.model, run.objective),
    sequenceReward: (seq, _m, o) => avaSequenceReward(seq, o),
    tokenRewards: true,
    reference: null,
    termCounts: (batch, m, o) => ({ ...avaTermCounts(batch, m, o), reward_scale: batch.lengths.length, response_weight: batch.lengths.length }),
    nonFiniteHints: avaHints,
  },
  bt: {
    kind: 'bt',
    title: 'Bradley-Terry reward model (spec §6.1)',
    input: 'pairs',
    heads: () => ({ q: false, reward: false, weights: false, value: true }),
    forward: (_m, training) => ({ value: true, training }),
    loss: (v) => btObjective(v.chosen, v.rejected),
    sequenceReward: btReward,
    tokenRewards: false,
    reference: null,
    termCounts: (pair) => ({ bt: pairCount(pair) }),
    nonFiniteHints: NO_HINTS,
  },
  pt: {
    kind: 'pt',
    title: 'Preference Transformer (spec §6.2)',
    input: 'pairs',
    heads: () => ({ q: false, reward: false, weights: true, value: true }),
    forward: (_m, training) => ({ value: true, weights: true, training }),
    loss: (v) => ptObjective(v.chosen, v.rejected),
    sequenceReward: ptReward,
    tokenRewards: false,
    reference: null,
    termCounts: (pair) => ({ pt: pairCount(pair) }),
    nonFiniteHints: NO_HINTS,
  },
  dpo: {
    kind: 'dpo',
    title: 'DPO (spec §6.3)',
    input: 'pairs',
    heads: lmHeads,
    forward: lmForward,
    loss: (v, run, ref) => {
      if (!ref) throw new Error('DPO needs the frozen reference log-probabilities');
      return dpoObjective(v.chosen, v.rejected, ref, run.objective);
    },
    sequenceReward: policyLogp,
    tokenRewards: false,
    // spec §6.3: the implicit reward dpo_beta·(log π_θ(y) − log π_ref(y)).
    reference: { implicitReward: (score, refLogp, o) => tf.mul(o.dpo_beta, tf.sub(score, refLogp)) as tf.Tensor1D },
    termCounts: (pair) => ({ dpo: pairCount(pair) }),
    nonFiniteHints: NO_HINTS,
  },
  sft: {
    kind: 'sft',
    title: 'SFT (spec §6.4)',
    input: 'sequences',
    heads: lmHeads,
    forward: lmForward,
    loss: (v) => sftObjective(v),
    sequenceReward: policyLogp,
    tokenRewards: false,
    reference: null,
    termCounts: (batch) => ({ sft: responseActionCount(batch) }),
    nonFiniteHints: NO_HINTS,
  },
};

export function objectiveDef(kind: ObjectiveKind): ObjectiveDef {
  return OBJECTIVES[kind];
}

/** Whether the kind reads preference pairs (the others read single sequences). */
export function isPairwise(kind: ObjectiveKind): boolean {
  return OBJECTIVES[kind].input === 'pairs';
}

/** The heads that carry parameters for a kind (every TQR the lab builds asks this). */
export function headsFor(kind: ObjectiveKind, m: ModelConfig): HeadSet {
  return OBJECTIVES[kind].heads(m);
}

/** Whether the kind trains the Gaussian reward head (and so has per-token rewards, spec §5). */
export function hasTokenRewards(kind: ObjectiveKind): boolean {
  return OBJECTIVES[kind].tokenRewards;
}

/** R(y) [B] of one batch under a kind's sequence reward (spec §7). */
export function sequenceRewardFor(kind: ObjectiveKind, seq: SeqView, m: ModelConfig, o: ObjectiveConfig): tf.Tensor1D {
  return tf.tidy(() => OBJECTIVES[kind].sequenceReward(seq, m, o));
}

/**
 * Summed response log-probabilities of both halves under the frozen reference. No gradient
 * reaches it: its variables are not among those the trainer differentiates.
 */
function referenceLogps(reference: TQR, pair: PairBatch): ReferenceLogps {
  const views = forwardPair(reference, pair, { logits: true, training: false });
  return { chosen: policyLogp(views.chosen), rejected: policyLogp(views.rejected) };
}
function requireReference(models: Models, kind: ObjectiveKind): TQR {
  if (!models.reference) throw new Error(`${kind} needs a frozen reference model`);
  return models.reference;
}

/** The loss of one batch (call inside a gradient function). Pairwise kinds take a PairBatch. */
export function objectiveLoss(models: Models, data: PairBatch | SeqBatch, run: RunConfig): LossResult {
  const def = OBJECTIVES[run.objective.kind] as ObjectiveDef;
  const req = def.forward(run.model, true);
  if (def.input === 'pairs') {
    const pair = data as PairBatch;
    const ref = def.reference ? referenceLogps(requireReference(models, def.kind), pair) : null;
    return def.loss(forwardPair(models.policy, pair, req), run, ref);
  }
  return def.loss(forwardSeq(models.policy, data as SeqBatch, req), run);
}

/** LM warm-start loss (next-token NLL over all valid transitions) on single sequences. */
export function pretrainLoss(models: Models, batch: SeqBatch): LossResult {
  return lmObjective(forwardSeq(models.policy, batch, { logits: true, training: true }));
}

/**
 * Sequence rewards R(y⁺), R(y⁻) of a pair batch, used for reward accuracy (spec §7); for a kind
 * with a reference, its implicit reward (DPO: dpo_beta·(log π_θ(y) − log π_ref(y)), spec §6.3).
 */
export function pairRewards(models: Models, pair: PairBatch, run: RunConfig): { chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  const def = OBJECTIVES[run.objective.kind] as ObjectiveDef;
  const views = forwardPair(models.policy, pair, def.forward(run.model, false));
  const chosen = def.sequenceReward(views.chosen, run.model, run.objective);
  const rejected = def.sequenceReward(views.rejected, run.model, run.objective);
  if (def.reference && models.reference) {
    const ref = referenceLogps(models.reference, pair);
    return { chosen: def.reference.implicitReward(chosen, ref.chosen, run.objective), rejected: def.reference.implicitReward(rejected, ref.rejected, run.objective) };
  }
  return { chosen, rejected };
}

/**
 * The evaluation forward pass (no dropout) of single sequences, reading what the kind needs:
 * what the sequence reward, the per-token readout (spec §5) and the hovers are computed from.
 * Call inside tf.tidy.
 */
export function evalView(models: Models, batch: SeqBatch, run: RunConfig): SeqView {
  return forwardSeq(models.policy, batch, OBJECTIVES[run.objective.kind].forward(run.model, false));
}

/**
 * R(y) [B] of single sequences, the reward Best-of-N ranks by and a reward-model judge compares
 * (spec §6.7): the objective's sequence reward, or DPO's implicit reward where it has a
 * reference. Call inside tf.tidy.
 */
export function sequenceRewards(models: Models, batch: SeqBatch, run: RunConfig): tf.Tensor1D {
  const def = OBJECTIVES[run.objective.kind] as ObjectiveDef;
  const reward = def.sequenceReward(evalView(models, batch, run), run.model, run.objective);
  if (!def.reference || !models.reference) return reward;
  const refLogp = policyLogp(forwardSeq(models.reference, batch, { logits: true, training: false }));
  return def.reference.implicitReward(reward, refLogp, run.objective);
}

/** The objective of a training phase: the configured kind, or the LM warm-start. */
export type TermSource = ObjectiveKind | 'lm';

/** Each logged term's count over a batch (a PairBatch for pairwise kinds, else a SeqBatch; see shares.ts). */
export function termCounts(source: TermSource, batch: SeqBatch | PairBatch, m: ModelConfig, o: ObjectiveConfig): Record<string, number> {
  return tf.tidy(() => {
    if (source === 'lm') return { lm: validActionCount(batch as SeqBatch) };
    const def = OBJECTIVES[source] as ObjectiveDef;
    return def.input === 'pairs' ? def.termCounts(batch as PairBatch, m, o) : def.termCounts(batch as SeqBatch, m, o);
  });
}
