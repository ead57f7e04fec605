import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';
import { AdamW, isDecayed, learningRate, type AdamWOptions, type StepReport } from '../src/core/engine/optim.js';
import { AvaError } from '../src/core/errors.js';

await initBackend('cpu', () => {});

const OPTS: AdamWOptions = { lr: 0.1, beta1: 0.9, beta2: 0.999, weightDecay: 0.01, gradClip: 0, warmupSteps: 0, totalSteps: 100, schedule: 'constant' };

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6) {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tol, `index ${i}: ${actual[i]} vs ${e}`));
}

/** Runs f inside tf.tidy and returns its (tensor-free) result. */
function inTidy(f: () => StepReport): StepReport {
  let out: StepReport | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out!;
}

/** A matrix and a vector parameter, and a quadratic loss Σ (p − target)². */
function problem() {
  const params = new Map<string, tf.Variable>([
    ['w', tf.variable(tf.tensor2d([[1, -2], [0.5, 3]]), true, `w${Math.random()}`)],
    ['b', tf.variable(tf.tensor1d([1, -1]), true, `b${Math.random()}`)],
  ]);
  const loss = () => tf.add(tf.sum(tf.square(tf.sub(params.get('w')!, 2))), tf.sum(tf.square(params.get('b')!))) as tf.Scalar;
  const step = (opt: AdamW) => inTidy(() => opt.applyGradients(tf.variableGrads(loss, [...params.values()]).grads));
  const snapshot = () => [...params.values()].map((v) => Array.from(v.dataSync()));
  return { params, step, snapshot, dispose: () => params.forEach((v) => v.dispose()) };
}

test('learningRate: linear warmup, then cosine to minLrRatio·lr at totalSteps, or constant', () => {
  const o: AdamWOptions = { ...OPTS, lr: 1, warmupSteps: 10, totalSteps: 110, schedule: 'cosine' };
  assert.equal(learningRate(1, o), 0.1);
  assert.equal(learningRate(10, o), 1);
  assert.ok(Math.abs(learningRate(60, o) - 0.55) < 1e-12, 'half way: (1 + 0.1) / 2');
  assert.ok(Math.abs(learningRate(110, o) - 0.1) < 1e-12, 'floor at the end');
  assert.ok(Math.abs(learningRate(500, o) - 0.1) < 1e-12, 'stays at the floor');
  assert.equal(learningRate(50, { ...o, schedule: 'constant' }), 1);
  assert.equal(learningRate(5, { ...o, schedule: 'constant' }), 0.5);
});

test('weight decay on matrices only', () => {
  assert.equal(isDecayed([4, 3]), true);
  assert.equal(isDecayed([3]), false);
});

test('first AdamW step by hand: p − lr·(g/|g| + wd·p) for matrices, p − lr·g/|g| for vectors', () => {
  const pb = problem();
  const opt = new AdamW(pb.params, OPTS);
  const report = pb.step(opt);
  // grads: w → 2(w − 2) = [[-2,-8],[-3,2]], b → 2b = [2,-2]; the bias-corrected first step is sign(g).
  assert.equal(report.lr, 0.1);
  assert.ok(Math.abs(report.gradNorm - Math.sqrt(4 + 64 + 9 + 4 + 4 + 4)) < 1e-5, `norm ${report.gradNorm}`);
  const [w, b] = pb.snapshot();
  close(w, [1 + 0.1 - 0.1 * 0.01 * 1, -2 + 0.1 - 0.1 * 0.01 * -2, 0.5 + 0.1 - 0.1 * 0.01 * 0.5, 3 - 0.1 - 0.1 * 0.01 * 3], 1e-6);
  close(b, [0.9, -0.9], 1e-6);
  assert.equal(opt.step, 1);
  opt.dispose();
  pb.dispose();
});

test('global-norm clipping scales every gradient by clip/‖g‖ (visible in the first moment)', () => {
  const pb = problem();
  const opt = new AdamW(pb.params, { ...OPTS, gradClip: 1 });
  const { gradNorm } = pb.step(opt);
  const scale = 1 / gradNorm;
  const m = opt.getState().m;
  close(m.w, [-2, -8, -3, 2].map((g) => 0.1 * g * scale), 1e-6);
  close(m.b, [2, -2].map((g) => 0.1 * g * scale), 1e-6);
  opt.dispose();
  pb.dispose();
});

test('getState/setState: a resumed optimizer continues exactly', () => {
  const opts: AdamWOptions = { ...OPTS, lr: 0.05, gradClip: 1, warmupSteps: 2, totalSteps: 6, schedule: 'cosine' };
  const straight = problem();
  const a = new AdamW(straight.params, opts);
  for (let i = 0; i < 3; i++) straight.step(a);
  const state = a.getState();
  const paramsAt3 = straight.snapshot();
  for (let i = 0; i < 3; i++) straight.step(a);

  const resumed = problem();
  [...resumed.params.values()].forEach((v, i) => v.assign(tf.tensor(paramsAt3[i], v.shape)));
  const b = new AdamW(resumed.params, opts);
  b.setState(state);
  assert.equal(b.step, 3);
  for (let i = 0; i < 3; i++) resumed.step(b);
  assert.deepEqual(resumed.snapshot(), straight.snapshot());
  assert.deepEqual(b.getState(), a.getState());
  [a, b].forEach((o) => o.dispose());
  [straight, resumed].forEach((p) => p.dispose());
});

test('setState rejects a state of another model', () => {
  const pb = problem();
  const opt = new AdamW(pb.params, OPTS);
  const good = opt.getState();
  assert.throws(() => opt.setState({ ...good, m: { w: good.m.w }, v: good.v }), (e: unknown) => e instanceof AvaError && e.code === 'checkpoint' && /missing: b/.test(e.message));
  assert.throws(() => opt.setState({ ...good, m: { ...good.m, b: new Float32Array(3) } }), /has 3 values/);
  assert.throws(() => opt.setState(undefined), /no optimizer state/);
  opt.dispose();
  pb.dispose();
});

test('a non-finite gradient changes nothing and is reported', () => {
  const pb = problem();
  const opt = new AdamW(pb.params, OPTS);
  const before = pb.snapshot();
  const w = pb.params.get('w')!;
  const report = inTidy(() => opt.applyGradients({ [w.name]: tf.fill([2, 2], NaN) }));
  assert.ok(Number.isNaN(report.gradNorm), 'NaN norm reported');
  assert.equal(opt.step, 0);
  assert.deepEqual(pb.snapshot(), before);
  assert.throws(() => opt.applyGradients({ nope: tf.zeros([1]) }), /unknown variable/);
  opt.dispose();
  pb.dispose();
});

test('AdamW minimises a quadratic and keeps the tensor count flat', () => {
  const pb = problem();
  const opt = new AdamW(pb.params, { ...OPTS, weightDecay: 0, schedule: 'cosine', warmupSteps: 5, totalSteps: 300 });
  pb.step(opt);
  const count = tf.memory().numTensors;
  for (let i = 0; i < 299; i++) pb.step(opt);
  assert.equal(tf.memory().numTensors, count);
  const [w, b] = pb.snapshot();
  close(w, [2, 2, 2, 2], 1e-2);
  close(b, [0, 0], 1e-2);
  opt.dispose();
  pb.dispose();
});
