/**
 * Evaluation statistics on plain numbers: reward accuracy (spec §7) and its Wilson score
 * interval, so every reported accuracy carries n and a 95% interval.
 */

export interface Proportion {
  value: number;
  n: number;
  lo: number;
  hi: number;
}

/** Wilson score interval for a proportion of `successes` out of `n` (z = 1.96 for 95%). */
export function wilsonInterval(successes: number, n: number, z = 1.959963984540054): Proportion {
  if (n === 0) return { value: NaN, n: 0, lo: NaN, hi: NaN };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { value: p, n, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/**
 * Reward accuracy (spec §7): the share of pairs with R(y⁺) > R(y⁻). Ties count as wrong
 * (`incorrect`, the default of spec §8 #30) or as half a success (`half`).
 */
export function rewardAccuracy(rPlus: ArrayLike<number>, rMinus: ArrayLike<number>, tie: 'incorrect' | 'half' = 'incorrect'): Proportion {
  if (rPlus.length !== rMinus.length) throw new Error(`rewardAccuracy: ${rPlus.length} chosen vs ${rMinus.length} rejected rewards`);
  let wins = 0;
  for (let i = 0; i < rPlus.length; i++) {
    if (rPlus[i] > rMinus[i]) wins += 1;
    else if (rPlus[i] === rMinus[i] && tie === 'half') wins += 0.5;
  }
  return wilsonInterval(wins, rPlus.length);
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}
