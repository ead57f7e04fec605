/**
 * Token highlights of one JSONL line: each response token's character range (tokenRanges.ts)
 * with the sign of its reward mean μ̃ and a strength level 1…levels for |μ̃| relative to the
 * line's largest |μ̃|. Decorations are created once per (sign, level), so a few types cover any
 * number of tokens. Tokens too close to 0 (level 0) get no highlight. Pure.
 */
import type { LineRewards, TokenReward } from '../../protocol/events.js';
import { lineDomain, sequencesOf } from './hoverMarkdown.js';
import { sequenceSpans, topLevelStringFields } from './tokenRanges.js';

export interface TokenHighlight {
  sign: 'negative' | 'positive';
  /** 1 … levels. */
  level: number;
  start: number;
  end: number;
  token: TokenReward;
}

/** Strength level of `value` on a symmetric domain: 0 (near zero) … levels (at ±domain). */
export function strengthLevel(value: number, domain: number, levels: number): number {
  if (!Number.isFinite(value) || !(domain > 0)) return 0;
  return Math.min(levels, Math.round((Math.abs(value) / domain) * levels));
}

export function lineHighlights(lineText: string, rewards: LineRewards, levels: number): TokenHighlight[] {
  const fields = topLevelStringFields(lineText);
  const domain = lineDomain(rewards);
  return sequencesOf(rewards).flatMap(({ name, seq }) =>
    sequenceSpans(fields, name, seq).flatMap((span) => {
      const token = seq.tokens[span.index] as TokenReward;
      const level = strengthLevel(token.mean, domain, levels);
      return level > 0 ? [{ sign: token.mean < 0 ? ('negative' as const) : ('positive' as const), level, start: span.start, end: span.end, token }] : [];
    }),
  );
}
