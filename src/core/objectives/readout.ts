/**
 * Per-token reward readout (spec §5): for each action token ids[k], the reward distribution
 * paired with its transition j = k−1, read at position j' (spec §1.3 `td_reward_alignment`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, ObjectiveConfig } from '../experiment/config.js';
import { required, type SeqView } from './common.js';
import { applyRewardWeights, weightMembers } from './masks.js';

export interface TokenRewards {
  /** Weighted mean mut[j']. */
  mean: tf.Tensor2D;
  /** Weighted std sigt[j']. */
  std: tf.Tensor2D;
  /** Reward weight w[j']. */
  weight: tf.Tensor2D;
  /** Raw head mean μ[j']. */
  rawMean: tf.Tensor2D;
  /** Raw head std σ[j']. */
  rawStd: tf.Tensor2D;
}

/**
 * Each output is [B,T] indexed by the action position k = j+1 (the token being scored):
 * position j' = k−1 under `state` alignment, k under `next_state`. Entries are 0 where no
 * reward is defined: k = 0 (BOS is no action), padding, and (weighted fields only) positions
 * without a reward weight under `reward_weight_scope = response_tokens`.
 */
export function tokenRewardReadout(seq: SeqView, m: ModelConfig, o: Pick<ObjectiveConfig, 'td_reward_alignment'>): TokenRewards {
  return tf.tidy(() => {
    const { batch, out } = seq;
    const [B, T] = batch.valid.shape;
    const heads = applyRewardWeights(out, m);
    const members = weightMembers(batch, m) ?? batch.valid;
    const isAction = tf.concat([tf.zeros([B, 1]), tf.ones([B, T - 1])], 1);
    const defined = tf.mul(batch.valid, isAction);
    /** x[j'] placed at column k: shifted right by one under `state` alignment. */
    const atAction = (x: tf.Tensor2D) =>
      o.td_reward_alignment === 'state' ? tf.pad(tf.slice(x, [0, 0], [B, T - 1]), [[0, 0], [1, 0]]) : x;
    const weighted = tf.mul(defined, atAction(members));
    return {
      mean: tf.mul(atAction(heads.mut), weighted) as tf.Tensor2D,
      std: tf.mul(atAction(tf.exp(heads.logSigt)), weighted) as tf.Tensor2D,
      weight: tf.mul(atAction(out.w), weighted) as tf.Tensor2D,
      rawMean: tf.mul(atAction(required(out.mu, 'mu')), defined) as tf.Tensor2D,
      rawStd: tf.mul(atAction(tf.exp(required(out.logSigma, 'logSigma'))), defined) as tf.Tensor2D,
    };
  });
}
