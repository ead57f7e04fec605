import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LruCache } from '../src/core/util/lru.js';

test('LruCache evicts the least recently used entry and releases it', () => {
  const evicted: string[] = [];
  const c = new LruCache<string, number>(2, (_v, k) => evicted.push(k));
  c.set('a', 1);
  c.set('b', 2);
  assert.equal(c.get('a'), 1); // a is now the most recent
  c.set('c', 3);
  assert.deepEqual(evicted, ['b']);
  assert.equal(c.get('b'), undefined);
  c.delete('a'); // forgotten, not released
  c.clear();
  assert.deepEqual(evicted, ['b', 'c']);
  assert.equal(c.size, 0);
});

test('LruCache refuses a capacity below one', () => {
  assert.throws(() => new LruCache(0), RangeError);
});
