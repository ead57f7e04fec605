import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ptqQ, rewardWeightsFromScores } from '../src/core/model/heads.js';

await tf.setBackend('cpu');

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-5) {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tol, `index ${i}: ${actual[i]} vs ${e}`));
}

const S = tf.tensor3d([[[1, 0, -1, 5], [0.5, 0.5, 0, 5], [0, 2, 1, 5], [9, 9, 9, 9]]]);
const valid = tf.tensor2d([[1, 1, 1, 0]]);

test('spec §11 example 2: Eq. 11 weights with padding (non-causal)', () => {
  close(rewardWeightsFromScores(S, valid, false).dataSync(), [0.379641, 0.431207, 0.189152, 0]);
});

test('spec §11 example 2: causal variant', () => {
  close(rewardWeightsFromScores(S, valid, true).dataSync(), [0.53001, 0.388414, 0.081576, 0]);
});

test('spec §11 example 3: ptq probs and logits modes', () => {
  const z = tf.tensor2d([[2, 1, 0], [0, 3, 1], [1, 0, 2]]);
  close(ptqQ(z, 2, 'probs').dataSync(), [-0.558342, -1.399367, -1.708763, -1.963758, -0.360188, -1.819387, -1.399367, -1.708763, -0.558342]);
  close(ptqQ(z, 2, 'logits').dataSync(), [-0.142932, -2.142932, -4.142932, -6.020581, -0.020581, -4.020581, -2.142932, -4.142932, -0.142932]);
});
