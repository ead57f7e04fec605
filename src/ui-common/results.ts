/**
 * The Compare panel's result table, driven by a list of result descriptors (one per column),
 * so new result kinds (win rates, significance tests) are new descriptors, not new code paths.
 */
import type { EvalSummary } from '../protocol/events.js';
import type { CompareRun } from '../protocol/webview.js';
import type { TextTable } from './exportFormats.js';
import { formatDelta, formatMeanStd, type ValueKind } from './format.js';
import { DIAGNOSTICS, DIAGNOSTIC_KEYS, lastValues } from './metrics.js';
import { bestIndices, groupBy, meanStd, type Better, type MeanStd } from './stats.js';
import { binomialTwoSidedP } from '../core/eval/stats.js';

export interface ResultDescriptor {
  id: string;
  label: string;
  better: Better | null;
  kind: ValueKind;
  help: string;
  value(run: CompareRun): number | undefined;
}

const finalTrain = (run: CompareRun, key: string): number | undefined => lastValues(run.records, 'train')[key];

/** The built-in columns, in display order. */
export const BASE_RESULTS: readonly ResultDescriptor[] = [
  { id: 'reward_acc', label: 'Reward acc. (%)', better: 'higher', kind: 'percent', help: 'Held-out reward accuracy (eval.json)', value: (r) => r.final?.reward_acc?.value },
  { id: 'gold_acc', label: 'Gold acc. (%)', better: 'higher', kind: 'percent', help: 'Accuracy against the gold preference, ignoring label noise', value: (r) => r.final?.gold_acc?.value },
  { id: 'best_possible_acc', label: 'Best possible (%)', better: null, kind: 'percent', help: 'Best accuracy reachable under the label noise', value: (r) => r.final?.best_possible_acc },
  { id: 'token_r', label: 'Token r (gold)', better: 'higher', kind: 'number', help: 'Pearson correlation of the per-token reward means μ with the gold per-token rewards, pooled over tokens (built-in tasks)', value: (r) => r.final?.token_attribution?.pearson ?? undefined },
  { id: 'token_r_centred', label: 'Token r centred', better: 'higher', kind: 'number', help: 'The headline attribution score: Pearson of μ and gold after centring each on its sequence (rewards are identified only up to a per-sequence shift)', value: (r) => r.final?.token_attribution?.pearson_centred ?? undefined },
  { id: 'token_rank_within', label: 'Token ρ within', better: 'higher', kind: 'number', help: 'Mean within-sequence Spearman correlation of μ with gold', value: (r) => r.final?.token_attribution?.spearman_within ?? undefined },
  { id: 'token_r_late', label: 'Token r one late', better: null, kind: 'number', help: 'Centred r of gold[k] with μ[k+1]: above the centred r when rewards arrive one token late', value: (r) => r.final?.token_attribution?.pearson_centred_late ?? undefined },
  { id: 'sigma_calibration', label: 'σ calibration', better: 'higher', kind: 'number', help: 'Spearman of σ with |fitted μ − gold|: > 0 when a larger σ goes with a larger error', value: (r) => r.final?.token_attribution?.sigma_calibration ?? undefined },
  { id: 'eval_nll', label: 'Eval NLL', better: 'lower', kind: 'number', help: 'Mean held-out NLL per response token', value: (r) => r.final?.nll },
  // Not ranked: variants with different objectives have losses of different terms.
  { id: 'train_loss', label: 'Final loss', better: null, kind: 'number', help: 'Last logged training loss (its terms depend on the objective)', value: (r) => finalTrain(r, 'loss') },
  // AVA diagnostics (objectives/common.ts): not ranked, a reading aid.
  ...DIAGNOSTIC_KEYS.map((key): ResultDescriptor => {
    const d: { label: string; meaning: string; hint?: string } = DIAGNOSTICS[key];
    return { id: key, label: d.label, better: null, kind: 'number', help: `AVA: ${d.meaning} at the last logged training step${d.hint ? `; ${d.hint}` : ''}`, value: (r) => finalTrain(r, key) };
  }),
  { id: 'steps', label: 'Steps', better: null, kind: 'integer', help: 'Training steps done', value: (r) => r.run.step || undefined },
  { id: 'time', label: 'Time (s)', better: null, kind: 'seconds', help: 'Wall time of the run', value: (r) => r.run.elapsed },
];

const KNOWN_EVAL_KEYS = new Set(['step', 'reward_acc', 'gold_acc', 'best_possible_acc', 'nll', 'token_attribution']);

/** A number from an eval summary entry: a plain number, or an `{ value }` object (like reward_acc). */
function evalNumber(summary: EvalSummary | null, key: string): number | undefined {
  const v = summary?.[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { value?: unknown }).value === 'number') return (v as { value: number }).value;
  return undefined;
}

function guessBetter(key: string): Better | null {
  if (/acc|win|rate|score/i.test(key)) return 'higher';
  if (/loss|nll|err|ppl/i.test(key)) return 'lower';
  return null;
}

/** An `{ value, n, lo, hi }` entry is a proportion with its interval (like reward_acc). */
function isProportion(runs: readonly CompareRun[], key: string): boolean {
  return runs.some((r) => {
    const v = r.final?.[key];
    return typeof v === 'object' && v !== null && typeof (v as { n?: unknown }).n === 'number';
  });
}

/** Columns for every other numeric entry of the runs' eval.json (future result kinds). */
export function extraEvalResults(runs: readonly CompareRun[]): ResultDescriptor[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.final ?? {})) if (!KNOWN_EVAL_KEYS.has(k) && evalNumber(r.final, k) !== undefined) keys.add(k);
  return [...keys].sort().map((key) => {
    const percent = isProportion(runs, key);
    return {
      id: `eval.${key}`,
      label: `${key.replace(/_/g, ' ')}${percent ? ' (%)' : ''}`,
      better: guessBetter(key),
      kind: percent ? ('percent' as const) : ('number' as const),
      help: `eval.json: ${key}`,
      value: (r: CompareRun) => evalNumber(r.final, key),
    };
  });
}

/** The columns to show: built-in ones some run has a value for, then the extra eval keys. */
export function resultDescriptors(runs: readonly CompareRun[]): ResultDescriptor[] {
  const present = BASE_RESULTS.filter((d) => runs.some((r) => d.value(r) !== undefined));
  return [...present, ...extraEvalResults(runs)];
}

export type Grouping = 'variant' | 'run';

export interface ResultRow {
  key: string;
  label: string;
  runs: CompareRun[];
  cells: (MeanStd | undefined)[];
}

export interface ResultTable {
  grouping: Grouping;
  columns: ResultDescriptor[];
  rows: ResultRow[];
  /** best[row][column]: the row holds the best mean of that column. */
  best: boolean[][];
}

/** Label of a run's group: its variant (prefixed by the experiment when runs span several). */
export function groupLabel(run: CompareRun, grouping: Grouping, multiExperiment: boolean): string {
  const variant = multiExperiment ? `${run.run.experiment} / ${run.run.variant}` : run.run.variant;
  if (grouping === 'variant') return variant;
  return run.run.seed === null ? variant : `${variant} / seed ${run.run.seed}`;
}

export function buildResultTable(runs: readonly CompareRun[], columns: readonly ResultDescriptor[], grouping: Grouping): ResultTable {
  const multi = new Set(runs.map((r) => r.run.experiment)).size > 1;
  const groups = groupBy(runs, (r) => (grouping === 'run' ? r.run.runDir : groupLabel(r, 'variant', multi)));
  const rows = [...groups.entries()].map(([key, rs]) => ({
    key,
    label: groupLabel(rs[0], grouping, multi),
    runs: rs,
    cells: columns.map((c) => meanStd(rs.map(c.value).filter((v): v is number => v !== undefined))),
  }));
  const best = rows.map(() => columns.map(() => false));
  columns.forEach((c, j) => {
    for (const i of bestIndices(rows.map((r) => r.cells[j]?.mean), c.better)) best[i][j] = true;
  });
  return { grouping, columns: [...columns], rows, best };
}

/** Difference of each row's mean to the baseline row's mean, per column. */
export function baselineDeltas(table: ResultTable, baseline: number): (number | undefined)[][] {
  const base = table.rows[baseline];
  return table.rows.map((row) =>
    row.cells.map((c, j) => {
      const b = base?.cells[j];
      return c && b ? c.mean - b.mean : undefined;
    }),
  );
}

/**
 * McNemar's exact test of each row against the baseline row on reward accuracy: the runs of the
 * two rows matched by seed, the pairs only one of them ranks right summed over those seeds.
 * Undefined where a run lacks its per-pair results (eval_pairs.jsonl) or the pairs differ.
 */
export function baselineMcNemar(table: ResultTable, baseline: number): ({ p: number; onlyRow: number; onlyBaseline: number } | undefined)[] {
  const base = table.rows[baseline];
  return table.rows.map((row, i) => {
    if (i === baseline || !base) return undefined;
    const bySeed = new Map(base.runs.map((r) => [r.run.seed, r.pairCorrect]));
    let onlyRow = 0;
    let onlyBaseline = 0;
    let matched = 0;
    for (const r of row.runs) {
      const b = bySeed.get(r.run.seed);
      if (!r.pairCorrect || !b || b.length !== r.pairCorrect.length) return undefined;
      matched++;
      r.pairCorrect.forEach((x, k) => {
        if (x && !b[k]) onlyRow++;
        else if (!x && b[k]) onlyBaseline++;
      });
    }
    return matched ? { p: binomialTwoSidedP(onlyRow, onlyRow + onlyBaseline), onlyRow, onlyBaseline } : undefined;
  });
}

/** The table as text cells for Markdown/LaTeX export: `mean ± std`, with `(Δ …)` against a baseline. */
export function resultTextTable(table: ResultTable, baseline: number | null, caption?: string): TextTable {
  const deltas = baseline === null ? null : baselineDeltas(table, baseline);
  const mcnemar = baseline === null ? null : baselineMcNemar(table, baseline);
  const rows = table.rows.map((row, i) => [
    baseline === i ? `${row.label} (baseline)` : row.label,
    `${row.runs.length}`,
    ...row.cells.map((c, j) => {
      const text = formatMeanStd(c, table.columns[j].kind);
      const d = deltas && baseline !== i ? formatDelta(deltas[i][j], table.columns[j].kind) : '';
      const m = table.columns[j].id === 'reward_acc' ? mcnemar?.[i] : undefined;
      const p = m ? `, McNemar p ${m.p < 0.001 ? '< 0.001' : m.p.toFixed(3)}` : '';
      return d ? `${text} (Δ ${d}${p})` : text;
    }),
  ]);
  return {
    header: [table.grouping === 'variant' ? 'Variant' : 'Run', 'n', ...table.columns.map((c) => c.label)],
    rows,
    bold: table.best.map((r) => [false, false, ...r]),
    caption,
  };
}
