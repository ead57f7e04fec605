/**
 * Which positions enter the AVA losses (spec §1.3, §1.4) and how the reward weights w of
 * Eq. 11 are applied to the head outputs (spec §3, `reward_weight_targets`).
 *
 * Transition j (0-based) has state ids[0..j], action a_j = ids[j+1] and next action
 * a_{j+1} = ids[j+2]. The per-transition tensors have n columns: n = T−2 under
 * `terminal_handling = drop_last` (the paper's sum t = 1..|y|−2) and n = T−1 under
 * `zero_next_q` (the last action is included, with qa[last] := 0).
 *
 * These functions create tensors: call them inside `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, ObjectiveConfig } from '../experiment/config.js';
import type { SeqBatch } from '../data/types.js';
import type { TQROutputs } from '../model/types.js';
import { required } from './common.js';

/** log σ̃ uses max(w, W_FLOOR) so that w = 0 (padding, prompt) stays finite (spec §12). */
export const W_FLOOR = 1e-12;

/** x[:, k+1] at column k, 0 in the last column: the value belonging to the next position. */
export function shiftLeft(x: tf.Tensor2D): tf.Tensor2D {
  const [B, T] = x.shape;
  return tf.pad(tf.slice(x, [0, 1], [B, T - 1]), [[0, 0], [0, 1]]);
}

/** Columns [start, start+n) of a [B,T] tensor. */
export function columns(x: tf.Tensor2D, start: number, n: number): tf.Tensor2D {
  return tf.slice(x, [0, start], [x.shape[0], n]);
}

/** Action ids a_k = ids[k+1] for every position k, −1 (no action) at k = T−1. int32 [B,T]. */
export function nextActions(ids: tf.Tensor2D): tf.Tensor2D {
  const [B, T] = ids.shape;
  return tf.concat([tf.slice(ids, [0, 1], [B, T - 1]), tf.fill([B, 1], -1, 'int32')], 1);
}

/** Number of transition columns n (see the module comment). */
export function transitionCount(T: number, terminal: ObjectiveConfig['terminal_handling']): number {
  return Math.max(terminal === 'drop_last' ? T - 2 : T - 1, 0);
}

/** Position j' of the reward paired with δ_j (spec §1.3): j (`state`) or j+1 (`next_state`). */
export function rewardOffset(alignment: ObjectiveConfig['td_reward_alignment']): 0 | 1 {
  return alignment === 'state' ? 0 : 1;
}

/**
 * Positions that carry a reward weight (spec §3): under `reward_weight_scope =
 * response_tokens` only response tokens take part in Eq. 11, prompt positions get w = 0 and
 * must be masked out of every term. Returns null when every valid position has a weight
 * (scope `all_tokens`, or reward weights off so that w ≡ 1 on valid positions).
 */
export function weightMembers(batch: SeqBatch, m: Pick<ModelConfig, 'use_reward_weights' | 'reward_weight_scope'>): tf.Tensor2D | null {
  if (!m.use_reward_weights || m.reward_weight_scope === 'all_tokens') return null;
  return tf.mul<tf.Tensor2D>(batch.resp, batch.valid);
}

/** The masks of spec §1.4, each [B,n] and indexed by transition j. */
export interface TransitionMasks {
  /** m_lik: the likelihood term ℓ_j counts. */
  lik: tf.Tensor2D;
  /** m_kl: the KL term at j' counts. */
  kl: tf.Tensor2D;
  /** m_td: the TD term counts. */
  td: tf.Tensor2D;
  /** valid[j+2]: the next action exists; elsewhere qa[j+1] := 0 (`zero_next_q`). */
  hasNext: tf.Tensor2D;
}

export type MaskOptions = Pick<ObjectiveConfig, 'loss_token_scope' | 'terminal_handling' | 'td_reward_alignment'>;

/**
 * spec §1.4: m_td[b,j] = valid[b,j+2]·sel[b,j+1] (`drop_last`) or sel[b,j+1] for the T−1
 * transitions of `zero_next_q`; m_lik = m_kl = m_td; sel = resp (`response`) or valid (`all`).
 * With weight `members` (see `weightMembers`), each term is also masked where it reads a
 * position without a weight: ℓ_j reads j, KL reads j', TD reads j, j+1 and j'.
 */
export function transitionMasks(batch: SeqBatch, o: MaskOptions, members: tf.Tensor2D | null): TransitionMasks {
  const T = batch.valid.shape[1];
  const n = transitionCount(T, o.terminal_handling);
  const sel: tf.Tensor2D = o.loss_token_scope === 'response' ? tf.mul(batch.resp, batch.valid) : batch.valid;
  const actionSelected = columns(sel, 1, n);
  const hasNext = columns(shiftLeft(shiftLeft(batch.valid)), 0, n);
  const base: tf.Tensor2D = o.terminal_handling === 'drop_last' ? tf.mul(actionSelected, hasNext) : actionSelected;
  if (members === null) return { lik: base, kl: base, td: base, hasNext };
  const at = (offset: number) => columns(offset === 0 ? members : shiftLeft(members), 0, n);
  const state = at(0);
  const reward = at(rewardOffset(o.td_reward_alignment));
  return {
    lik: tf.mul(base, state),
    kl: tf.mul(base, reward),
    td: tf.mul(tf.mul(base, state), tf.mul(at(1), reward)),
    hasNext,
  };
}

/** Head outputs after the reward weights (spec §1.2: Qt = w·Q, mut = w·μ, sigt = w·σ). */
export interface WeightedHeads {
  /** The factor on Q (w) when `reward_weight_targets` includes Q, else null (Qt = Q). [B,T] */
  qWeight: tf.Tensor2D | null;
  /** mut = w·μ (every target option weights μ). [B,T] */
  mut: tf.Tensor2D;
  /** log sigt = log max(w, 1e-12) + log σ when σ is a target, else log σ. [B,T] */
  logSigt: tf.Tensor2D;
}

/**
 * Applies w to the outputs named by `reward_weight_targets` (spec §3, §8 #10):
 * `q_mu_sigma` (literal) weights Q, μ and σ; `mu_sigma` weights μ and σ; `mu` weights μ only.
 * `out.w` is the Eq. 11 weight, or ones on valid positions when rwt is off.
 */
export function applyRewardWeights(out: TQROutputs, m: Pick<ModelConfig, 'reward_weight_targets'>): WeightedHeads {
  const mu = required(out.mu, 'mu');
  const logSigma = required(out.logSigma, 'logSigma');
  const w = out.w;
  const targets = m.reward_weight_targets;
  return {
    qWeight: targets === 'q_mu_sigma' ? w : null,
    mut: tf.mul(w, mu),
    logSigt: targets === 'mu' ? logSigma : tf.add(tf.log(tf.maximum(w, W_FLOOR)), logSigma),
  };
}
