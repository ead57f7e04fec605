/**
 * PPO's arithmetic (spec §6.6: the classic TRL PPO defaults), as small functions tested on
 * hand-computed values (test/ppo.test.ts). The training loop is ./trainPpo.ts.
 *
 * Per response token t of a rollout (the transition whose action is that token):
 *   kl_t      = log π_old(a_t|s_t) − log π_ref(a_t|s_t)
 *   r_t       = −kl_coef·kl_t, plus the reward model's score at the last token (sparse at EOS),
 *               or plus its reward of token t itself (dense, spec §8 #26)
 *   δ_t       = r_t + γ·V(s_{t+1}) − V(s_t)       (V after the last token = 0)
 *   A_t       = δ_t + γλ·A_{t+1}                   (GAE), returns R_t = A_t + V(s_t)
 * Losses on a minibatch, means over its response tokens (`masked_mean`):
 *   ratio     = exp(log π_θ − log π_old)
 *   L_pg      = mean(max(−A·ratio, −A·clip(ratio, 1 − ε, 1 + ε)))
 *   V_clip    = V_old + clip(V_θ − V_old, −ε_v, ε_v)
 *   L_vf      = ½·mean(max((V_θ − R)², (V_clip − R)²))
 *   L         = L_pg + vf_coef·L_vf
 * with the clip fractions and ½·mean((log π_θ − log π_old)²) (approximate KL) as diagnostics.
 * The adaptive KL controller (Ziegler et al. 2019) multiplies kl_coef after each batch by
 * 1 + clip(KL/target − 1, −0.2, 0.2)·n/horizon, n the batch's sequence count.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface PpoLossInputs {
  /** log π_θ of each action [B,T] (under the current parameters). */
  logp: tf.Tensor2D;
  oldLogp: tf.Tensor2D;
  /** V_θ [B,T]. */
  values: tf.Tensor2D;
  oldValues: tf.Tensor2D;
  advantages: tf.Tensor2D;
  returns: tf.Tensor2D;
  /** 1 on response tokens. */
  mask: tf.Tensor2D;
}

export interface PpoCoefficients {
  cliprange: number;
  cliprange_value: number;
  vf_coef: number;
}

export interface PpoLosses {
  loss: tf.Scalar;
  policy: tf.Scalar;
  value: tf.Scalar;
  clipfrac: tf.Scalar;
  valueClipfrac: tf.Scalar;
  approxKl: tf.Scalar;
}

function maskedMean(x: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.mul(x, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** The clipped policy and value losses of one minibatch (call inside a gradient function). */
export function ppoLosses(x: PpoLossInputs, c: PpoCoefficients): PpoLosses {
  const { mask } = x;
  const vClipped = tf.add(x.oldValues, tf.clipByValue(tf.sub(x.values, x.oldValues), -c.cliprange_value, c.cliprange_value));
  const vf1 = tf.square(tf.sub(x.values, x.returns));
  const vf2 = tf.square(tf.sub(vClipped, x.returns));
  const value = tf.mul(0.5, maskedMean(tf.maximum(vf1, vf2), mask)) as tf.Scalar;
  const logRatio = tf.sub(x.logp, x.oldLogp);
  const ratio = tf.exp(logRatio);
  const pg1 = tf.mul(tf.neg(x.advantages), ratio);
  const pg2 = tf.mul(tf.neg(x.advantages), tf.clipByValue(ratio, 1 - c.cliprange, 1 + c.cliprange));
  const policy = maskedMean(tf.maximum(pg1, pg2), mask);
  return {
    loss: tf.add(policy, tf.mul(c.vf_coef, value)) as tf.Scalar,
    policy,
    value,
    clipfrac: maskedMean(tf.cast(tf.greater(pg2, pg1), 'float32'), mask),
    valueClipfrac: maskedMean(tf.cast(tf.greater(vf2, vf1), 'float32'), mask),
    approxKl: tf.mul(0.5, maskedMean(tf.square(logRatio), mask)) as tf.Scalar,
  };
}

/**
 * GAE over one sequence's response tokens: `rewards[t]`, `values[t]` for t = 0..n−1.
 * Returns the advantages and the returns (A + V).
 */
export function gae(rewards: readonly number[], values: readonly number[], gamma: number, lam: number): { advantages: number[]; returns: number[] } {
  const n = rewards.length;
  const advantages = new Array<number>(n).fill(0);
  let next = 0;
  for (let t = n - 1; t >= 0; t--) {
    const nextValue = t + 1 < n ? values[t + 1] : 0;
    const delta = rewards[t] + gamma * nextValue - values[t];
    next = delta + gamma * lam * next;
    advantages[t] = next;
  }
  return { advantages, returns: advantages.map((a, t) => a + values[t]) };
}

/**
 * Per-token rewards of one sequence: −kl_coef·kl_t, plus a scalar score at the last token
 * (`sparse_at_eos`) or a reward per token (`dense`, one per kl_t).
 */
export function tokenRewards(kl: readonly number[], score: number | readonly number[], klCoef: number): number[] {
  const r = kl.map((k) => -klCoef * k);
  if (typeof score === 'number') {
    if (r.length > 0) r[r.length - 1] += score;
    return r;
  }
  if (score.length !== r.length) throw new RangeError(`dense rewards: ${score.length} values for ${r.length} tokens`);
  return r.map((x, t) => x + score[t]);
}

/** (x − mean)/std over all values (population std, as TRL's `whiten`); unchanged when std is 0. */
export function whiten(xs: readonly number[]): number[] {
  const n = xs.length;
  if (n < 2) return [...xs];
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
  return sd > 0 ? xs.map((x) => (x - mean) / (sd + 1e-8)) : xs.map((x) => x - mean);
}

/** kl_coef: fixed, or adapted towards `target` KL over `horizon` sequences. */
export class KlController {
  constructor(
    public value: number,
    private readonly adaptive: { target: number; horizon: number } | null,
  ) {}

  update(currentKl: number, sequences: number): void {
    if (!this.adaptive || !Number.isFinite(currentKl)) return;
    const error = Math.min(0.2, Math.max(-0.2, currentKl / this.adaptive.target - 1));
    this.value *= 1 + (error * sequences) / this.adaptive.horizon;
  }
}
