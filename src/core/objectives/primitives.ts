/**
 * Elementwise primitives of the AVA objectives (spec §2, §12).
 *
 * Standard deviations are always passed as log σ, so that weighted stds σ̃ = w·σ can be
 * formed in log space (log σ̃ = log max(w, 1e-12) + log σ) without under- or overflow.
 */
import * as tf from '@tensorflow/tfjs-core';
import { logSumExp } from '../engine/fastops.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** KL(N(m, s²) ‖ N(0, 1)) = 0.5·(s² + m² − 1) − log s (spec §2), with s = exp(logS). */
export function klStd(m: tf.Tensor, logS: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const s2 = tf.exp(tf.mul(logS, 2));
    return tf.sub(tf.mul(tf.add(tf.sub(s2, 1), tf.square(m)), 0.5), logS);
  });
}

/** log N(x; m, s²) = −0.5·log 2π − log s − 0.5·((x − m)/s)² (spec §2), with s = exp(logS). */
export function normalLogPdf(x: tf.Tensor, m: tf.Tensor, logS: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const z = tf.mul(tf.sub(x, m), tf.exp(tf.neg(logS)));
    return tf.sub(tf.neg(tf.add(logS, HALF_LOG_2PI)), tf.mul(tf.square(z), 0.5));
  });
}

/**
 * Q[…, a] for each row: a one-hot multiply-and-sum (fast kernels and a cheap gradient on
 * wasm, unlike the gradient of `tf.gather`). An action outside [0, V) (e.g. −1) picks 0.
 *
 * @param q [..., V]
 * @param actions int32 [...]
 */
export function pickActions(q: tf.Tensor, actions: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const V = q.shape[q.shape.length - 1];
    return tf.sum(tf.mul(q, tf.oneHot(actions, V)), -1);
  });
}

/**
 * log softmax(β·Q)[a] = β·Q[a] − logsumexp_v(β·Q[v]) (spec §2 logBoltz, Eq. 5).
 * With β = 1 and logits in place of Q this is the token log-probability of a language model.
 *
 * @param qRows [..., V]
 * @param actions int32 [...]; an action outside [0, V) gives −logsumexp (mask it out)
 */
export function logBoltz(qRows: tf.Tensor, actions: tf.Tensor, beta: number): tf.Tensor {
  return tf.tidy(() => {
    const scaled = beta === 1 ? qRows : tf.mul(qRows, beta);
    return tf.sub(pickActions(scaled, actions), logSumExp(scaled));
  });
}

/** −log sigmoid(x) = softplus(−x), the Bradley-Terry / DPO link. */
export function negLogSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.softplus(tf.neg(x)));
}

/**
 * Identity in the forward pass, zero gradient in the backward pass (TensorFlow's
 * stop_gradient, which tfjs-core lacks). Used by `td_stop_grad` (spec §8 #19).
 */
export const stopGradient = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;
