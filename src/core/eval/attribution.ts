/**
 * Attribution quality: do the model's per-token rewards (spec §5) put reward where the gold
 * reward of a built-in task puts it? Over every response token that has a gold value: pooled
 * Pearson and Spearman correlations, for the raw means μ and the weighted means μ̃ = w·μ; the
 * per-sequence-centred Pearson (the headline: rewards are identified only up to a per-sequence
 * shift) and the mean within-sequence Spearman; the centred Pearson one token late (catches a
 * reward placed one step after its token); and the calibration of σ against the error.
 *
 * Under the default `td_reward_alignment: state` the reward paired with a token is computed
 * before the model has seen that token (spec §5), so a token's own contribution can only
 * show up one position later; this metric makes that visible, and `next_state` comparable.
 */
import type { LineRewards, SequenceRewards, TokenAttribution } from '../../protocol/events.js';

/** Pearson correlation, or null when fewer than two points or either side is constant. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} x values but ${y.length} y values`);
  const n = x.length;
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) (mx += x[i]), (my += y[i]);
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks, ties sharing the mean of the ranks they span. */
export function ranks(x: readonly number[]): number[] {
  const order = x.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(x.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1][0] === order[start][0]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) out[order[k][1]] = rank;
    start = end + 1;
  }
  return out;
}

/** Spearman rank correlation (Pearson of the tie-averaged ranks). */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} x values but ${y.length} y values`);
  return pearson(ranks(x), ranks(y));
}

/** One response's tokens that carry a gold value: raw μ, weighted μ̃, raw σ and gold, in order. */
interface GoldSequence {
  mu: number[];
  weighted: number[];
  sigma: number[];
  gold: number[];
}

function goldSequences(lines: readonly LineRewards[]): GoldSequence[] {
  const out: GoldSequence[] = [];
  const add = (seq: SequenceRewards | undefined) => {
    const tokens = seq?.tokens.filter((t) => t.gold !== undefined) ?? [];
    if (!tokens.length) return;
    out.push({ mu: tokens.map((t) => t.raw_mean), weighted: tokens.map((t) => t.mean), sigma: tokens.map((t) => t.raw_std), gold: tokens.map((t) => t.gold!) });
  };
  for (const l of lines) [l.chosen, l.rejected, l.response].forEach(add);
  return out;
}

const centred = (x: readonly number[]): number[] => {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return x.map((v) => v - m);
};

/**
 * Pearson of μ and gold after subtracting each sequence's own mean from both: a reward is
 * identified only up to a per-sequence shift (spec §5, potential shaping), which the pooled
 * correlation counts against it.
 */
export function centredPearson(seqs: readonly { mu: number[]; gold: number[] }[]): number | null {
  return pearson(
    seqs.flatMap((s) => centred(s.mu)),
    seqs.flatMap((s) => centred(s.gold)),
  );
}

/** Mean over sequences of the Spearman correlation within each (sequences with ≥ 3 tokens and neither side constant). */
export function meanWithinSpearman(seqs: readonly { mu: number[]; gold: number[] }[]): number | null {
  const rs = seqs.filter((s) => s.gold.length >= 3).flatMap((s) => spearman(s.mu, s.gold) ?? []);
  return rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : null;
}

/**
 * Centred Pearson of gold[k] with μ of the next token k+1: higher than the aligned one means the
 * reward of a token shows up one step late (what Eq. 9's `state` pairing does).
 */
export function lateCentredPearson(seqs: readonly { mu: number[]; gold: number[] }[]): number | null {
  return centredPearson(seqs.filter((s) => s.gold.length >= 2).map((s) => ({ mu: s.mu.slice(1), gold: s.gold.slice(0, -1) })));
}

/**
 * Calibration of σ: Spearman of σ with the error |a·μc − goldc| of the best per-token linear
 * fit of the centred gold on the centred μ (slope a by least squares). Positive: a larger σ
 * goes with a larger error, as an uncertainty should; ≈ 0: σ says nothing about the error.
 */
export function sigmaCalibration(seqs: readonly GoldSequence[]): number | null {
  const mu = seqs.flatMap((s) => centred(s.mu));
  const gold = seqs.flatMap((s) => centred(s.gold));
  const sxx = mu.reduce((a, x) => a + x * x, 0);
  if (sxx === 0) return null;
  const slope = mu.reduce((a, x, i) => a + x * gold[i], 0) / sxx;
  const error = mu.map((x, i) => Math.abs(slope * x - gold[i]));
  return spearman(
    seqs.flatMap((s) => s.sigma),
    error,
  );
}

/** Correlations over the tokens of the readouts that carry gold rewards; undefined when none do. */
export function tokenAttribution(lines: readonly LineRewards[]): TokenAttribution | undefined {
  const seqs = goldSequences(lines);
  if (!seqs.length) return undefined;
  const raw = seqs.flatMap((s) => s.mu);
  const weighted = seqs.flatMap((s) => s.weighted);
  const gold = seqs.flatMap((s) => s.gold);
  return {
    pearson: pearson(raw, gold),
    spearman: spearman(raw, gold),
    pearson_weighted: pearson(weighted, gold),
    spearman_weighted: spearman(weighted, gold),
    pearson_centred: centredPearson(seqs),
    spearman_within: meanWithinSpearman(seqs),
    pearson_centred_late: lateCentredPearson(seqs),
    sigma_calibration: sigmaCalibration(seqs),
    tokens: gold.length,
    sequences: seqs.length,
  };
}
