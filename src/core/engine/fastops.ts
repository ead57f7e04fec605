/**
 * Ops whose forward and backward passes stay on the fast kernels of the `wasm` backend.
 *
 * Measured (docs/offline-environment.md, bench/profile.ts): on wasm,
 * - `tf.matMul` runs XNNPACK only for an untransposed 2-D product; with `transposeA`/`transposeB`
 *   or a batch dimension it falls back to a scalar loop (~1 GFLOP/s, 10-30x slower). Autodiff's
 *   matmul gradients use exactly those. 2-D products here are written as explicit `tf.transpose`
 *   followed by NN products; batched products run as a grouped (depthwise) convolution, which
 *   XNNPACK does run fast.
 * - the gradient of `tf.gather` (`UnsortedSegmentSum`) has no wasm kernel: a scatter-add instead;
 * - `exp`/`tanh` are scalar libm loops (3-5x slower than XNNPACK's `softmax`/`sigmoid`), and the
 *   gradient of `tf.max` (inside `tf.logSumExp`) is a broadcasting `Equal` with no fast path:
 *   log-sum-exp, log-softmax and GELU are written on `softmax`/`sigmoid` with closed-form gradients;
 * - reductions over a leading axis transpose first: bias and LayerNorm gain/shift gradients are
 *   column sums taken as a ones-row product;
 * - `Identity` copies its input, and the engine clones every tensor it saves for the backward pass:
 *   `installFastKernels` makes it an alias, as the cpu backend does (tensors are immutable).
 * The ops give the same values and gradients as the plain tfjs ops to float rounding (test/engine.test.ts).
 * Gradients need `registerGradients()` (./gradients.ts), which `initBackend` calls.
 */
import * as tf from '@tensorflow/tfjs-core';
// Registers the wasm kernels before `installFastKernels` replaces one (the package has side effects).
import '@tensorflow/tfjs-backend-wasm';

// ---- kernels ---------------------------------------------------------------------------------

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * Replaces wasm's copying `Identity` kernel with an alias that only counts a reference (the
 * cpu backend's implementation). Idempotent; called once when this module loads.
 */
export function installFastKernels(): void {
  const current = tf.getKernel(tf.Identity, 'wasm');
  if (!current || (current as { aliased?: boolean }).aliased) return;
  tf.unregisterKernel(tf.Identity, 'wasm');
  const alias: tf.KernelConfig & { aliased: boolean } = {
    kernelName: tf.Identity,
    backendName: 'wasm',
    aliased: true,
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      (backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
  tf.registerKernel(alias);
}
installFastKernels();

function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

// ---- products --------------------------------------------------------------------------------

/** [M,K]·[K,N]; dA = dY·Bᵀ, dB = Aᵀ·dY, each an NN product of an explicit transpose. */
const matMul2D = tf.customGrad((a, b, save) => {
  (save as tf.GradSaveFunc)([a as tf.Tensor, b as tf.Tensor]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, [A, B]: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor2D, tf.transpose(B)), tf.matMul(tf.transpose(A), dy as tf.Tensor2D)],
  };
});

/**
 * Batched product C[s] = op(A[s])·op(B[s]) with op = identity or transpose, [S,M,N].
 * On wasm it is a depthwise convolution: input [1, M, K, S] (row i, column k, channel s) and a
 * 1×K filter [1, K, S, N] (channel s, N outputs per channel), 'valid' padding, so that
 * out[0, i, 0, s·N + n] = Σ_k A[s,i,k]·B[s,k,n]. XNNPACK runs it as S small GEMMs. The operand
 * transposes fold into the layout permutations. Elsewhere it is `tf.matMul`.
 */
function batchProduct(a: tf.Tensor3D, b: tf.Tensor3D, transA: boolean, transB: boolean): tf.Tensor3D {
  if (!onWasm()) return tf.matMul(a, b, transA, transB);
  const [S, M, K] = transA ? [a.shape[0], a.shape[2], a.shape[1]] : a.shape;
  const N = transB ? b.shape[1] : b.shape[2];
  const input = tf.reshape(tf.transpose(a, transA ? [2, 1, 0] : [1, 2, 0]), [1, M, K, S]) as tf.Tensor4D;
  const filter = tf.reshape(tf.transpose(b, transB ? [2, 0, 1] : [1, 0, 2]), [1, K, S, N]) as tf.Tensor4D;
  const out = tf.depthwiseConv2d(input, filter, 1, 'valid');
  return tf.transpose(tf.reshape(out, [M, S, N]), [1, 0, 2]);
}

/** [S,M,K]·[S,K,N]; dA = dY·Bᵀ, dB = Aᵀ·dY as batched products of the same kind. */
const matMul3D = tf.customGrad((a, b, save) => {
  (save as tf.GradSaveFunc)([a as tf.Tensor, b as tf.Tensor]);
  return {
    value: batchProduct(a as tf.Tensor3D, b as tf.Tensor3D, false, false),
    gradFunc: (dy: tf.Tensor, [A, B]: tf.Tensor[]) => [
      batchProduct(dy as tf.Tensor3D, B as tf.Tensor3D, false, true),
      batchProduct(A as tf.Tensor3D, dy as tf.Tensor3D, true, false),
    ],
  };
});

/** out[m,s,n] = Σ_k a[m,k,s]·b[k,s,n], one product per channel s: on wasm a depthwise convolution. */
function channelProduct(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [M, K, S] = a.shape;
  const N = b.shape[2];
  if (!onWasm()) return tf.transpose(tf.matMul(tf.transpose(a, [2, 0, 1]), tf.transpose(b, [1, 0, 2])), [1, 0, 2]) as tf.Tensor3D;
  const out = tf.depthwiseConv2d(tf.reshape(a, [1, M, K, S]) as tf.Tensor4D, tf.reshape(b, [1, K, S, N]) as tf.Tensor4D, 1, 'valid');
  return tf.reshape(out, [M, S, N]);
}

/**
 * Batched product with the batch as the channel axis: a [M,K,S] × b [K,S,N] → [M,S,N],
 * out[m,s,n] = Σ_k a[m,k,s]·b[k,s,n]. In this layout the wasm depthwise convolution needs no
 * transposes; attention is written in it (../model/tqr.ts). Gradients:
 *   da[m,k,s] = Σ_n dy[m,s,n]·b[k,s,n]  (a channel product of dyᵀ [M,N,S] and b as [N,S,K]),
 *   db[k,s,n] = Σ_m a[m,k,s]·dy[m,s,n]  (a channel product of a as [K,M,S] and dy).
 */
export const matMulChannels = tf.customGrad((a, b, save) => {
  (save as tf.GradSaveFunc)([a as tf.Tensor, b as tf.Tensor]);
  return {
    value: channelProduct(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, [A, B]: tf.Tensor[]) => [
      tf.transpose(channelProduct(tf.transpose(dy as tf.Tensor3D, [0, 2, 1]), tf.transpose(B as tf.Tensor3D, [2, 1, 0])), [0, 2, 1]),
      channelProduct(tf.transpose(A as tf.Tensor3D, [1, 0, 2]), dy as tf.Tensor3D),
    ],
  };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/**
 * Matrix product with fast kernels in both passes.
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

/** Column sums of dY [M,N] → [N]: a ones-row product (a reduction over rows would transpose first). */
function columnSums(dy: tf.Tensor2D): tf.Tensor1D {
  const [M, N] = dy.shape;
  return tf.reshape(tf.matMul(tf.ones([1, M]), dy), [N]);
}

/** x [M,K]·W [K,N] + b [N]; dx = dY·Wᵀ, dW = xᵀ·dY, db = 1ᵀ·dY. */
const dense2D = tf.customGrad((x, w, b, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor, w as tf.Tensor]);
  return {
    value: tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b as tf.Tensor1D),
    gradFunc: (dy: tf.Tensor, [X, W]: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(W)),
      tf.matMul(tf.transpose(X), dy as tf.Tensor2D),
      columnSums(dy as tf.Tensor2D),
    ],
  };
});

/** A dense layer y = x·W + b over any leading dimensions of x [..., K]; W [K,N], b [N]. */
export function dense(x: tf.Tensor, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor {
  const [K, N] = w.shape;
  if (x.shape[x.rank - 1] !== K || b.shape[0] !== N) throw new Error(`dense: [${x.shape}] x [${w.shape}] + [${b.shape}]`);
  const y = dense2D(tf.reshape(x, [-1, K]), w, b);
  return tf.reshape(y, [...x.shape.slice(0, -1), N]);
}

// ---- layer normalisation ---------------------------------------------------------------------

/**
 * LayerNorm over the last axis of x [M,C] (biased variance, as GPT-2): x̂ = (x − mean)·r,
 * r = 1/√(var + ε), y = x̂·g + b. Gradient, with ĝ = dy·g:
 *   dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  dg = Σ_rows dy·x̂,  db = Σ_rows dy.
 */
function layerNorm2DOp(eps: number) {
  return tf.customGrad((x, g, b, save) => {
    const X = x as tf.Tensor2D;
    const centered = tf.sub(X, tf.mean(X, -1, true));
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
    const xhat = tf.mul(centered, r);
    (save as tf.GradSaveFunc)([xhat, r, g as tf.Tensor]);
    return {
      value: tf.add(tf.mul(xhat, g as tf.Tensor1D), b as tf.Tensor1D),
      gradFunc: (dy: tf.Tensor, [XH, R, G]: tf.Tensor[]) => {
        const gh = tf.mul(dy, G);
        const dx = tf.mul(R, tf.sub(tf.sub(gh, tf.mean(gh, -1, true)), tf.mul(XH, tf.mean(tf.mul(gh, XH), -1, true))));
        return [dx, columnSums(tf.mul(dy, XH) as tf.Tensor2D), columnSums(dy as tf.Tensor2D)];
      },
    };
  });
}

const layerNormOps = new Map<number, ReturnType<typeof layerNorm2DOp>>();

/** LayerNorm over the last axis of x [..., C] with gain g [C] and shift b [C]. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor {
  const C = x.shape[x.rank - 1];
  if (!layerNormOps.has(eps)) layerNormOps.set(eps, layerNorm2DOp(eps));
  return tf.reshape(layerNormOps.get(eps)!(tf.reshape(x, [-1, C]), g, b), x.shape);
}

// ---- softmax family over the last axis -----------------------------------------------------

/**
 * log Σ_v exp(x_v) over the last axis, [...] (no kept dimension). With p = softmax(x), the largest
 * probability is exp(0)/Σ exp(x − max), so lse = max(x) − log(max(p)): one softmax kernel and two
 * row maxima, numerically safe (max(p) ≥ 1/V). Gradient: dy·p.
 */
export const logSumExp = tf.customGrad((x, save) => {
  const p = tf.softmax(x as tf.Tensor);
  (save as tf.GradSaveFunc)([p]);
  return {
    value: tf.sub(tf.max(x as tf.Tensor, -1), tf.log(tf.max(p, -1))),
    gradFunc: (dy: tf.Tensor, [P]: tf.Tensor[]) => tf.mul(tf.expandDims(dy, -1), P),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * log softmax over the last axis: (x − max) + log(max(p)), i.e. x − lse(x) as in `logSumExp`,
 * shifted first so that large inputs lose no precision. Gradient: dy − p·Σ dy.
 */
export const logSoftmax = tf.customGrad((x, save) => {
  const X = x as tf.Tensor;
  const p = tf.softmax(X);
  (save as tf.GradSaveFunc)([p]);
  return {
    value: tf.add(tf.sub(X, tf.max(X, -1, true)), tf.log(tf.max(p, -1, true))),
    gradFunc: (dy: tf.Tensor, [P]: tf.Tensor[]) => tf.sub(dy, tf.mul(tf.sum(dy, -1, true), P)),
  };
}) as (x: tf.Tensor) => tf.Tensor;

// ---- GELU ------------------------------------------------------------------------------------

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * GPT-2's GELU 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), written as x·σ(2u)
 * (0.5·(1 + tanh(u)) = σ(2u)). Gradient: σ(2u) + x·σ(2u)·(1 − σ(2u))·2√(2/π)·(1 + 3·0.044715·x²).
 */
export const gelu = tf.customGrad((x, save) => {
  const X = x as tf.Tensor;
  const x2 = tf.square(X);
  const s = tf.sigmoid(tf.mul(tf.mul(X, tf.add(tf.mul(x2, GELU_C), 1)), 2 * GELU_K));
  (save as tf.GradSaveFunc)([X, x2, s]);
  return {
    value: tf.mul(X, s),
    gradFunc: (dy: tf.Tensor, [Xs, X2, S]: tf.Tensor[]) => {
      const du = tf.add(tf.mul(X2, 2 * GELU_K * 3 * GELU_C), 2 * GELU_K); // d(2u)/dx
      const ds = tf.mul(tf.mul(S, tf.sub(1, S)), du);
      return tf.mul(dy, tf.add(S, tf.mul(Xs, ds)));
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

// ---- embeddings and stop-gradient ------------------------------------------------------------

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
  const flat = ids.dtype === 'int32' ? tf.reshape(ids, [-1]) : tf.reshape(tf.cast(ids, 'int32'), [-1]);
  const rows = gatherRows(table, flat);
  return tf.reshape(rows, [...ids.shape, H]);
}

/** Identity forward, zero gradient (tfjs-core has no stop-gradient op). */
export const stopGradient = tf.customGrad((x) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as <T extends tf.Tensor>(x: T) => T;
