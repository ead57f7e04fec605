/**
 * Next-token sampling (spec §6.7): temperature, top-k and top-p (nucleus) on one row of scores,
 * then one draw from a uniform number. Pure host-side arithmetic, so every rule is testable
 * exactly and a run's samples depend only on its seed.
 *
 *   p = softmax(scores / temperature)         temperature 0 ⇒ greedy (all mass on the argmax)
 *   top-k  (k > 0): keep the k most probable tokens (ties broken by the lower id)
 *   top-p  (p < 1): keep the smallest set of most probable tokens whose mass reaches p
 *                   (the token that crosses p is kept, as in Hugging Face's TopPLogitsWarper)
 * The kept probabilities are renormalised. `banned` ids (padding, BOS, unknown) get no mass.
 */

export interface SamplingOptions {
  temperature: number;
  /** 0 = no top-k filter. */
  topK: number;
  /** 1 = no nucleus filter. */
  topP: number;
}

export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 1, topK: 0, topP: 1 };

/** Checks the options; returns the first problem as a sentence, or null. */
export function samplingProblem(o: SamplingOptions): string | null {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) return `temperature must be a finite number ≥ 0, got ${o.temperature}`;
  if (!Number.isInteger(o.topK) || o.topK < 0) return `top-k must be an integer ≥ 0 (0 = off), got ${o.topK}`;
  if (!(o.topP > 0 && o.topP <= 1)) return `top-p must be in (0, 1] (1 = off), got ${o.topP}`;
  return null;
}

/** log softmax of a row, in float64. */
export function logSoftmax(scores: ArrayLike<number>, banned: ReadonlySet<number> = new Set()): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (!banned.has(i) && scores[i] > max) max = scores[i];
  let sum = 0;
  for (let i = 0; i < scores.length; i++) if (!banned.has(i)) sum += Math.exp(scores[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = banned.has(i) ? -Infinity : scores[i] - lse;
  return out;
}

/** The distribution a token is drawn from: tempered, filtered and renormalised probabilities. */
export function samplingDistribution(scores: ArrayLike<number>, o: SamplingOptions, banned: ReadonlySet<number> = new Set()): Float64Array {
  const V = scores.length;
  const probs = new Float64Array(V);
  if (o.temperature === 0) {
    let best = -1;
    for (let i = 0; i < V; i++) if (!banned.has(i) && (best < 0 || scores[i] > scores[best])) best = i;
    probs[best] = 1;
    return probs;
  }
  const tempered = Array.from({ length: V }, (_, i) => scores[i] / o.temperature);
  const logp = logSoftmax(tempered, banned);
  const order = Array.from({ length: V }, (_, i) => i)
    .filter((i) => !banned.has(i))
    .sort((a, b) => logp[b] - logp[a] || a - b);
  let keep = o.topK > 0 ? Math.min(o.topK, order.length) : order.length;
  if (o.topP < 1) {
    let mass = 0;
    for (let r = 0; r < keep; r++) {
      mass += Math.exp(logp[order[r]]);
      if (mass >= o.topP) {
        keep = r + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let r = 0; r < keep; r++) total += Math.exp(logp[order[r]]);
  for (let r = 0; r < keep; r++) probs[order[r]] = Math.exp(logp[order[r]]) / total;
  return probs;
}

/** Inverse-CDF draw: the first id whose cumulative probability exceeds u ∈ [0,1). */
export function drawToken(probs: ArrayLike<number>, u: number): number {
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    cum += probs[i];
    last = i;
    if (u < cum) return i;
  }
  if (last < 0) throw new Error('drawToken: the distribution has no mass');
  return last; // u within rounding of 1
}
