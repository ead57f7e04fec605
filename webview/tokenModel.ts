/** Pure parts of the token-reward page: sides of a sample, colour domains, labels, misranked pairs. */
import type { LineRewards, SequenceRewards, TokenReward } from '../src/protocol/events.js';
import { formatNumber } from '../src/ui-common/format.js';
import { symmetricDomain } from '../src/ui-common/colorScale.js';

export type Side = 'chosen' | 'rejected' | 'response';

export function sidesOf(sample: LineRewards): { side: Side; seq: SequenceRewards }[] {
  const out: { side: Side; seq: SequenceRewards }[] = [];
  if (sample.chosen) out.push({ side: 'chosen', seq: sample.chosen });
  if (sample.rejected) out.push({ side: 'rejected', seq: sample.rejected });
  if (sample.response) out.push({ side: 'response', seq: sample.response });
  return out;
}

const tokensOf = (samples: readonly LineRewards[]): TokenReward[] => samples.flatMap((s) => sidesOf(s).flatMap((x) => x.seq.tokens));

/** |mean| that maps to a full colour: shared by both sides of a sample (or by all samples). */
export function colourDomain(samples: readonly LineRewards[]): number {
  return symmetricDomain(tokensOf(samples).map((t) => t.mean));
}

export function maxOf(samples: readonly LineRewards[], pick: (t: TokenReward) => number): number {
  let m = 0;
  for (const t of tokensOf(samples)) if (Number.isFinite(pick(t))) m = Math.max(m, pick(t));
  return m;
}

/** Word-level tokenizers give tokens without spaces: the page then adds gaps between them. */
export function needsGaps(tokens: readonly string[]): boolean {
  return tokens.length > 1 && !tokens.some((t) => /\s/.test(t));
}

/** What a token shows: control characters made visible, never an empty box. */
export function tokenLabel(token: string): string {
  if (token === '') return '∅';
  return token.replace(/\r?\n/g, '↵').replace(/\t/g, '→');
}

export function tokenTooltip(t: TokenReward): string {
  const parts = [`reward ${formatNumber(t.mean)} ± ${formatNumber(t.std)}`, `weight w = ${formatNumber(t.weight)}`, `raw μ ${formatNumber(t.raw_mean)}, σ ${formatNumber(t.raw_std)}`];
  if (t.gold !== undefined) parts.push(`gold ${formatNumber(t.gold)}`);
  return `${JSON.stringify(t.token)} (id ${t.id})\n${parts.join('\n')}`;
}

/** Height in px of the std band under a token: 0 … 5 by std relative to the largest std shown. */
export function stdBand(std: number, maxStd: number): number {
  if (!(maxStd > 0) || !Number.isFinite(std)) return 0;
  return Math.round(1 + 4 * Math.min(1, Math.max(0, std / maxStd)));
}

export interface Misranked {
  index: number;
  line: number;
  chosen: number;
  rejected: number;
}

/** Pairs the model ranks wrongly (correct === false), worst margin first. */
export function misrankedPairs(samples: readonly LineRewards[]): Misranked[] {
  return samples
    .flatMap((s, index) => (s.correct === false && s.chosen && s.rejected ? [{ index, line: s.line, chosen: s.chosen.reward, rejected: s.rejected.reward }] : []))
    .sort((a, b) => a.chosen - a.rejected - (b.chosen - b.rejected));
}

export function rewardText(seq: SequenceRewards): string {
  const std = seq.reward_std === undefined ? '' : ` ± ${formatNumber(seq.reward_std)}`;
  const gold = seq.gold === undefined ? '' : ` (gold ${formatNumber(seq.gold)})`;
  return `R = ${formatNumber(seq.reward)}${std}${gold}`;
}
