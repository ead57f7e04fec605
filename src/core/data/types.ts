/**
 * Host-side examples (plain arrays) and device-side batches (tensors), spec §1.2.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** A tokenized sequence: BOS + prompt tokens + response tokens (+ EOS). */
export interface EncodedSeq {
  /** ids[0] is BOS. */
  ids: number[];
  /** Number of leading positions that are not response (BOS + prompt); resp[j] = j >= promptLen. */
  promptLen: number;
}

/** A demonstration row after tokenization. */
export interface DemoExample {
  /** 1-based line in the source JSONL (or index+1 for generated data). */
  line: number;
  seq: EncodedSeq;
  /** Gold per-token reward of the response tokens (built-in tasks), aligned with response ids. */
  goldTokens?: number[];
}

/** A preference row after tokenization. */
export interface PairExample {
  line: number;
  chosen: EncodedSeq;
  rejected: EncodedSeq;
  /** Built-in tasks: gold sequence rewards and whether the stored label agrees with the gold. */
  gold?: { chosen: number; rejected: number; labelAgrees: boolean; /** P(stored label = gold ranking) under the task's noise model. */ pLabelCorrect?: number };
  goldTokens?: { chosen: number[]; rejected: number[] };
}

/** Device-side batch of sequences, right-padded to T (spec §1.2). */
export interface SeqBatch {
  /** int32 [B,T]. */
  ids: tf.Tensor2D;
  /** float32 {0,1} [B,T]: real tokens. */
  valid: tf.Tensor2D;
  /** float32 {0,1} [B,T]: response tokens (subset of valid). */
  resp: tf.Tensor2D;
  /** Host copy of len[b] (number of valid tokens). */
  lengths: number[];
}

export interface PairBatch {
  chosen: SeqBatch;
  rejected: SeqBatch;
}
