/**
 * The systems a `winrates.compare` line names (config.ts WinratesConfig), parsed once so the
 * loader, the runner and the report agree on them.
 *   stochastic          the generator's first sample
 *   bon:<variant>       best of N by that variant's sequence reward; bon:gold by the task's gold
 *   policy:<variant>    one sample from that variant's own LM
 *   ppo:<variant>       one sample from the generator after PPO against that variant's reward model
 * `base` names the variant of an experiment without ablations (its cells' folder name).
 */
import type { WinratesConfig } from '../experiment/config.js';

export type System = { kind: 'stochastic' } | { kind: 'bon'; variant: string } | { kind: 'bon-gold' } | { kind: 'policy'; variant: string } | { kind: 'ppo'; variant: string };

export interface Comparison {
  /** The line as written. */
  text: string;
  a: System;
  b: System;
}

export const BASE_VARIANT_NAME = 'base';

/** The grid variant a written name stands for ('' for `base` when the grid has no ablations). */
export function variantOf(name: string, variants: readonly string[]): string | null {
  if (variants.includes(name)) return name;
  if (name === BASE_VARIANT_NAME && variants.includes('')) return '';
  return null;
}

export function systemName(s: System): string {
  switch (s.kind) {
    case 'stochastic':
      return 'stochastic';
    case 'bon-gold':
      return 'bon:gold';
    case 'bon':
      return `bon:${s.variant || BASE_VARIANT_NAME}`;
    case 'policy':
      return `policy:${s.variant || BASE_VARIANT_NAME}`;
    case 'ppo':
      return `ppo:${s.variant || BASE_VARIANT_NAME}`;
  }
}

/** A system, or a sentence saying why the text is not one. */
export function parseSystem(text: string, variants: readonly string[]): System | string {
  const t = text.trim();
  if (t === 'stochastic') return { kind: 'stochastic' };
  if (t === 'bon:gold') return { kind: 'bon-gold' };
  const m = /^(bon|policy|ppo):(.+)$/.exec(t);
  if (!m) return `"${t}" is not a system; write stochastic, bon:<variant>, bon:gold, policy:<variant> or ppo:<variant>`;
  const variant = variantOf(m[2].trim(), variants);
  if (variant === null) return `"${t}" names no variant of this experiment (variants: ${variants.map((v) => v || BASE_VARIANT_NAME).join(', ')})`;
  return m[1] === 'bon' ? { kind: 'bon', variant } : m[1] === 'ppo' ? { kind: 'ppo', variant } : { kind: 'policy', variant };
}

export function parseComparison(text: string, variants: readonly string[]): Comparison | string {
  const parts = text.split(/\s+vs\.?\s+/);
  if (parts.length !== 2) return `"${text}" must read "<system> vs <system>"`;
  const [a, b] = parts.map((p) => parseSystem(p, variants));
  if (typeof a === 'string') return a;
  if (typeof b === 'string') return b;
  if (systemName(a) === systemName(b)) return `"${text}" compares ${systemName(a)} with itself`;
  return { text, a, b };
}

/** Whether any system needs the generator's samples. */
export function needsGenerator(cs: readonly Comparison[]): boolean {
  return cs.some((c) => [c.a, c.b].some((s) => s.kind !== 'policy'));
}

/**
 * The problems of a winrates section against the grid's variants, each with the key it concerns.
 * `tokenRewardVariants`: the variants whose objective has per-token rewards (AVA), which dense
 * PPO delivery needs.
 */
export function winratesProblems(w: WinratesConfig, variants: readonly string[], hasTask: boolean, tokenRewardVariants?: ReadonlySet<string>): { key: (string | number)[]; message: string }[] {
  const out: { key: (string | number)[]; message: string }[] = [];
  const comparisons: Comparison[] = [];
  w.compare.forEach((line, i) => {
    const c = parseComparison(line, variants);
    if (typeof c === 'string') out.push({ key: ['winrates', 'compare', i], message: c });
    else comparisons.push(c);
  });
  if (w.compare.length === 0) return out;
  if (needsGenerator(comparisons)) {
    if (w.generator === null) out.push({ key: ['winrates', 'generator'], message: 'stochastic, bon: and ppo: systems need winrates.generator, the variant whose LM samples the candidates (and PPO starts from)' });
    else if (variantOf(w.generator, variants) === null) out.push({ key: ['winrates', 'generator'], message: `generator "${w.generator}" is not a variant of this experiment` });
  }
  const usesGold = comparisons.some((c) => c.a.kind === 'bon-gold' || c.b.kind === 'bon-gold');
  if ((w.judge === 'gold' || usesGold) && !hasTask) {
    out.push({ key: ['winrates', w.judge === 'gold' ? 'judge' : 'compare'], message: 'the gold reward exists only for built-in tasks (data.task)' });
  }
  if (w.judge === 'reward_model') {
    if (w.judge_variant === null) out.push({ key: ['winrates', 'judge_variant'], message: 'judge reward_model needs winrates.judge_variant' });
    else if (variantOf(w.judge_variant, variants) === null) out.push({ key: ['winrates', 'judge_variant'], message: `judge_variant "${w.judge_variant}" is not a variant of this experiment` });
  }
  if (w.ppo.rl_reward_delivery === 'dense' && tokenRewardVariants) {
    const flat = [...new Set(comparisons.flatMap((c) => [c.a, c.b]).filter((s) => s.kind === 'ppo' && !tokenRewardVariants.has(s.variant)).map(systemName))];
    if (flat.length > 0) out.push({ key: ['winrates', 'ppo', 'rl_reward_delivery'], message: `dense delivery needs per-token rewards, which the reward model of ${flat.join(', ')} does not have (an AVA objective does); use sparse_at_eos` });
  }
  if (w.judge === 'command' && w.judge_command === null) out.push({ key: ['winrates', 'judge_command'], message: 'judge command needs winrates.judge_command' });
  return out;
}
