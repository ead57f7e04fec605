/**
 * How each logged loss term averages over a batch, so that a data-parallel shard can compute
 * exactly its share of the full-batch loss (src/core/train/parallel.ts).
 *
 * Every term is a ratio Σ(contributions) / max(count, 1) whose count adds up over disjoint
 * shards of the batch:
 * - per-sequence or per-pair means (`seq_sum_batch_mean`, `seq_mean`, CER, BT, PT, DPO):
 *   count = number of sequences (pairs), the shard's rows;
 * - token means (`token_mean`, SFT, the LM warm-start): count = unmasked transitions Σ mask,
 *   with the very mask the term divides by (spec §1.4).
 * The diagnostics of objectives/common.ts (reward_margin, response_weight) are per-row means.
 * A shard's term t_k = Σ_k / max(n_k, 1), so the full-batch term Σ_all / max(N, 1) equals
 * Σ_k t_k · max(n_k, 1) / max(N, 1) with N = Σ_k n_k (when n_k = 0 the shard's contributions are
 * masked to 0). The gradient of the full loss is therefore the sum of the gradients of the
 * shards' losses Σ_terms share·t_k, share = max(n_k, 1)/max(N, 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, ObjectiveConfig } from '../experiment/config.js';
import type { PairBatch, SeqBatch } from '../data/types.js';
import { transitionMasks, weightMembers } from './masks.js';
import { responseActions, validActions } from './baselines.js';

const total = (mask: tf.Tensor): number => tf.tidy(() => tf.sum(mask).dataSync()[0]);

/** Rows of a pair batch: the count of every per-pair mean (CER, BT, PT, DPO, the diagnostics). */
export function pairCount(pair: PairBatch): number {
  return pair.chosen.lengths.length;
}

/** Transitions whose action is a response token (SFT's token mean). */
export function responseActionCount(batch: SeqBatch): number {
  return total(responseActions(batch));
}

/** Transitions whose action is any valid token (the LM warm-start's token mean). */
export function validActionCount(batch: SeqBatch): number {
  return total(validActions(batch));
}

/** nll/kl/td counts of one AVA sequence batch: its rows, or Σ of the term's mask under `token_mean` (spec §2.2). */
export function avaTermCounts(batch: SeqBatch, m: ModelConfig, o: ObjectiveConfig): { nll: number; kl: number; td: number } {
  const rows = batch.lengths.length;
  if (o.reduction !== 'token_mean') return { nll: rows, kl: rows, td: rows };
  return tf.tidy(() => {
    const masks = transitionMasks(batch, o, weightMembers(batch, m));
    return { nll: total(masks.lik), kl: total(masks.kl), td: total(masks.td) };
  });
}

/** share = max(n_k, 1) / max(N, 1) of every term (see the module comment). */
export function termShares(shard: Record<string, number>, whole: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(shard).map(([term, n]) => [term, Math.max(n, 1) / Math.max(whole[term] ?? 0, 1)]));
}
