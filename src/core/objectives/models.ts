/**
 * The models an objective trains and reads: the policy (the TQR being trained) and, for the
 * objectives whose table entry asks for one (DPO, spec §6.3), a frozen reference. One
 * checkpoint holds both: the reference's tensors are stored under the prefix `reference/`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { TQR } from '../model/tqr.js';

/** The trained model and, for DPO, its frozen reference (spec §6.3). */
export interface Models {
  policy: TQR;
  reference: TQR | null;
}

const REFERENCE_PREFIX = 'reference/';

export function packWeights(models: Models): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>(models.policy.variables());
  for (const [name, v] of models.reference?.variables() ?? []) out.set(REFERENCE_PREFIX + name, v);
  return out;
}

export function splitWeights(weights: Map<string, tf.Tensor>): { policy: Map<string, tf.Tensor>; reference: Map<string, tf.Tensor> | null } {
  const policy = new Map<string, tf.Tensor>();
  const reference = new Map<string, tf.Tensor>();
  for (const [name, t] of weights) {
    if (name.startsWith(REFERENCE_PREFIX)) reference.set(name.slice(REFERENCE_PREFIX.length), t);
    else policy.set(name, t);
  }
  return { policy, reference: reference.size > 0 ? reference : null };
}
