/**
 * The shapes every objective shares: what it reads (a batch and the model's outputs on it)
 * and what it returns (the loss to minimise and its logged parts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SeqBatch } from '../data/types.js';
import type { TQROutputs } from '../model/types.js';

/** One batch of sequences and the TQR outputs computed on it. */
export interface SeqView {
  batch: SeqBatch;
  out: TQROutputs;
}

/**
 * loss is what is minimised; terms are the reduced contributions (for logging), e.g. nll,
 * neg, kl, td, cer, bt, pt, dpo, sft, lm. The terms already carry their coefficients, so
 * they add up to the loss. diagnostics are logged beside them and are not part of the loss
 * (e.g. reward_margin, response_weight); each is a mean over the batch's rows (pairs or
 * sequences), so data-parallel shards combine them like per-row terms (shares.ts).
 */
export interface LossResult {
  loss: tf.Scalar;
  terms: Record<string, tf.Scalar>;
  diagnostics?: Record<string, tf.Scalar>;
}

/** A model output an objective needs; its absence is a bug in the caller's ForwardRequest. */
export function required<T>(x: T | null, name: string): T {
  if (x === null) throw new Error(`objective needs the model output '${name}', which the forward pass did not compute`);
  return x;
}

/** The loss as the sum of its (already weighted) terms. Call inside `tf.tidy`. */
export function lossFromTerms(terms: Record<string, tf.Scalar>): LossResult {
  return { loss: tf.addN(Object.values(terms)) as tf.Scalar, terms };
}
