/**
 * Baseline objectives of spec §6: Bradley-Terry (§6.1), Preference Transformer (§6.2),
 * DPO (§6.3), SFT (§6.4), and the next-token LM loss used for warm-starting.
 *
 * All functions create tensors; call them inside `tf.tidy` (the entry points in index.ts do).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SeqBatch } from '../data/types.js';
import { nextActions, shiftLeft } from './masks.js';
import { logBoltz, negLogSigmoid } from './primitives.js';

/** Bradley-Terry (spec §6.1): mean over pairs of −log σ(r⁺ − r⁻), r = value head at `last`. */
export function btLoss(rPlus: tf.Tensor1D, rMinus: tf.Tensor1D): tf.Scalar {
  return tf.mean(negLogSigmoid(tf.sub(rPlus, rMinus)));
}

/** Preference Transformer sequence reward (spec §6.2): R(y) = Σ_t w_t·v_t over valid tokens. [B] */
export function ptSequenceReward(value: tf.Tensor2D, w: tf.Tensor2D, valid: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(tf.mul(w, value), valid), 1) as tf.Tensor1D;
}

/**
 * Preference Transformer loss (spec §6.2): 2-class softmax cross-entropy over the logits
 * [R(y⁺), R(y⁻)] with label "first", averaged over pairs (= −log σ(R⁺ − R⁻) for hard labels).
 */
export function ptLoss(rPlus: tf.Tensor1D, rMinus: tf.Tensor1D): tf.Scalar {
  const logits = tf.stack([rPlus, rMinus], 1);
  const logProbFirst = tf.slice(tf.logSoftmax(logits, -1), [0, 0], [rPlus.shape[0], 1]);
  return tf.neg(tf.mean<tf.Scalar>(logProbFirst));
}

/**
 * DPO (spec §6.3): mean over pairs of
 *   −log σ(dpo_beta·[(logp_θ(y⁺) − logp_ref(y⁺)) − (logp_θ(y⁻) − logp_ref(y⁻))]).
 * The reference log-probabilities come from a frozen copy and carry no gradient.
 */
export function dpoLoss(
  policyChosen: tf.Tensor1D,
  policyRejected: tf.Tensor1D,
  refChosen: tf.Tensor1D,
  refRejected: tf.Tensor1D,
  dpoBeta: number,
): tf.Scalar {
  const margin = tf.sub(tf.sub(policyChosen, refChosen), tf.sub(policyRejected, refRejected));
  return tf.mean(negLogSigmoid(tf.mul(margin, dpoBeta)));
}

/** log π(ids[k+1] | ids[0..k]) at every position k (0-based), [B,T]; the last column is junk (mask it). */
export function tokenLogProbs(logits: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor2D {
  return logBoltz(logits, nextActions(ids), 1) as tf.Tensor2D;
}

/** Transitions k whose action ids[k+1] is a response token. [B,T] */
export function responseActions(batch: SeqBatch): tf.Tensor2D {
  return shiftLeft(tf.mul(batch.resp, batch.valid) as tf.Tensor2D);
}

/** Transitions k whose action ids[k+1] is a real token (prompt or response). [B,T] */
export function validActions(batch: SeqBatch): tf.Tensor2D {
  return shiftLeft(batch.valid);
}

/** logp(y) = Σ_{response tokens} log π(y_{t+1} | y_{1:t}) (spec §6.3), [B]. */
export function responseLogp(logits: tf.Tensor3D, batch: SeqBatch): tf.Tensor1D {
  return tf.sum(tf.mul(tokenLogProbs(logits, batch.ids), responseActions(batch)), 1) as tf.Tensor1D;
}

/** Mean of −log π over the transitions selected by `mask` [B,T], over the whole batch. */
function meanTokenNll(logits: tf.Tensor3D, ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  const nll = tf.neg(tf.sum(tf.mul(tokenLogProbs(logits, ids), mask)));
  return tf.div(nll, tf.maximum(tf.sum(mask), 1));
}

/** SFT (spec §6.4): mean token NLL on response tokens. */
export function sftLoss(logits: tf.Tensor3D, batch: SeqBatch): tf.Scalar {
  return meanTokenNll(logits, batch.ids, responseActions(batch));
}

/** LM warm-start: mean next-token NLL over every valid transition (prompt and response). */
export function lmLoss(logits: tf.Tensor3D, batch: SeqBatch): tf.Scalar {
  return meanTokenNll(logits, batch.ids, validActions(batch));
}
