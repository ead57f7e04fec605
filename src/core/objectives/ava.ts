/**
 * The AVA objectives: AVA-d (spec §2.2, Eq. 5–7 and 13–14), AVA-p with CER (spec §2.3,
 * Eq. 15–18) and the sequence reward of spec §2.3 / §5.
 *
 * All functions create tensors; call them inside `tf.tidy` (the entry points in index.ts do).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, ObjectiveConfig } from '../experiment/config.js';
import type { SeqBatch } from '../data/types.js';
import { lossFromTerms, required, type LossResult, type SeqView } from './common.js';
import {
  applyRewardWeights,
  columns,
  nextActions,
  rewardOffset,
  shiftLeft,
  transitionCount,
  transitionMasks,
  weightMembers,
  type TransitionMasks,
  type WeightedHeads,
} from './masks.js';
import { klStd, logBoltz, negLogSigmoid, normalLogPdf, pickActions, stopGradient } from './primitives.js';

/** Everything the AVA terms read from one batch of sequences. */
export interface AvaSequence {
  /** int32 [B,T]. */
  ids: tf.Tensor2D;
  /** Unweighted Q (ptq or fresh head), [B,T,V]. */
  q: tf.Tensor3D;
  heads: WeightedHeads;
  masks: TransitionMasks;
}

/** Builds the AVA inputs of one batch: reward weights applied, masks of spec §1.4. */
export function avaSequence(seq: SeqView, m: ModelConfig, o: ObjectiveConfig): AvaSequence {
  return {
    ids: seq.batch.ids,
    q: required(seq.out.q, 'q'),
    heads: applyRewardWeights(seq.out, m),
    masks: transitionMasks(seq.batch, o, weightMembers(seq.batch, m)),
  };
}

/** The switches the per-transition terms depend on; `likelihood` is the resolved `likelihood_form`. */
export type TransitionOptions = Pick<ObjectiveConfig, 'beta' | 'gamma' | 'terminal_handling' | 'td_reward_alignment' | 'td_stop_grad'> & {
  likelihood: 'boltzmann' | 'scaled_q';
};

/** Per-transition terms of L_d (spec §2.2), each [B,n] and already multiplied by its mask. */
export interface TransitionTerms {
  /** −ℓ_j · m_lik. */
  nll: tf.Tensor2D;
  /** KL_std(mut_j', sigt_j') · m_kl. */
  kl: tf.Tensor2D;
  /** −logN(δ_j; mut_j', sigt_j') · m_td (without λ). */
  td: tf.Tensor2D;
}

/**
 * Chosen-action values qa[b,k] = Qt[b,k,ids[b,k+1]] at every position k (0 at k = T−1),
 * spec §1.3. Picks the raw Q first and weights the picked values (Qt = w·Q).
 */
function chosenQ(s: AvaSequence, actions: tf.Tensor2D): tf.Tensor2D {
  const qa = pickActions(s.q, actions) as tf.Tensor2D;
  return s.heads.qWeight === null ? qa : tf.mul(s.heads.qWeight, qa);
}

/**
 * ℓ at every position k (spec §2.2): `scaled_q` ℓ = β·qa (Eq. 13, literal for ptq) or
 * `boltzmann` ℓ = log softmax(β·Qt[k])[ids[k+1]] (Eq. 5).
 */
function likelihood(s: AvaSequence, actions: tf.Tensor2D, qa: tf.Tensor2D, o: TransitionOptions): tf.Tensor2D {
  if (o.likelihood === 'scaled_q') return tf.mul(qa, o.beta);
  const qt = s.heads.qWeight === null ? s.q : tf.mul(s.q, tf.expandDims(s.heads.qWeight, 2));
  return logBoltz(qt, actions, o.beta) as tf.Tensor2D;
}

/**
 * TD error δ_j = qa[j] − γ·qa[j+1] (Eq. 7 / Eq. 14), with qa[j+1] := 0 where the next action
 * does not exist (`zero_next_q`), and the stop-gradients of `td_stop_grad` (spec §8 #19).
 */
function tdError(qa: tf.Tensor2D, hasNext: tf.Tensor2D, n: number, o: TransitionOptions): tf.Tensor2D {
  let current: tf.Tensor = columns(qa, 0, n);
  let next: tf.Tensor = tf.mul(columns(shiftLeft(qa), 0, n), hasNext);
  if (o.td_stop_grad !== 'none') next = stopGradient(next);
  if (o.td_stop_grad === 'both_q') current = stopGradient(current);
  return tf.sub(current, tf.mul(next, o.gamma)) as tf.Tensor2D;
}

/**
 * The masked per-transition terms of spec §2.2:
 *   −ℓ_j·m_lik,  KL_std(mut_j', sigt_j')·m_kl,  −logN(δ_j; mut_j', sigt_j')·m_td,
 * with j' = j (`state`) or j+1 (`next_state`). Masked entries are computed on zeroed inputs
 * so that padding and weightless positions (w = 0) give neither Inf nor NaN gradients.
 */
export function transitionTerms(s: AvaSequence, o: TransitionOptions): TransitionTerms {
  const T = s.ids.shape[1];
  const n = transitionCount(T, o.terminal_handling);
  const actions = nextActions(s.ids);
  const qa = chosenQ(s, actions);
  const ell = columns(likelihood(s, actions, qa, o), 0, n);
  const delta = tdError(qa, s.masks.hasNext, n, o);
  const off = rewardOffset(o.td_reward_alignment);
  const mut = columns(s.heads.mut, off, n);
  const logSigt = columns(s.heads.logSigt, off, n);
  const { lik, kl, td } = s.masks;
  return {
    nll: tf.neg(tf.mul<tf.Tensor2D>(ell, lik)),
    kl: tf.mul(klStd(tf.mul(mut, kl), tf.mul(logSigt, kl)), kl) as tf.Tensor2D,
    td: tf.neg(tf.mul(normalLogPdf(tf.mul(delta, td), tf.mul(mut, td), tf.mul(logSigt, td)), td)) as tf.Tensor2D,
  };
}

/**
 * Reduces a masked [B,n] term to a scalar (spec §2.2 `reduction`):
 * `seq_sum_batch_mean` sums over j then averages over the B sequences (the paper's sums);
 * `token_mean` divides the batch sum by the number of unmasked transitions (AVRIL code);
 * `seq_mean` averages over each sequence's unmasked transitions, then over sequences.
 */
export function reduceTerm(x: tf.Tensor2D, mask: tf.Tensor2D, reduction: ObjectiveConfig['reduction']): tf.Scalar {
  switch (reduction) {
    case 'seq_sum_batch_mean':
      return tf.mean(tf.sum(x, 1));
    case 'token_mean':
      return tf.div(tf.sum(x), tf.maximum(tf.sum(mask), 1));
    case 'seq_mean':
      return tf.mean(tf.div(tf.sum(x, 1), tf.maximum(tf.sum(mask, 1), 1)));
  }
}

export type AvaDOptions = TransitionOptions &
  Pick<ObjectiveConfig, 'lambda' | 'kl_coef' | 'use_kl' | 'use_td' | 'reduction'>;

/** The KL and TD contributions of one sequence batch: kl_coef·KL (if use_kl) and λ·TD (if use_td). */
function irlTerms(s: AvaSequence, t: TransitionTerms, o: AvaDOptions, suffix: string): Record<string, tf.Scalar> {
  const terms: Record<string, tf.Scalar> = {};
  if (o.use_kl) terms[`kl${suffix}`] = tf.mul(reduceTerm(t.kl, s.masks.kl, o.reduction), o.kl_coef);
  if (o.use_td) terms[`td${suffix}`] = tf.mul(reduceTerm(t.td, s.masks.td, o.reduction), o.lambda);
  return terms;
}

/**
 * AVA-d loss (spec §2.2, Eq. 5–7; ptq form Eq. 13–14), minimised:
 *   L_d = Σ_j [ −ℓ_j·m_lik + kl_coef·KL_std(mut_j', sigt_j')·m_kl − λ·logN(δ_j; mut_j', sigt_j')·m_td ]
 * reduced over the batch by `reduction`. Terms: nll, kl, td.
 */
export function avaDLoss(s: AvaSequence, o: AvaDOptions): LossResult {
  const t = transitionTerms(s, o);
  return lossFromTerms({ nll: reduceTerm(t.nll, s.masks.lik, o.reduction), ...irlTerms(s, t, o, '') });
}

/**
 * CER loss per pair (spec §2.3, Eq. 18), Δ = R(y⁺) − R(y⁻):
 * `sigmoid` (literal) L_c = −σ(Δ); `log_sigmoid` (Bradley-Terry style) L_c = −log σ(Δ).
 */
export function cerLoss(rPlus: tf.Tensor1D, rMinus: tf.Tensor1D, form: ObjectiveConfig['cer_form']): tf.Tensor1D {
  const delta = tf.sub(rPlus, rMinus);
  return (form === 'sigmoid' ? tf.neg(tf.sigmoid(delta)) : negLogSigmoid(delta)) as tf.Tensor1D;
}

export type AvaPOptions = AvaDOptions &
  Pick<ObjectiveConfig, 'neg_likelihood_coef' | 'irl_terms_on' | 'cer_coef' | 'cer_form' | 'irl_ablation_keeps_cer'>;

/** spec §2.4 "w/o irl": with use_kl = use_td = false, CER is kept only if `irl_ablation_keeps_cer`. */
export function cerEnabled(o: Pick<ObjectiveConfig, 'use_kl' | 'use_td' | 'irl_ablation_keeps_cer'>): boolean {
  return o.use_kl || o.use_td || o.irl_ablation_keeps_cer;
}

/**
 * AVA-p loss (spec §2.3, Eq. 15–17 with CER Eq. 18), minimised and averaged over pairs:
 *   L = −Σ ℓ⁺·m_lik⁺ + c_neg·Σ ℓ⁻·m_lik⁻ + kl_coef·Σ KL⁺ − λ·Σ logN(δ⁺)
 *       [+ the KL and TD sums on y⁻ if irl_terms_on = both] + cer_coef·L_c(R⁺ − R⁻)
 * Terms: nll, neg, kl, td, kl_rejected, td_rejected, cer (each only when it applies).
 *
 * @param rewards sequence rewards R(y⁺), R(y⁻) [B] for CER (see `sequenceReward`)
 */
export function avaPLoss(
  chosen: AvaSequence,
  rejected: AvaSequence,
  rewards: { chosen: tf.Tensor1D; rejected: tf.Tensor1D },
  o: AvaPOptions,
): LossResult {
  const pos = transitionTerms(chosen, o);
  const neg = transitionTerms(rejected, o);
  const terms: Record<string, tf.Scalar> = {
    nll: reduceTerm(pos.nll, chosen.masks.lik, o.reduction),
    neg: tf.mul(reduceTerm(neg.nll, rejected.masks.lik, o.reduction), -o.neg_likelihood_coef),
    ...irlTerms(chosen, pos, o, ''),
    ...(o.irl_terms_on === 'both' ? irlTerms(rejected, neg, o, '_rejected') : {}),
  };
  if (cerEnabled(o)) terms.cer = tf.mul(tf.mean(cerLoss(rewards.chosen, rewards.rejected, o.cer_form)), o.cer_coef);
  return lossFromTerms(terms);
}

/**
 * Sequence reward R(y) [B] (spec §2.3, §5) from per-position values [B,T] (mut or raw μ):
 * `last` reads the last valid token (index len−1); `weighted_sum` sums over response tokens;
 * `mean` averages over response tokens.
 */
export function sequenceReward(values: tf.Tensor2D, batch: SeqBatch, mode: ObjectiveConfig['sequence_reward_mode']): tf.Tensor1D {
  if (mode === 'last') return valueAtLast(values, batch);
  const resp = tf.mul(batch.resp, batch.valid);
  const sum = tf.sum(tf.mul(values, resp), 1);
  return (mode === 'weighted_sum' ? sum : tf.div(sum, tf.maximum(tf.sum(resp, 1), 1))) as tf.Tensor1D;
}

/** x[b, len[b] − 1] (spec §12 "last index", right padding), as a one-hot product. */
export function valueAtLast(x: tf.Tensor2D, batch: SeqBatch): tf.Tensor1D {
  const last = tf.tensor1d(batch.lengths.map((n) => n - 1), 'int32');
  return tf.sum(tf.mul(x, tf.oneHot(last, x.shape[1])), 1) as tf.Tensor1D;
}

/**
 * The AVA sequence reward of one batch: `sequenceReward` over mut = w·μ
 * (`sequence_reward_weighted`, every `reward_weight_targets` option weights μ) or raw μ.
 */
export function avaSequenceReward(seq: SeqView, o: Pick<ObjectiveConfig, 'sequence_reward_mode' | 'sequence_reward_weighted'>): tf.Tensor1D {
  const mu = required(seq.out.mu, 'mu');
  const values = o.sequence_reward_weighted ? (tf.mul(seq.out.w, mu) as tf.Tensor2D) : mu;
  return sequenceReward(values, seq.batch, o.sequence_reward_mode);
}
