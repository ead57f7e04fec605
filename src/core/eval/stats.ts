/**
 * Evaluation statistics on plain numbers: reward accuracy (spec §7) and its Wilson score
 * interval, so every reported accuracy carries n and a 95% interval; the paired tests that
 * compare two systems on the same items: McNemar's exact test on per-pair correctness, the
 * sign test on wins against losses, and a seeded paired bootstrap on per-item scores.
 */
import seedrandom from 'seedrandom';

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

/** A paired comparison over seeds: mean of the differences a − b, its sample std and a two-sided paired t-test. */
export interface PairedComparison {
  n: number;
  meanDiff: number;
  /** Sample std of the differences (n − 1); NaN for n < 2. */
  sdDiff: number;
  t: number;
  /** Two-sided p-value of H0 "mean difference 0" (Student t, n − 1 degrees of freedom); NaN for n < 2. */
  p: number;
}

export function pairedComparison(a: readonly number[], b: readonly number[]): PairedComparison {
  if (a.length !== b.length) throw new Error(`pairedComparison: ${a.length} vs ${b.length} values`);
  const d = a.map((x, i) => x - b[i]);
  const n = d.length;
  const meanDiff = mean(d);
  if (n < 2) return { n, meanDiff, sdDiff: NaN, t: NaN, p: NaN };
  const sdDiff = Math.sqrt(d.reduce((s, x) => s + (x - meanDiff) ** 2, 0) / (n - 1));
  if (sdDiff === 0) return { n, meanDiff, sdDiff, t: meanDiff === 0 ? 0 : Math.sign(meanDiff) * Infinity, p: meanDiff === 0 ? 1 : 0 };
  const t = meanDiff / (sdDiff / Math.sqrt(n));
  return { n, meanDiff, sdDiff, t, p: studentTwoSidedP(t, n - 1) };
}

/** P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** Regularised incomplete beta I_x(a, b), by its continued fraction (modified Lentz). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let f = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-14) break;
  }
  return (front * f) / a;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9). */
export function logGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = g[0];
  for (let i = 1; i < 9; i++) s += g[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/**
 * Exact two-sided binomial test of k successes in n trials at p = ½:
 * min(1, 2·P(X ≤ min(k, n − k))). This is McNemar's exact test when k and n − k are the two
 * discordant counts, and the sign test when they are wins and losses (ties left out).
 */
export function binomialTwoSidedP(k: number, n: number): number {
  if (n === 0) return 1;
  const m = Math.min(k, n - k);
  let tail = 0;
  for (let i = 0; i <= m; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** McNemar's exact test on per-item correctness of two systems judged on the same items. */
export interface McNemar {
  n: number;
  /** Items A gets right and B wrong. */
  onlyA: number;
  /** Items B gets right and A wrong. */
  onlyB: number;
  p: number;
}

export function mcnemar(a: readonly boolean[], b: readonly boolean[]): McNemar {
  if (a.length !== b.length) throw new Error(`mcnemar: ${a.length} vs ${b.length} items`);
  let onlyA = 0;
  let onlyB = 0;
  a.forEach((x, i) => {
    if (x && !b[i]) onlyA++;
    else if (!x && b[i]) onlyB++;
  });
  return { n: a.length, onlyA, onlyB, p: binomialTwoSidedP(onlyA, onlyA + onlyB) };
}

/** A paired bootstrap of mean(a − b): its value, a 95% percentile interval and a two-sided p. */
export interface BootstrapComparison {
  n: number;
  meanDiff: number;
  lo: number;
  hi: number;
  /** 2·min(P*(d ≤ 0), P*(d ≥ 0)) over the resamples, capped at 1 (0 differences give 1). */
  p: number;
  resamples: number;
}

/**
 * Resamples items with replacement (the same items for a and b, which keeps the pairing),
 * `resamples` times from seedrandom(`ava-bootstrap:<seed>`).
 */
export function pairedBootstrap(a: readonly number[], b: readonly number[], resamples = 10000, seed = 0): BootstrapComparison {
  if (a.length !== b.length) throw new Error(`pairedBootstrap: ${a.length} vs ${b.length} items`);
  const n = a.length;
  const d = a.map((x, i) => x - b[i]);
  const meanDiff = mean(d);
  if (n === 0) return { n, meanDiff: NaN, lo: NaN, hi: NaN, p: NaN, resamples };
  const rng = seedrandom(`ava-bootstrap:${seed}`);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rng() * n)];
    means[r] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  let low = 0;
  let high = 0;
  for (const m of means) {
    if (m <= 0) low++;
    if (m >= 0) high++;
  }
  return { n, meanDiff, lo: at(0.025), hi: at(0.975), p: Math.min(1, (2 * Math.min(low, high)) / resamples), resamples };
}
