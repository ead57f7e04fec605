/**
 * The win-rate report (`<grid>/winrates/winrates.json`), shaped like the paper's Tables 2-5:
 * per comparison, win / tie / lose per seed, their mean ± std over seeds, the shares pooled over
 * every judged prompt with 95% Wilson intervals, and the sign test of wins against losses; per
 * system, the mean gold reward of its answers where the task has one. Built from the verdicts
 * alone, so the JSON, the markdown and the extension's panel show the same numbers.
 */
import type { WinratesConfig } from '../experiment/config.js';
import type { Proportion } from '../eval/stats.js';
import { winTieLose, type Verdict } from '../eval/winrate.js';
import { systemName, type Comparison } from './systems.js';

export interface SeedVerdicts {
  seed: number;
  prompts: number;
  comparisons: { text: string; verdicts: Verdict[] }[];
  /** Gold reward of each system's answer per prompt (built-in tasks). */
  gold: Record<string, number[]>;
}

export interface Shares {
  win: number;
  tie: number;
  lose: number;
}

export interface ComparisonResult {
  text: string;
  a: string;
  b: string;
  per_seed: ({ seed: number; n: number; p: number } & Shares)[];
  /** Over seeds; std is the sample std (n − 1), 0 for one seed. */
  mean: Shares;
  std: Shares;
  /** Every judged prompt of every seed together. */
  pooled: { n: number; win: Proportion; tie: Proportion; lose: Proportion; p: number };
}

export interface SystemResult {
  name: string;
  /** Mean gold of its answers per seed; empty without a gold reward. */
  gold_per_seed: number[];
  gold_mean: number | null;
  gold_std: number | null;
}

export interface WinratesReport {
  version: 1;
  experiment: string;
  created: string;
  judge: string;
  settings: Pick<WinratesConfig, 'generator' | 'bon_n' | 'temperature' | 'top_k' | 'top_p' | 'max_new_tokens' | 'generation_policy' | 'judge' | 'tie_rule' | 'tie_margin' | 'judge_swap_positions'>;
  seeds: number[];
  prompts: number;
  comparisons: ComparisonResult[];
  systems: SystemResult[];
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const std = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

export function buildReport(input: { experiment: string; judge: string; config: WinratesConfig; comparisons: Comparison[]; seeds: SeedVerdicts[]; created?: string }): WinratesReport {
  const { config: w, seeds } = input;
  const comparisons = input.comparisons.map((c): ComparisonResult => {
    const lists = seeds.map((s) => s.comparisons.find((x) => x.text === c.text)?.verdicts ?? []);
    const per = lists.map((v, i) => {
      const r = winTieLose(v);
      return { seed: seeds[i].seed, n: r.n, win: r.win.value, tie: r.tie.value, lose: r.lose.value, p: r.p };
    });
    const pooled = winTieLose(lists.flat());
    const shares = (f: (xs: number[]) => number): Shares => ({ win: f(per.map((p) => p.win)), tie: f(per.map((p) => p.tie)), lose: f(per.map((p) => p.lose)) });
    return { text: c.text, a: systemName(c.a), b: systemName(c.b), per_seed: per, mean: shares(mean), std: shares(std), pooled };
  });
  const names = [...new Set(input.comparisons.flatMap((c) => [systemName(c.a), systemName(c.b)]))];
  const systems = names.map((name): SystemResult => {
    const perSeed = seeds.filter((s) => s.gold[name]?.length).map((s) => mean(s.gold[name]));
    return { name, gold_per_seed: perSeed, gold_mean: perSeed.length ? mean(perSeed) : null, gold_std: perSeed.length ? std(perSeed) : null };
  });
  return {
    version: 1,
    experiment: input.experiment,
    created: input.created ?? new Date().toISOString(),
    judge: input.judge,
    settings: {
      generator: w.generator,
      bon_n: w.bon_n,
      temperature: w.temperature,
      top_k: w.top_k,
      top_p: w.top_p,
      max_new_tokens: w.max_new_tokens,
      generation_policy: w.generation_policy,
      judge: w.judge,
      tie_rule: w.tie_rule,
      tie_margin: w.tie_margin,
      judge_swap_positions: w.judge_swap_positions,
    },
    seeds: seeds.map((s) => s.seed),
    prompts: seeds[0]?.prompts ?? 0,
    comparisons,
    systems,
  };
}

const pct = (x: number) => (100 * x).toFixed(1);
const pm = (m: number, s: number, seeds: number) => (seeds > 1 ? `${pct(m)} ± ${pct(s)}` : pct(m));
const pValue = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));

/** The report as markdown tables (what winrates.md holds and `ava-lab report` prints). */
export function winratesMarkdown(r: WinratesReport): string {
  const k = r.seeds.length;
  const s = r.settings;
  const lines = [
    `# Win rates: ${r.experiment}`,
    '',
    `Judge ${r.judge}; ${r.prompts} prompts × ${k} seed${k > 1 ? 's' : ''} (${r.seeds.join(', ')}); generator ${s.generator ?? '—'}, N = ${s.bon_n}, temperature ${s.temperature}, top-k ${s.top_k}, top-p ${s.top_p}, at most ${s.max_new_tokens} tokens, policy ${s.generation_policy}.`,
    `Win / tie / lose in % of prompts, mean ± std over seeds; "pooled 95%" is the Wilson interval over all ${r.prompts * k} judged prompts; p is the sign test of wins against losses (ties left out).`,
    '',
    '| comparison | win | tie | lose | win, pooled 95% | lose, pooled 95% | p |',
    '|---|---|---|---|---|---|---|',
    ...r.comparisons.map((c) => {
      const ci = (x: Proportion) => `${pct(x.lo)}–${pct(x.hi)}`;
      return `| ${c.a} vs ${c.b} | ${pm(c.mean.win, c.std.win, k)} | ${pm(c.mean.tie, c.std.tie, k)} | ${pm(c.mean.lose, c.std.lose, k)} | ${ci(c.pooled.win)} | ${ci(c.pooled.lose)} | ${pValue(c.pooled.p)} |`;
    }),
  ];
  if (r.systems.some((x) => x.gold_mean !== null)) {
    lines.push('', '| system | mean gold of its answers |', '|---|---|');
    for (const x of r.systems) lines.push(`| ${x.name} | ${x.gold_mean === null ? '—' : k > 1 ? `${x.gold_mean.toFixed(3)} ± ${x.gold_std!.toFixed(3)}` : x.gold_mean.toFixed(3)} |`);
  }
  return lines.join('\n') + '\n';
}
