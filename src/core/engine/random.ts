/**
 * Seeding. TF.js random ops take an integer seed and fall back to Math.random for 0/undefined,
 * so every seed here is derived deterministically and is never 0. tf.randomNormal and
 * tf.dropout draw their numbers in JavaScript, so a seed gives the same values on every backend.
 */

/** A non-zero 31-bit seed derived from a base seed and labels (FNV-1a over the text). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of [seed, ...labels].join('/')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 1) || 1;
}
