/**
 * Attribution quality: do the model's per-token rewards (spec §5) put reward where the gold
 * reward of a built-in task puts it? Pearson and Spearman correlations over every response
 * token that has a gold value, for the raw means μ and for the weighted means μ̃ = w·μ.
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

/** Correlations over the tokens of the readouts that carry gold rewards; undefined when none do. */
export function tokenAttribution(lines: readonly LineRewards[]): TokenAttribution | undefined {
  const raw: number[] = [];
  const weighted: number[] = [];
  const gold: number[] = [];
  let sequences = 0;
  const add = (seq: SequenceRewards | undefined) => {
    const tokens = seq?.tokens.filter((t) => t.gold !== undefined) ?? [];
    if (!tokens.length) return;
    sequences++;
    for (const t of tokens) {
      raw.push(t.raw_mean);
      weighted.push(t.mean);
      gold.push(t.gold!);
    }
  };
  for (const l of lines) [l.chosen, l.rejected, l.response].forEach(add);
  if (!gold.length) return undefined;
  return {
    pearson: pearson(raw, gold),
    spearman: spearman(raw, gold),
    pearson_weighted: pearson(weighted, gold),
    spearman_weighted: spearman(weighted, gold),
    tokens: gold.length,
    sequences,
  };
}
