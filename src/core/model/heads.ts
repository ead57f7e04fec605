/**
 * Pure head transforms of TQR (spec §3, §4), exposed as the spec §12 test hooks.
 * Each takes and returns tensors and creates no variables.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../experiment/config.js';
import { logSoftmax } from '../engine/fastops.js';

/**
 * Pre-trained Q (spec §4, Eq. 12): Q_w = log_softmax(α·softmax(z)) (`probs`, literal)
 * or Q_w = log_softmax(α·z) (`logits`).
 */
export function ptqQ(logits: tf.Tensor, alpha: number, mode: ModelConfig['ptq_input']): tf.Tensor {
  return tf.tidy(() => {
    const x = mode === 'probs' ? tf.softmax(logits, -1) : logits;
    return logSoftmax(alpha === 1 ? x : tf.mul(x, alpha));
  });
}

/**
 * Reward weights of Eq. 11 from attention scores (scaling already applied).
 * w[b,t] = (1/n_b) Σ_{i ∈ members} softmax_{t' ∈ members}(S[b,i,t'])[t], with members the
 * valid positions (or the response positions under `reward_weight_scope = response_tokens`).
 * Non-member keys get −1e9 before the softmax; non-member query rows are left out of the sum;
 * non-member positions get w = 0. With `causal`, query i also masks keys t' > i.
 *
 * @param scores [B,T,T] q·kᵀ (already divided by √d_a where configured)
 * @param members {0,1} [B,T]
 */
export function rewardWeightsFromScores(scores: tf.Tensor3D, members: tf.Tensor2D, causal: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const [, T] = members.shape;
    let keyMask: tf.Tensor = tf.expandDims(members, 1); // [B,1,T]
    if (causal) keyMask = tf.mul(keyMask, tf.expandDims(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), 0));
    const masked = tf.add(scores, tf.mul(tf.sub(1, keyMask), -1e9));
    const A = tf.softmax(masked, -1); // [B,T(query),T(key)]
    return memberColumnMean(A as tf.Tensor3D, members);
  });
}

/**
 * Reward weights of Eq. 11 from given attention probabilities (`reward_weight_source =
 * backbone_last_layer`: the last block's probabilities averaged over heads, causal).
 * Each member query row is restricted to member keys and renormalised (a no-op for
 * `all_tokens`, whose padded keys already have probability 0), then the rows are averaged
 * as in `rewardWeightsFromScores`.
 *
 * @param probs [B,T,T] row-stochastic attention (query × key)
 * @param members {0,1} [B,T]
 */
export function rewardWeightsFromProbs(probs: tf.Tensor3D, members: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const kept = tf.mul(probs, tf.expandDims(members, 1));
    const A = tf.div(kept, tf.maximum(tf.sum(kept, -1, true), 1e-12));
    return memberColumnMean(A as tf.Tensor3D, members);
  });
}

/** w[b,t] = (1/n_b) Σ_{i member} A[b,i,t], 0 on non-member t (the column mean of Eq. 11). */
function memberColumnMean(A: tf.Tensor3D, members: tf.Tensor2D): tf.Tensor2D {
  const rows = tf.mul(A, tf.expandDims(members, 2)); // drop non-member query rows
  const n = tf.maximum(tf.sum(members, 1, true), 1); // [B,1]
  const colSum = tf.sum(rows, 1) as tf.Tensor2D; // [B,T]
  return tf.mul(tf.div(colSum, n), members) as tf.Tensor2D;
}

/**
 * σ parameterisation (spec §3, §8 #13), returned as log σ so that weighted stds can be
 * formed in log space: `exp` clamps the raw log-std; `softplus` uses log(softplus(s) + eps).
 */
export function logSigmaFromRaw(raw: tf.Tensor, cfg: Pick<ModelConfig, 'sigma_param' | 'log_sigma_min' | 'log_sigma_max' | 'softplus_eps'>): tf.Tensor {
  return tf.tidy(() =>
    cfg.sigma_param === 'exp'
      ? tf.clipByValue(raw, cfg.log_sigma_min, cfg.log_sigma_max)
      : tf.log(tf.add(tf.softplus(raw), cfg.softplus_eps)),
  );
}
