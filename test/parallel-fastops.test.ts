/**
 * The fast ops behind the wasm speed-up (src/core/engine/fastops.ts): each gives the values and
 * gradients of the plain tfjs composition it replaces, on cpu and on wasm (where the batched
 * product is a depthwise convolution and Identity an alias).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';
import { dense, gelu, layerNorm, logSoftmax, logSumExp, matMulChannels, matMulNN } from '../src/core/engine/fastops.js';

await initBackend('cpu', () => {});

const rand = (shape: number[], seed: number, scale = 1) => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), scale);

type Op = (...xs: tf.Tensor[]) => tf.Tensor;

/** Values and the gradients of Σ sin(op(...)) (sin keeps the upstream gradient non-constant), as arrays. */
function valueAndGrads(op: Op, inputs: tf.Tensor[]): number[][] {
  return tf.tidy(() => {
    const value = op(...inputs);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.sin(op(...xs))))(inputs);
    return [value, ...grads].map((t) => Array.from(t.dataSync()));
  });
}

function assertClose(ours: number[][], reference: number[][], tol: number, what: string): void {
  ours.forEach((xs, i) =>
    xs.forEach((x, j) => {
      const r = reference[i][j];
      assert.ok(Math.abs(x - r) <= tol * Math.max(1, Math.abs(r)), `${what}: ${i === 0 ? 'value' : `gradient ${i}`}[${j}] ${x} vs ${r}`);
    }),
  );
}

const plainLayerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(tf.mean(tf.square(centered), -1, true), 1e-5))), g), b);
};
const plainGelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));

/** [name, fast op, plain reference, input shapes and scales]. */
const CASES: [string, Op, Op, [number[], number][]][] = [
  ['dense over [B,T,K]', (x, w, b) => dense(x, w as tf.Tensor2D, b as tf.Tensor1D), (x, w, b) => tf.add(tf.reshape(tf.matMul(tf.reshape(x, [-1, 4]), w as tf.Tensor2D), [2, 3, 5]), b), [[[2, 3, 4], 1], [[4, 5], 1], [[5], 1]]],
  ['layerNorm', (x, g, b) => layerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), plainLayerNorm, [[[2, 3, 6], 2], [[6], 1], [[6], 1]]],
  ['gelu', gelu, plainGelu, [[[4, 7], 2]]],
  ['logSumExp over the last axis', logSumExp, (x) => tf.logSumExp(x, -1), [[[3, 4, 9], 3]]],
  ['logSoftmax over the last axis', logSoftmax, (x) => tf.logSoftmax(x, -1), [[[3, 4, 9], 3]]],
  ['batched matMulNN', matMulNN, (a, b) => tf.matMul(a, b), [[[2, 3, 5, 7], 1], [[2, 3, 7, 4], 1]]],
  [
    'matMulChannels (batch as channels)',
    (a, b) => matMulChannels(a as tf.Tensor3D, b as tf.Tensor3D),
    (a, b) => tf.transpose(tf.matMul(tf.transpose(a, [2, 0, 1]), tf.transpose(b, [1, 0, 2])), [1, 0, 2]),
    [[[5, 7, 6], 1], [[7, 6, 4], 1]],
  ],
];

function inputsOf(shapes: [number[], number][]): tf.Tensor[] {
  return shapes.map(([shape, scale], i) => rand(shape, 11 + i, scale));
}

test('each fast op equals its plain tfjs composition, values and gradients (cpu)', () => {
  for (const [what, fast, plain, shapes] of CASES) {
    const inputs = inputsOf(shapes);
    assertClose(valueAndGrads(fast, inputs), valueAndGrads(plain, inputs), 1e-5, what);
    tf.dispose(inputs);
  }
});

test('logSumExp and logSoftmax stay finite and exact for large and spread-out inputs', () => {
  tf.tidy(() => {
    const x = tf.tensor2d([[1000, 0, -1000], [88, 89, 90], [-50, -50, -50]]);
    assertClose(valueAndGrads(logSumExp, [x]), valueAndGrads((t) => tf.logSumExp(t, -1), [x]), 1e-6, 'logSumExp');
    assertClose(valueAndGrads(logSoftmax, [x]), valueAndGrads((t) => tf.logSoftmax(t, -1), [x]), 1e-6, 'logSoftmax');
  });
});

test('wasm: the fast ops (depthwise batched product, aliasing Identity) match the plain ops on cpu', async () => {
  const onCpu = CASES.map(([, , plain, shapes]) => {
    const inputs = inputsOf(shapes);
    const r = valueAndGrads(plain, inputs);
    tf.dispose(inputs);
    return r;
  });
  await initBackend('wasm', () => {});
  try {
    CASES.forEach(([what, fast, , shapes], i) => {
      const inputs = inputsOf(shapes);
      assertClose(valueAndGrads(fast, inputs), onCpu[i], 1e-4, `wasm ${what}`);
      tf.dispose(inputs);
    });
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3], 'a clone outlives its source');
    y.dispose();
  } finally {
    await initBackend('cpu', () => {});
  }
});
