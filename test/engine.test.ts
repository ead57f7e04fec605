import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type LogLevel } from '../src/core/engine/backend.js';
import { embeddingLookup, matMulNN, stopGradient } from '../src/core/engine/fastops.js';
import { deriveSeed } from '../src/core/engine/random.js';
import { AvaError } from '../src/core/errors.js';

const logs: [LogLevel, string][] = [];
const info = await initBackend('cpu', (level, msg) => logs.push([level, msg]));

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** Gradients of Σ sin(op(a, b)) w.r.t. a and b (sin keeps dY non-constant). */
function gradsOf(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor[] {
  return tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.sin(op(x, y))))([a, b]);
}

/** Reference: tfjs's own matMul (autodiff gradients, transposed kernels). */
function plainMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (b.rank === 2) {
    const K = a.shape[a.rank - 1];
    return tf.reshape(tf.matMul(tf.reshape(a, [-1, K]), b as tf.Tensor2D), [...a.shape.slice(0, -1), b.shape[1] as number]);
  }
  return tf.matMul(a, b);
}

const MATMUL_CASES: [string, number[], number[]][] = [
  ['2D', [5, 4], [4, 3]],
  ['dense layer over [B,T,K]', [2, 3, 4], [4, 6]],
  ['batched 3D', [3, 5, 4], [3, 4, 2]],
  ['batched 4D', [2, 3, 5, 4], [2, 3, 4, 6]],
];

test('initBackend(cpu) reports the backend, the request and the tfjs version', () => {
  assert.equal(info.backend, 'cpu');
  assert.equal(info.requested, 'cpu');
  assert.equal(info.fallbackReason, undefined);
  assert.match(info.tfjsVersion, /^\d+\.\d+\.\d+/);
  assert.equal(tf.getBackend(), 'cpu');
  assert.ok(logs.some(([level, msg]) => level === 'info' && msg.includes('cpu')), 'the choice is logged');
});

test('matMulNN: values and gradients equal tf.matMul autodiff (cpu)', () => {
  MATMUL_CASES.forEach(([what, sa, sb], i) => {
    tf.tidy(() => {
      const [a, b] = [rand(sa, 10 + i), rand(sb, 20 + i)];
      assert.ok(maxAbsDiff(matMulNN(a, b), plainMatMul(a, b)) < 1e-6, `${what}: value`);
      const [ga, gb] = gradsOf(matMulNN, a, b);
      const [ra, rb] = gradsOf(plainMatMul, a, b);
      assert.ok(maxAbsDiff(ga, ra) < 1e-6, `${what}: dA`);
      assert.ok(maxAbsDiff(gb, rb) < 1e-6, `${what}: dB`);
    });
  });
});

test('matMulNN rejects mismatched shapes', () => {
  assert.throws(() => matMulNN(tf.zeros([2, 3]), tf.zeros([4, 5])), /inner dimensions/);
  assert.throws(() => matMulNN(tf.zeros([2, 3, 4]), tf.zeros([3, 4, 5])), /batch dimensions/);
});

test('embeddingLookup: rows of the table; gradient equals gather autodiff with repeated ids (cpu)', () => {
  tf.tidy(() => {
    const table = rand([7, 3], 1);
    const ids = tf.tensor2d([[1, 2, 1], [6, 1, 0]], [2, 3], 'int32');
    assert.ok(maxAbsDiff(embeddingLookup(table as tf.Tensor2D, ids), tf.gather(table, ids)) === 0, 'value');
    const weightsOut = rand([2, 3, 3], 2);
    const loss = (f: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => tf.sum(tf.mul(f(t), weightsOut));
    const ours = tf.grad(loss((t) => embeddingLookup(t as tf.Tensor2D, ids)))(table);
    const ref = tf.grad(loss((t) => tf.gather(t, ids)))(table);
    assert.ok(maxAbsDiff(ours, ref) < 1e-6, 'gradient');
  });
});

test('stopGradient: identity forward, zero gradient', () => {
  tf.tidy(() => {
    const x = rand([4], 3);
    assert.ok(maxAbsDiff(stopGradient(x), x) === 0, 'value');
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(t, stopGradient(t))))(x);
    assert.ok(maxAbsDiff(g, x) === 0, 'd/dt Σ t·sg(t) = sg(t)');
  });
});

test('deriveSeed: deterministic, label-sensitive, never 0', () => {
  assert.equal(deriveSeed(1, 'wte.weight'), deriveSeed(1, 'wte.weight'));
  assert.notEqual(deriveSeed(1, 'wte.weight'), deriveSeed(2, 'wte.weight'));
  assert.notEqual(deriveSeed(1, 'a', 1), deriveSeed(1, 'a', 2));
  for (let s = 0; s < 200; s++) assert.ok(deriveSeed(s) > 0, `seed ${s}`);
});

test('wasm: the fast ops run there (no UnsortedSegmentSum) and match cpu', async () => {
  const inputs = MATMUL_CASES.map(([, sa, sb], i) => [rand(sa, 30 + i), rand(sb, 40 + i)]);
  const table = rand([9, 4], 5);
  const ids = tf.tensor2d([[3, 3, 8], [0, 3, 1]], [2, 3], 'int32');
  const compute = () =>
    tf.tidy(() => [
      ...inputs.flatMap(([a, b]) => gradsOf(matMulNN, a, b)).map((g) => Array.from(g.dataSync())),
      Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.sin(embeddingLookup(t as tf.Tensor2D, ids))))(table).dataSync()),
    ]);
  const onCpu = compute();
  const wasm = await initBackend('wasm', () => {});
  try {
    assert.equal(wasm.backend, 'wasm');
    assert.match(wasm.device, /wasm/);
    const onWasm = compute(); // tfjs moves the inputs' data to the wasm backend on first use
    onCpu.forEach((c, i) => c.forEach((x, j) => assert.ok(Math.abs(x - onWasm[i][j]) < 1e-4, `result ${i}[${j}]: cpu ${x} vs wasm ${onWasm[i][j]}`)));
  } finally {
    await initBackend('cpu', () => {});
  }
});

test('auto without tfjs-node falls back to wasm and says why; tensorflow explicitly is an AvaError', async () => {
  const seen: [LogLevel, string][] = [];
  try {
    const auto = await initBackend('auto', (level, msg) => seen.push([level, msg]));
    assert.equal(auto.requested, 'auto');
    assert.equal(auto.backend, 'wasm');
    assert.match(auto.fallbackReason ?? '', /@tensorflow\/tfjs-node-gpu is not installed, @tensorflow\/tfjs-node is not installed/);
    assert.ok(seen.some(([, msg]) => msg.includes('backend tensorflow unavailable')), 'the fallback is logged');
    await assert.rejects(initBackend('tensorflow', () => {}), (e: unknown) => e instanceof AvaError && e.code === 'backend' && e.where.key === 'engine.backend' && /npm install @tensorflow\/tfjs-node/.test(e.message));
  } finally {
    await initBackend('cpu', () => {});
  }
});
