/**
 * The uniform entry the trainer calls: one function per objective, taking batches and the
 * model's outputs on them, returning the loss and its logged terms. Each runs in `tf.tidy`
 * and returns only the tensors of its result.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolvedLikelihoodForm, type ModelConfig, type ObjectiveConfig } from '../experiment/config.js';
import { lossFromTerms, required, type LossResult, type SeqView } from './common.js';
import { avaDLoss, avaPLoss, avaSequence, avaSequenceReward, valueAtLast } from './ava.js';
import { btLoss, dpoLoss, lmLoss, ptLoss, ptSequenceReward, responseLogp, sftLoss } from './baselines.js';

export type { SeqView, LossResult } from './common.js';
export { tokenRewardReadout, type TokenRewards } from './readout.js';
export { rewardAccuracy } from './accuracy.js';

/**
 * AVA-d (spec §2.2) on a batch of demonstrations. Terms: nll, kl, td. Diagnostics: reward_scale
 * (mean |R(y)|), [response_weight] (with reward weights).
 */
export function avaDObjective(seq: SeqView, m: ModelConfig, o: ObjectiveConfig): LossResult {
  return tidyLoss(() => {
    const result = avaDLoss(avaSequence(seq, m, o), { ...o, likelihood: resolvedLikelihoodForm(m, o) });
    result.diagnostics = { reward_scale: tf.mean(tf.abs(avaSequenceReward(seq, o))) };
    if (m.use_reward_weights) result.diagnostics.response_weight = tf.mean(responseWeight(seq));
    return result;
  });
}

/**
 * AVA-p with CER (spec §2.3) on a batch of preference pairs. Terms: nll, neg, kl, td,
 * [kl_rejected, td_rejected], cer. Diagnostics: reward_margin, reward_scale (mean |R(y)| over both
 * halves), [response_weight].
 */
export function avaPObjective(chosen: SeqView, rejected: SeqView, m: ModelConfig, o: ObjectiveConfig): LossResult {
  return tidyLoss(() => {
    const rewards = { chosen: avaSequenceReward(chosen, o), rejected: avaSequenceReward(rejected, o) };
    const opts = { ...o, likelihood: resolvedLikelihoodForm(m, o) };
    const result = avaPLoss(avaSequence(chosen, m, o), avaSequence(rejected, m, o), rewards, opts);
    result.diagnostics = {
      reward_margin: tf.mean(tf.sub(rewards.chosen, rewards.rejected)),
      reward_scale: tf.div(tf.add(tf.mean(tf.abs(rewards.chosen)), tf.mean(tf.abs(rewards.rejected))), 2),
    };
    if (m.use_reward_weights) result.diagnostics.response_weight = tf.mean(tf.div(tf.add(responseWeight(chosen), responseWeight(rejected)), 2));
    return result;
  });
}

/**
 * Σ_t w_t over the response positions of each sequence [B] (the positions a `weighted_sum`
 * sequence reward adds up; Eq. 11 weights). Near 0 when the weights have moved onto the
 * prompt, where no loss term reads them, so the weighted rewards R(y) of every response are ≈ 0.
 */
export function responseWeight(seq: SeqView): tf.Tensor1D {
  return tf.sum(tf.mul(seq.out.w, tf.mul(seq.batch.resp, seq.batch.valid)), 1) as tf.Tensor1D;
}

/** Bradley-Terry (spec §6.1): r = value head at the last valid token. Term: bt. */
export function btObjective(chosen: SeqView, rejected: SeqView): LossResult {
  return tidyLoss(() => lossFromTerms({ bt: btLoss(btReward(chosen), btReward(rejected)) }));
}

/** Preference Transformer (spec §6.2): R = Σ_t w_t·v_t. Term: pt. */
export function ptObjective(chosen: SeqView, rejected: SeqView): LossResult {
  return tidyLoss(() => lossFromTerms({ pt: ptLoss(ptReward(chosen), ptReward(rejected)) }));
}

/** DPO (spec §6.3) against frozen reference log-probabilities of the same pairs. Term: dpo. */
export function dpoObjective(
  chosen: SeqView,
  rejected: SeqView,
  ref: { chosen: tf.Tensor1D; rejected: tf.Tensor1D },
  o: ObjectiveConfig,
): LossResult {
  return tidyLoss(() => {
    const dpo = dpoLoss(policyLogp(chosen), policyLogp(rejected), ref.chosen, ref.rejected, o.dpo_beta);
    return lossFromTerms({ dpo });
  });
}

/** SFT (spec §6.4): mean token NLL on response tokens. Term: sft. */
export function sftObjective(seq: SeqView): LossResult {
  return tidyLoss(() => lossFromTerms({ sft: sftLoss(required(seq.out.logits, 'logits'), seq.batch) }));
}

/** LM warm-start: mean next-token NLL over all valid transitions. Term: lm. */
export function lmObjective(seq: SeqView): LossResult {
  return tidyLoss(() => lossFromTerms({ lm: lmLoss(required(seq.out.logits, 'logits'), seq.batch) }));
}

/** Runs an objective in `tf.tidy`, keeping only the tensors of its result. */
function tidyLoss(f: () => LossResult): LossResult {
  return tf.tidy(() => {
    const { loss, terms, diagnostics } = f();
    return diagnostics ? { loss, terms, diagnostics } : { loss, terms };
  });
}

/** Bradley-Terry sequence reward: the value head at the last valid token (spec §6.1). */
export function btReward(seq: SeqView): tf.Tensor1D {
  return valueAtLast(required(seq.out.value, 'value'), seq.batch);
}

/** Preference Transformer sequence reward Σ_t w_t·v_t (spec §6.2). */
export function ptReward(seq: SeqView): tf.Tensor1D {
  return ptSequenceReward(required(seq.out.value, 'value'), seq.out.w, seq.batch.valid);
}

/** Summed response log-probability under the policy's LM head (spec §6.3). */
export function policyLogp(seq: SeqView): tf.Tensor1D {
  return responseLogp(required(seq.out.logits, 'logits'), seq.batch);
}
