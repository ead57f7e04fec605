/**
 * What the TQR model returns (spec §3). All tensors are unweighted head outputs plus the
 * reward weights w; the objectives apply w (spec §3 `reward_weight_targets`).
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface TQROutputs {
  /** Last-layer hidden states after the final layer norm, [B,T,H]. */
  h: tf.Tensor3D;
  /** LM-head logits z, [B,T,V] (present when requested). */
  logits: tf.Tensor3D | null;
  /** Q-values, [B,T,V]: ptq(z) for q_head=pretrained (spec §4) or the fresh head's output. */
  q: tf.Tensor3D | null;
  /** Reward mean μ, [B,T]. */
  mu: tf.Tensor2D | null;
  /** log σ after the σ parameterisation and clamp (spec §3), [B,T]. */
  logSigma: tf.Tensor2D | null;
  /** Reward weights w (Eq. 11), [B,T]; ones on valid positions when rwt is off, 0 on padding. */
  w: tf.Tensor2D;
  /** Scalar value head v = Dense(H→1)(h), [B,T], for Bradley-Terry (read at last) and Preference Transformer. */
  value: tf.Tensor2D | null;
}

/** Which parts of the forward pass to compute (skip what an objective does not need). */
export interface ForwardRequest {
  logits?: boolean;
  q?: boolean;
  reward?: boolean;
  weights?: boolean;
  value?: boolean;
  /** Dropout on (training) or off. */
  training?: boolean;
}
