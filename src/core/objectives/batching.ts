/**
 * Device batches for one training or evaluation step, and the single forward pass that
 * scores both halves of a preference batch (chosen and rejected are concatenated along the
 * batch axis, so one set of matmuls serves both, then the outputs are split again).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PairBatch, SeqBatch } from '../data/types.js';
import type { TQR } from '../model/tqr.js';
import type { ForwardRequest, TQROutputs } from '../model/types.js';
import type { SeqView } from './common.js';

export function disposeSeqBatch(b: SeqBatch): void {
  tf.dispose([b.ids, b.valid, b.resp]);
}

export function disposePairBatch(p: PairBatch): void {
  disposeSeqBatch(p.chosen);
  disposeSeqBatch(p.rejected);
}

function concatBatches(a: SeqBatch, b: SeqBatch): SeqBatch {
  return {
    ids: tf.concat([a.ids, b.ids], 0),
    valid: tf.concat([a.valid, b.valid], 0),
    resp: tf.concat([a.resp, b.resp], 0),
    lengths: [...a.lengths, ...b.lengths],
  };
}

function sliceRows<T extends tf.Tensor>(t: T, start: number, size: number): T {
  const begin = t.shape.map((_, i) => (i === 0 ? start : 0));
  const sz = t.shape.map((d, i) => (i === 0 ? size : d));
  return tf.slice(t, begin, sz) as T;
}

function sliceOutputs(out: TQROutputs, start: number, size: number): TQROutputs {
  const s = <T extends tf.Tensor>(t: T | null): T | null => (t === null ? null : sliceRows(t, start, size));
  return { h: sliceRows(out.h, start, size), logits: s(out.logits), q: s(out.q), mu: s(out.mu), logSigma: s(out.logSigma), w: sliceRows(out.w, start, size), value: s(out.value) };
}

/** Forward chosen and rejected in one pass. Call inside tf.tidy (or a gradient function). */
export function forwardPair(model: TQR, pair: PairBatch, req: ForwardRequest): { chosen: SeqView; rejected: SeqView } {
  if (pair.chosen.ids.shape[1] !== pair.rejected.ids.shape[1]) throw new Error('forwardPair: chosen and rejected must be padded to the same length');
  const B = pair.chosen.lengths.length;
  const out = model.forward(concatBatches(pair.chosen, pair.rejected), req);
  return {
    chosen: { batch: pair.chosen, out: sliceOutputs(out, 0, B) },
    rejected: { batch: pair.rejected, out: sliceOutputs(out, B, pair.rejected.lengths.length) },
  };
}

export function forwardSeq(model: TQR, batch: SeqBatch, req: ForwardRequest): SeqView {
  return { batch, out: model.forward(batch, req) };
}
