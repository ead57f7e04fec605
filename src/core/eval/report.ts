/**
 * The grid report: one row per variant, aggregated over its seeds (mean ± sample std), with
 * the worst seed, the best possible accuracy, a paired comparison against the baseline
 * objective on the same data (same seeds, paired t-test; and McNemar's exact test on the
 * per-pair correctness where the runs saved it), the token attribution and the
 * alarms. Written by `ava-lab run` as `report.md` in the grid folder and by `ava-lab report`;
 * the README's tables are this output, pasted as written. Pure: no I/O.
 */
import type { EvalSummary, RunAlarm } from '../../protocol/events.js';
import type { ObjectiveKind, RunConfig } from '../experiment/config.js';
import { canonicalJson } from '../experiment/merge.js';
import { baselineMatcher } from './methodTable.js';
import { binomialTwoSidedP, pairedComparison } from './stats.js';

/** One finished (or not) cell of a grid, as read from its run directory. */
export interface ReportCell {
  variant: string;
  seed: number;
  run: RunConfig;
  summary: EvalSummary | null;
  /** Values of the last logged training record (reward_margin, …). */
  last: Record<string, number>;
  /** Mean over the objective's logged steps of each `grad_<group>.<term>` (train.term_grads_every), {} without them. */
  termGrads: Record<string, number>;
  alarms: RunAlarm[];
  /** Per evaluation pair of the final evaluation, whether it was ranked right (eval_pairs.jsonl); absent for older runs. */
  pairCorrect?: boolean[];
}

export interface ReportOptions {
  /** What the others are compared with, on the same data and seeds: an objective kind, or a method or variant name (methodTable.ts baselineMatcher). */
  baseline: ObjectiveKind | string;
}

interface VariantRows {
  variant: string;
  cells: ReportCell[];
}

const pct = (x: number): string => (x * 100).toFixed(2);

function meanSd(xs: number[], scale = 1, digits = 2): string {
  if (!xs.length) return '—';
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  if (xs.length < 2) return (m * scale).toFixed(digits);
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
  return `${(m * scale).toFixed(digits)} ± ${(sd * scale).toFixed(digits)}`;
}

function num(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(2) : x.toExponential(0);
}

const signed = (x: number, digits = 2): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

/** What "the same data" means for a paired comparison: the data and tokenizer sections. */
const dataKey = (run: RunConfig): string => canonicalJson({ data: run.data, tokenizer: run.tokenizer });

function taskName(run: RunConfig): string {
  if (run.data.task) return run.data.task;
  const file = run.data.train ?? '';
  return file.split(/[\\/]/).pop() ?? 'files';
}

function accuracy(c: ReportCell): number | undefined {
  return c.summary?.reward_acc?.value;
}

function groupByVariant(cells: readonly ReportCell[]): VariantRows[] {
  const out = new Map<string, ReportCell[]>();
  for (const c of cells) out.set(c.variant, [...(out.get(c.variant) ?? []), c]);
  return [...out.entries()].map(([variant, cs]) => ({ variant, cells: cs }));
}

/** The paired comparison of a variant with the baseline variant on the same data, over their common seeds. */
function versusBaseline(row: VariantRows, rows: readonly VariantRows[], isBaseline: (c: ReportCell) => boolean): string {
  const run = row.cells[0].run;
  if (isBaseline(row.cells[0])) return 'baseline';
  const base = rows.find((r) => isBaseline(r.cells[0]) && dataKey(r.cells[0].run) === dataKey(run));
  if (!base) return '—';
  const bySeed = new Map(base.cells.map((c) => [c.seed, accuracy(c)]));
  const pairs = row.cells.flatMap((c) => {
    const a = accuracy(c);
    const b = bySeed.get(c.seed);
    return a !== undefined && b !== undefined ? [[a, b] as const] : [];
  });
  const mcnemar = pooledMcNemar(row.cells, base.cells);
  const exact = mcnemar === null ? '' : `; McNemar p ${pText(mcnemar.p)}, ${mcnemar.onlyA}:${mcnemar.onlyB} pairs`;
  if (pairs.length < 2) return exact ? exact.slice(2) : '—';
  const cmp = pairedComparison(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
  );
  return `${signed(cmp.meanDiff * 100)} ± ${(cmp.sdDiff * 100).toFixed(2)} (p ${pText(cmp.p)}, n ${cmp.n}${exact})`;
}

const pText = (p: number): string => (p < 0.001 ? '< 0.001' : p.toFixed(3));

/**
 * McNemar's exact test on per-pair correctness, seed by seed on the same evaluation pairs, the
 * discordant counts summed over the seeds both have: pairs only this variant ranks right vs
 * pairs only the baseline does. Null when a seed lacks eval_pairs.jsonl or the pairs differ.
 */
function pooledMcNemar(cells: readonly ReportCell[], base: readonly ReportCell[]): { onlyA: number; onlyB: number; p: number } | null {
  const bySeed = new Map(base.map((c) => [c.seed, c.pairCorrect]));
  let onlyA = 0;
  let onlyB = 0;
  let seeds = 0;
  for (const c of cells) {
    const b = bySeed.get(c.seed);
    if (!c.pairCorrect || !b || b.length !== c.pairCorrect.length) continue;
    seeds++;
    c.pairCorrect.forEach((x, i) => {
      if (x && !b[i]) onlyA++;
      else if (!x && b[i]) onlyB++;
    });
  }
  return seeds === 0 ? null : { onlyA, onlyB, p: binomialTwoSidedP(onlyA, onlyA + onlyB) };
}

/** The report as a Markdown table (GitHub flavour), one row per variant in grid order. */
export function gridReportMarkdown(cells: readonly ReportCell[], opts: ReportOptions): string {
  const rows = groupByVariant(cells);
  const isBaseline = baselineMatcher(cells, opts.baseline);
  const header = [
    'variant',
    'task',
    'recipe',
    'objective',
    'seeds',
    'reward acc %',
    'worst seed %',
    'best possible %',
    `Δ acc vs ${opts.baseline} (paired)`,
    'token r centred',
    'token r pooled',
    'σ calib.',
    '|reward margin|',
    'alarms',
  ];
  const body = rows.map((row) => {
    const run = row.cells[0].run;
    const accs = row.cells.map(accuracy).filter((x): x is number => x !== undefined);
    const best = row.cells.map((c) => c.summary?.best_possible_acc).find((x) => x !== undefined);
    const attribution = (key: 'pearson' | 'pearson_centred' | 'sigma_calibration') => row.cells.map((c) => c.summary?.token_attribution?.[key]).filter((x): x is number => typeof x === 'number');
    const r = attribution('pearson');
    const rc = attribution('pearson_centred');
    const cal = attribution('sigma_calibration');
    const margins = row.cells.map((c) => c.last.reward_margin).filter((x): x is number => Number.isFinite(x));
    const alarmed = row.cells.filter((c) => c.alarms.length > 0).length;
    return [
      row.variant || 'base',
      taskName(run),
      run.recipe,
      run.objective.kind,
      `${accs.length}/${row.cells.length}`,
      meanSd(accs, 100),
      accs.length ? pct(Math.min(...accs)) : '—',
      best === undefined ? '—' : pct(best),
      versusBaseline(row, rows, isBaseline),
      rc.length ? meanSd(rc, 1) : '—',
      r.length ? meanSd(r, 1) : '—',
      cal.length ? meanSd(cal, 1) : '—',
      margins.length ? num(Math.min(...margins.map(Math.abs))) + '–' + num(Math.max(...margins.map(Math.abs))) : '—',
      alarmed ? `${alarmed} of ${row.cells.length}` : '0',
    ];
  });
  // A grid without the baseline (e.g. policies only) has no paired column.
  const paired = cells.some(isBaseline);
  const keep = (_: string, i: number) => i !== 8 || paired;
  const line = (cells: string[]) => `| ${cells.filter(keep).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n') + '\n';
}

/** Whether any cell is the baseline the report compares with. */
export function hasBaseline(cells: readonly ReportCell[], baseline: ReportOptions['baseline']): boolean {
  const isBaseline = baselineMatcher(cells, baseline);
  return cells.some(isBaseline);
}

/** Mean of each `grad_<group>.<term>` over the train records that carry it. */
export function meanTermGrads(records: readonly { phase: string; values: Record<string, number> }[]): Record<string, number> {
  const sums = new Map<string, [number, number]>();
  for (const r of records) {
    if (r.phase !== 'train') continue;
    for (const [k, v] of Object.entries(r.values)) {
      if (!/^grad_\w+\./.test(k) || !Number.isFinite(v)) continue;
      const [s, n] = sums.get(k) ?? [0, 0];
      sums.set(k, [s + v, n + 1]);
    }
  }
  return Object.fromEntries([...sums.entries()].map(([k, [s, n]]) => [k, s / n]));
}

/**
 * Where the loss terms push R(y): per variant, the mean over seeds and logged steps of the
 * gradient norm each term alone sends to the reward head and to the weight head. Empty when no
 * run logged them.
 */
export function termGradsMarkdown(cells: readonly ReportCell[]): string {
  const keys = [...new Set(cells.flatMap((c) => Object.keys(c.termGrads)))];
  if (!keys.length) return '';
  const terms = [...new Set(keys.map((k) => k.split('.')[1]))];
  const groups = [...new Set(keys.map((k) => k.split('.')[0].replace(/^grad_/, '')))];
  const header = ['variant', 'recipe', ...groups.flatMap((g) => terms.map((t) => `${t} → ${g}`))];
  const rows = groupByVariant(cells).map((row) => [
    row.variant || 'base',
    row.cells[0].run.recipe,
    ...groups.flatMap((g) =>
      terms.map((t) => {
        const xs = row.cells.map((c) => c.termGrads[`grad_${g}.${t}`]).filter((x): x is number => x !== undefined);
        return xs.length ? num(xs.reduce((a, b) => a + b, 0) / xs.length) : '—';
      }),
    ),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** Whether a grid has something to aggregate: some variant trained with two seeds or more. */
export function worthReporting(cells: readonly ReportCell[]): boolean {
  return groupByVariant(cells).some((r) => r.cells.length >= 2);
}
