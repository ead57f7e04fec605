/**
 * Batches (spec §1.2): sequences right-padded to a common T, with the `valid` and `resp`
 * masks, and a seeded shuffling sampler whose position is part of a checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { AvaError } from '../errors.js';
import type { EncodedSeq, PairBatch, PairExample, SeqBatch } from './types.js';

/** Host-side batch (row-major [B,T]), e.g. for sending to a worker before making tensors. */
export interface PackedSeqs {
  B: number;
  T: number;
  ids: Int32Array;
  /** 1 on real tokens. */
  valid: Float32Array;
  /** 1 on response tokens: j >= promptLen and j < len. */
  resp: Float32Array;
  lengths: number[];
}

/** Right-pads `seqs` to T (default: the longest) with `padId`. */
export function packSeqs(seqs: EncodedSeq[], padTo?: number, padId = 0): PackedSeqs {
  if (seqs.length === 0) throw new RangeError('cannot batch zero sequences');
  const lengths = seqs.map((s) => s.ids.length);
  const longest = Math.max(...lengths);
  const T = padTo ?? longest;
  if (T < longest) throw new RangeError(`padTo = ${T} is shorter than the longest sequence (${longest})`);
  const B = seqs.length;
  const ids = new Int32Array(B * T).fill(padId);
  const valid = new Float32Array(B * T);
  const resp = new Float32Array(B * T);
  seqs.forEach((seq, b) => {
    ids.set(seq.ids, b * T);
    valid.fill(1, b * T, b * T + seq.ids.length);
    resp.fill(1, b * T + seq.promptLen, b * T + seq.ids.length);
  });
  return { B, T, ids, valid, resp, lengths };
}

/** Tensors of a packed batch (the caller disposes them). */
export function toSeqBatch(p: PackedSeqs): SeqBatch {
  return {
    ids: tf.tensor2d(p.ids, [p.B, p.T], 'int32'),
    valid: tf.tensor2d(p.valid, [p.B, p.T], 'float32'),
    resp: tf.tensor2d(p.resp, [p.B, p.T], 'float32'),
    lengths: p.lengths,
  };
}

/** Sequences ⇒ ids int32 [B,T], valid and resp float32 [B,T], right padding with `padId` (tok.pad). */
export function collateSeqs(seqs: EncodedSeq[], padTo?: number, padId = 0): SeqBatch {
  return toSeqBatch(packSeqs(seqs, padTo, padId));
}

/**
 * Chosen and rejected halves, both padded to the same T (the longest of either side, or
 * `padTo`) so a trainer can concatenate them into one forward pass of 2B sequences.
 */
export function collatePairs(pairs: PairExample[], padTo?: number, padId = 0): PairBatch {
  const T = padTo ?? Math.max(...pairs.flatMap((p) => [p.chosen.ids.length, p.rejected.ids.length]));
  return {
    chosen: collateSeqs(pairs.map((p) => p.chosen), T, padId),
    rejected: collateSeqs(pairs.map((p) => p.rejected), T, padId),
  };
}

// ---------------------------------------------------------------------------------------------

export interface SamplerState {
  /** Which shuffle of the data is being walked (0-based). */
  epoch: number;
  /** Next index into that shuffle. */
  pos: number;
  seed: number;
}

/**
 * Batches of example indices: each epoch walks a fresh permutation drawn from
 * seedrandom(`ava-batches:<seed>:<epoch>`), so `{epoch, pos, seed}` is all a checkpoint needs
 * to continue the same order. A batch that runs past the end of an epoch continues into the
 * next one; every batch has exactly `batchSize` indices.
 */
export class BatchSampler {
  private epoch: number;
  private pos: number;
  private order: number[];

  constructor(
    readonly n: number,
    readonly batchSize: number,
    readonly seed: number,
    start: { epoch: number; pos: number } = { epoch: 0, pos: 0 },
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`BatchSampler needs at least one example, got n = ${n}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    this.epoch = start.epoch;
    this.pos = start.pos;
    this.order = permutation(n, seed, this.epoch);
  }

  /** Resumes from `state()`; the data must have the same number of examples. */
  static fromState(n: number, batchSize: number, state: SamplerState): BatchSampler {
    const ok = [state.epoch, state.pos].every((x) => Number.isInteger(x) && x >= 0) && state.pos <= n && Number.isFinite(state.seed);
    if (!ok) throw new AvaError('checkpoint', `batch sampler state ${JSON.stringify(state)} does not fit a dataset of ${n} examples`);
    return new BatchSampler(n, batchSize, state.seed, state);
  }

  next(): number[] {
    const batch: number[] = [];
    while (batch.length < this.batchSize) {
      if (this.pos === this.n) this.startEpoch(this.epoch + 1);
      const take = Math.min(this.batchSize - batch.length, this.n - this.pos);
      batch.push(...this.order.slice(this.pos, this.pos + take));
      this.pos += take;
    }
    return batch;
  }

  state(): SamplerState {
    return { epoch: this.epoch, pos: this.pos, seed: this.seed };
  }

  private startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.pos = 0;
    this.order = permutation(this.n, this.seed, epoch);
  }
}

/** Fisher–Yates shuffle of 0..n-1. */
function permutation(n: number, seed: number, epoch: number): number[] {
  const rng = seedrandom(`ava-batches:${seed}:${epoch}`);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
