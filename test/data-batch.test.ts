import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BatchSampler, collatePairs, collateSeqs, packSeqs } from '../src/core/data/batch.js';
import type { EncodedSeq, PairExample } from '../src/core/data/types.js';
import { AvaError } from '../src/core/errors.js';

await tf.setBackend('cpu');

const a: EncodedSeq = { ids: [1, 5, 6, 7, 2], promptLen: 2 };
const b: EncodedSeq = { ids: [1, 8, 9, 2], promptLen: 3 };

test('collateSeqs: right padding with the pad id, valid and resp masks, lengths', () => {
  const batch = collateSeqs([a, b], undefined, 0);
  try {
    assert.deepEqual(batch.ids.shape, [2, 5]);
    assert.equal(batch.ids.dtype, 'int32');
    assert.equal(batch.resp.dtype, 'float32');
    assert.deepEqual(batch.ids.arraySync(), [[1, 5, 6, 7, 2], [1, 8, 9, 2, 0]]);
    assert.deepEqual(batch.valid.arraySync(), [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]);
    assert.deepEqual(batch.resp.arraySync(), [[0, 0, 1, 1, 1], [0, 0, 0, 1, 0]]);
    assert.deepEqual(batch.lengths, [5, 4]);
  } finally {
    tf.dispose([batch.ids, batch.valid, batch.resp]);
  }
});

test('packSeqs: padTo widens the batch and may not cut sequences', () => {
  const p = packSeqs([b], 7, 50256);
  assert.deepEqual(Array.from(p.ids), [1, 8, 9, 2, 50256, 50256, 50256]);
  assert.deepEqual(Array.from(p.resp), [0, 0, 0, 1, 0, 0, 0]);
  assert.throws(() => packSeqs([a], 4), RangeError);
  assert.throws(() => packSeqs([]), RangeError);
});

test('collatePairs: chosen and rejected share one T', () => {
  const pair: PairExample = { line: 1, chosen: b, rejected: a };
  const batch = collatePairs([pair, { line: 2, chosen: b, rejected: b }]);
  try {
    assert.deepEqual(batch.chosen.ids.shape, [2, 5]);
    assert.deepEqual(batch.rejected.ids.shape, [2, 5]);
    assert.deepEqual(batch.rejected.lengths, [5, 4]);
  } finally {
    tf.dispose([batch.chosen.ids, batch.chosen.valid, batch.chosen.resp, batch.rejected.ids, batch.rejected.valid, batch.rejected.resp]);
  }
});

test('BatchSampler: each epoch is a permutation; batches cross epoch boundaries', () => {
  const s = new BatchSampler(10, 4, 7);
  const drawn = Array.from({ length: 5 }, () => s.next()).flat(); // 20 indices = 2 epochs
  assert.deepEqual([...drawn.slice(0, 10)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...drawn.slice(10)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(drawn.slice(0, 10), drawn.slice(10), 'a new shuffle each epoch');
  assert.notDeepEqual(drawn.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(s.state(), { epoch: 1, pos: 10, seed: 7 });
  assert.notDeepEqual(new BatchSampler(10, 4, 8).next(), new BatchSampler(10, 4, 7).next());
});

test('BatchSampler: resuming from state() continues the same order', () => {
  const straight = new BatchSampler(13, 5, 3);
  const expected = Array.from({ length: 9 }, () => straight.next());
  const first = new BatchSampler(13, 5, 3);
  const got = Array.from({ length: 4 }, () => first.next());
  const saved = JSON.parse(JSON.stringify(first.state()));
  const resumed = BatchSampler.fromState(13, 5, saved);
  got.push(...Array.from({ length: 5 }, () => resumed.next()));
  assert.deepEqual(got, expected);
  assert.throws(() => BatchSampler.fromState(5, 5, { epoch: 0, pos: 9, seed: 3 }), AvaError);
});

test('BatchSampler: fewer examples than the batch size still fills batches', () => {
  const s = new BatchSampler(2, 5, 0);
  const batch = s.next();
  assert.equal(batch.length, 5);
  assert.ok(batch.every((i) => i === 0 || i === 1));
});
