import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COLOR_SCHEMES,
  divergingColor,
  divergingOverlay,
  isColorScheme,
  lightness,
  scalePosition,
  symmetricDomain,
  toHex,
  toRgba,
} from '../src/ui-common/colorScale.js';

const grid = Array.from({ length: 21 }, (_, i) => i / 20); // 0, 0.05, …, 1

test('the centre of every scale is a neutral light grey', () => {
  for (const s of COLOR_SCHEMES) {
    const c = divergingColor(0, 2, s);
    assert.equal(c.r, c.g);
    assert.equal(c.g, c.b);
    assert.ok(lightness(c) > 90, `${s}: centre should be light`);
  }
});

test('scales are symmetric: f(x) and f(-x) have the same lightness', () => {
  for (const s of COLOR_SCHEMES) {
    for (const x of grid) {
      const lp = lightness(divergingColor(x, 1, s));
      const ln = lightness(divergingColor(-x, 1, s));
      assert.ok(Math.abs(lp - ln) < 0.6, `${s} at ±${x}: ${lp} vs ${ln}`);
    }
  }
});

test('scales are monotone: lightness falls as |x| grows, on both sides', () => {
  for (const s of COLOR_SCHEMES) {
    for (const sign of [1, -1]) {
      const ls = grid.map((x) => lightness(divergingColor(sign * x, 1, s)));
      for (let i = 1; i < ls.length; i++) assert.ok(ls[i] < ls[i - 1], `${s} sign ${sign} at ${grid[i]}`);
    }
  }
});

test('the two sides have different hues (negative is warm, positive is cool)', () => {
  const neg = divergingColor(-1, 1, 'blue-orange');
  const pos = divergingColor(1, 1, 'blue-orange');
  assert.ok(neg.r > neg.b, 'negative end is orange');
  assert.ok(pos.b > pos.r, 'positive end is blue');
});

test('values beyond the domain clamp to the end colours; bad input is neutral', () => {
  assert.deepEqual(divergingColor(5, 1), divergingColor(1, 1));
  assert.deepEqual(divergingColor(-5, 1), divergingColor(-1, 1));
  assert.equal(scalePosition(3, 2), 1);
  assert.equal(scalePosition(-1, 2), -0.5);
  assert.equal(scalePosition(Number.NaN, 1), 0);
  assert.equal(scalePosition(1, 0), 0);
  assert.deepEqual(divergingColor(Number.NaN, 1), divergingColor(0, 1));
});

test('hex and rgba output', () => {
  assert.equal(toHex({ r: 255, g: 0, b: 16 }), '#ff0010');
  assert.match(toHex(divergingColor(0.3, 1)), /^#[0-9a-f]{6}$/);
  assert.equal(toRgba({ r: 1, g: 2, b: 3 }, 0.5), 'rgba(1, 2, 3, 0.5)');
  assert.equal(toRgba({ r: 1, g: 2, b: 3 }, 2), 'rgba(1, 2, 3, 1)');
});

test('overlay is transparent at 0 and opaque-ish at the ends, with the end colour of the sign', () => {
  assert.equal(divergingOverlay(0, 1).alpha, 0);
  const pos = divergingOverlay(1, 1, 'blue-orange', 0.8);
  assert.equal(pos.alpha, 0.8);
  assert.deepEqual(pos.color, divergingColor(1, 1, 'blue-orange'));
  const half = divergingOverlay(-0.5, 1, 'blue-orange', 0.8);
  assert.equal(half.alpha, 0.4);
  assert.deepEqual(half.color, divergingColor(-1, 1, 'blue-orange'));
});

test('symmetric domain is the largest |value|, 1 when there is none', () => {
  assert.equal(symmetricDomain([0.2, -0.7, 0.5]), 0.7);
  assert.equal(symmetricDomain([]), 1);
  assert.equal(symmetricDomain([0, Number.NaN]), 1);
});

test('scheme names are checked', () => {
  assert.ok(isColorScheme('purple-orange'));
  assert.ok(!isColorScheme('rainbow'));
});
