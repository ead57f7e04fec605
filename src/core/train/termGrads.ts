/**
 * Where each loss term pushes the parts of the model that decide R(y): the L2 norm of the
 * gradient that one term alone sends to the reward head (μ, σ) and to the Eq. 11 weight head,
 * before clipping. `train.term_grads_every: N` logs them every N objective steps as
 * `grad_reward.<term>` and `grad_weights.<term>` (docs/why-reward-stays-flat.md reads them).
 *
 * Each term costs one more forward and backward pass, which is why it is a switch (off by
 * default) and not part of every step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PairBatch, SeqBatch } from '../data/types.js';
import type { LossResult } from '../objectives/common.js';
import type { Models } from '../objectives/models.js';

/** Variable-name prefixes of the two groups (model/tqr.ts). */
export const TERM_GRAD_GROUPS = { reward: ['reward_head'], weights: ['reward_attn'] } as const;

export function termGradNorms(models: Models, batch: SeqBatch | PairBatch, lossFn: (m: Models, b: SeqBatch | PairBatch) => LossResult): Record<string, number> {
  const all = models.policy.variables();
  const groups = Object.entries(TERM_GRAD_GROUPS).map(([group, prefixes]) => ({
    group,
    vars: [...all.entries()].filter(([name]) => prefixes.some((p) => name.startsWith(p))).map(([, v]) => v),
  }));
  const wanted = groups.flatMap((g) => g.vars);
  if (!wanted.length) return {};
  const terms = tf.tidy(() => Object.keys(lossFn(models, batch).terms));
  const out: Record<string, number> = {};
  for (const term of terms) {
    tf.tidy(() => {
      const grads = gradsOrNone(() => lossFn(models, batch).terms[term], wanted);
      for (const { group, vars } of groups) {
        if (!vars.length) continue;
        const sq = vars.map((v) => (grads[v.name] ? tf.sum(tf.square(grads[v.name])) : tf.scalar(0)));
        out[`grad_${group}.${term}`] = Math.sqrt(tf.addN(sq).dataSync()[0]);
      }
    });
  }
  return out;
}

/** The gradients of f, or {} when f does not depend on any of `vars` (tf.js throws then): every norm is 0. */
function gradsOrNone(f: () => tf.Scalar, vars: tf.Variable[]): tf.NamedTensorMap {
  try {
    return tf.variableGrads(f, vars).grads;
  } catch (e) {
    if (e instanceof Error && /Cannot find a connection between any variable/.test(e.message)) return {};
    throw e;
  }
}
