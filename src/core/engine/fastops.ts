/**
 * Ops whose forward and backward passes stay on the fast kernels of the `wasm` backend.
 *
 * Measured (docs/offline-environment.md): on wasm, `tf.matMul` with `transposeA`/`transposeB`
 * is 10-20x slower than the plain (NN) product, and autodiff's matmul gradients use exactly
 * those. The gradient of `tf.gather` (`UnsortedSegmentSum`) has no wasm kernel at all.
 * The ops below give the same values and gradients, written with explicit `tf.transpose`
 * followed by NN products, and a scatter-add for the embedding gradient.
 * Gradients need `registerGradients()` (./gradients.ts), which `initBackend` calls.
 */
import * as tf from '@tensorflow/tfjs-core';

/** [M,K]·[K,N]; dA = dY·Bᵀ, dB = Aᵀ·dY, each an NN product of an explicit transpose. */
const matMul2D = tf.customGrad((a, b, save) => {
  (save as tf.GradSaveFunc)([a as tf.Tensor, b as tf.Tensor]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, [A, B]: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor2D, tf.transpose(B)), tf.matMul(tf.transpose(A), dy as tf.Tensor2D)],
  };
});

/** [S,M,K]·[S,K,N], the same with batch-wise transposes. */
const matMul3D = tf.customGrad((a, b, save) => {
  (save as tf.GradSaveFunc)([a as tf.Tensor, b as tf.Tensor]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, [A, B]: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor3D, tf.transpose(B, [0, 2, 1])),
      tf.matMul(tf.transpose(A, [0, 2, 1]), dy as tf.Tensor3D),
    ],
  };
});

/**
 * Matrix product with untransposed kernels in both passes.
 * - `a` [..., M, K] × `b` [K, N] → [..., M, N] (a dense layer over any leading dimensions);
 * - `a` [..., M, K] × `b` [..., K, N] with the same leading dimensions → [..., M, N].
 */
export function matMulNN(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const K = a.shape[a.rank - 1];
  if (a.rank < 2 || b.rank < 2 || b.shape[b.rank - 2] !== K) {
    throw new Error(`matMulNN: inner dimensions differ: [${a.shape}] x [${b.shape}]`);
  }
  const N = b.shape[b.rank - 1];
  const lead = a.shape.slice(0, -1);
  if (b.rank === 2) {
    const y = matMul2D(tf.reshape(a, [-1, K]), b);
    return tf.reshape(y, [...lead, N]);
  }
  const batch = a.shape.slice(0, -2);
  if (a.rank !== b.rank || batch.some((d, i) => d !== b.shape[i])) {
    throw new Error(`matMulNN: batch dimensions differ: [${a.shape}] x [${b.shape}]`);
  }
  const M = a.shape[a.rank - 2];
  const y = matMul3D(tf.reshape(a, [-1, M, K]), tf.reshape(b, [-1, K, N]));
  return tf.reshape(y, [...lead, N]);
}

/** table[ids] with dTable = scatter-add of dY into the rows of ids (no UnsortedSegmentSum). */
const gatherRows = tf.customGrad((table, ids, save) => {
  (save as tf.GradSaveFunc)([ids as tf.Tensor]);
  const shape = (table as tf.Tensor).shape;
  return {
    value: tf.gather(table as tf.Tensor, ids as tf.Tensor1D),
    gradFunc: (dy: tf.Tensor, [I]: tf.Tensor[]) => [tf.scatterND(tf.expandDims(I, 1), dy, shape), tf.zerosLike(I)],
  };
});

/**
 * Embedding lookup: `table` [V,H], integer `ids` of any shape → [...ids.shape, H].
 * The table's gradient sums dY over repeated ids with `scatterND` (duplicates accumulate),
 * which costs O(#ids·H) memory, unlike a one-hot [V, #ids] product.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const H = table.shape[1];
  const rows = gatherRows(table, tf.reshape(tf.cast(ids, 'int32'), [-1]));
  return tf.reshape(rows, [...ids.shape, H]);
}

/** Identity forward, zero gradient (tfjs-core has no stop-gradient op). */
export const stopGradient = tf.customGrad((x) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as <T extends tf.Tensor>(x: T) => T;
