/** Seeded randomness for the task generators (seedrandom; never Math.random). */
import seedrandom from 'seedrandom';

export type Rng = () => number;

/** An independent stream per purpose: `makeRng('harmless', 0, 'train')`. */
export function makeRng(...parts: (string | number)[]): Rng {
  return seedrandom(`ava-task:${parts.join(':')}`);
}

/** Integer in [lo, hi], both included. */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)];
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

/** Fisher–Yates on a copy. */
export function shuffled<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Rounds a stored reward or probability to 6 decimals (tidy, stable JSON). */
export function round6(x: number): number {
  const r = Math.round(x * 1e6) / 1e6;
  return r === 0 ? 0 : r;
}
