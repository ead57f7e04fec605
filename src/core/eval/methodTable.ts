/**
 * Table 1 of the paper from a grid: methods × tasks, reward accuracy mean ± std over seeds, the
 * best mean per task marked, and a mark on every method that differs significantly (p < 0.05)
 * from the baseline method on the same task: McNemar's exact test on the per-pair results
 * (summed over seeds) where the runs saved them, else the paired t-test over seeds.
 *
 * A variant's method is its name without its task's name ("harmless w/o rwt" on the `harmless`
 * task is the method "w/o rwt"); a grid whose variants do not span two tasks or more has no such
 * table. Pure: no I/O. Renders as Markdown, CSV and LaTeX; the JSON form is the object itself.
 */
import type { ObjectiveKind } from '../experiment/config.js';
import type { ReportCell } from './report.js';
import { binomialTwoSidedP, pairedComparison } from './stats.js';

export interface MethodCell {
  /** Reward accuracy per seed (fractions), in seed order. */
  values: number[];
  mean: number;
  std: number;
  best: boolean;
  /** Versus the baseline method on this task: the test used and its p; null for the baseline itself or without one. */
  vsBaseline: { test: 'mcnemar' | 't'; p: number; diff: number } | null;
}

export interface MethodTable {
  tasks: string[];
  baseline: string | null;
  best_possible: Record<string, number | null>;
  methods: { name: string; cells: (MethodCell | null)[] }[];
}

const SIGNIFICANT = 0.05;

function taskOf(c: ReportCell): string {
  return c.run.data.task ?? (c.run.data.train ?? 'files').split(/[\\/]/).pop()!;
}

/** The variant name without the task's name; the variant itself when that leaves nothing. */
export function methodName(variant: string, task: string): string {
  const rest = variant.split(/\s+/).filter((w) => w !== task).join(' ').trim();
  return rest || variant || 'base';
}

/**
 * Which cells are the baseline: those of the method or variant named `baseline` when some cell
 * is so named ("AVA-p", "harmless BT"), else those whose objective is the kind `baseline` ("bt").
 */
export function baselineMatcher(cells: readonly ReportCell[], baseline: string): (c: ReportCell) => boolean {
  const byName = (c: ReportCell) => c.variant === baseline || methodName(c.variant, taskOf(c)) === baseline;
  return cells.some(byName) ? byName : (c) => c.run.objective.kind === baseline;
}

export function methodTaskTable(cells: readonly ReportCell[], baseline: ObjectiveKind | string): MethodTable | null {
  const tasks = [...new Set(cells.map(taskOf))];
  if (tasks.length < 2) return null;
  const groups = new Map<string, Map<string, ReportCell[]>>();
  for (const c of cells) {
    const task = taskOf(c);
    const name = methodName(c.variant, task);
    const byTask = groups.get(name) ?? new Map<string, ReportCell[]>();
    byTask.set(task, [...(byTask.get(task) ?? []), c]);
    groups.set(name, byTask);
  }
  const isBaseline = baselineMatcher(cells, baseline);
  const baselineName = [...groups.entries()].find(([, byTask]) => [...byTask.values()].every((cs) => cs.every(isBaseline)))?.[0] ?? null;
  const acc = (c: ReportCell) => c.summary?.reward_acc?.value;
  const methods = [...groups.entries()].map(([name, byTask]) => ({
    name,
    cells: tasks.map((task): MethodCell | null => {
      const cs = (byTask.get(task) ?? []).filter((c) => acc(c) !== undefined).sort((a, b) => a.seed - b.seed);
      if (cs.length === 0) return null;
      const values = cs.map((c) => acc(c)!);
      const mean = values.reduce((s, x) => s + x, 0) / values.length;
      const std = values.length < 2 ? 0 : Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1));
      const base = baselineName !== null && name !== baselineName ? groups.get(baselineName)?.get(task) : undefined;
      return { values, mean, std, best: false, vsBaseline: base ? compare(cs, base) : null };
    }),
  }));
  tasks.forEach((_, t) => {
    const means = methods.map((m) => m.cells[t]?.mean ?? -Infinity);
    const top = Math.max(...means);
    methods.forEach((m, i) => {
      if (m.cells[t] && means[i] === top) m.cells[t]!.best = true;
    });
  });
  const bestPossible = Object.fromEntries(tasks.map((task) => [task, cells.find((c) => taskOf(c) === task && c.summary?.best_possible_acc !== undefined)?.summary?.best_possible_acc ?? null]));
  return { tasks, baseline: baselineName, best_possible: bestPossible, methods };
}

function compare(cells: ReportCell[], base: ReportCell[]): MethodCell['vsBaseline'] {
  const bySeed = new Map(base.map((c) => [c.seed, c]));
  const matched = cells.flatMap((c) => {
    const b = bySeed.get(c.seed);
    return b && b.summary?.reward_acc && c.summary?.reward_acc ? [[c, b] as const] : [];
  });
  if (matched.length === 0) return null;
  const diff = matched.reduce((s, [a, b]) => s + a.summary!.reward_acc!.value - b.summary!.reward_acc!.value, 0) / matched.length;
  if (matched.every(([a, b]) => a.pairCorrect && b.pairCorrect && a.pairCorrect.length === b.pairCorrect.length)) {
    let onlyA = 0;
    let onlyB = 0;
    for (const [a, b] of matched) {
      a.pairCorrect!.forEach((x, i) => {
        if (x && !b.pairCorrect![i]) onlyA++;
        else if (!x && b.pairCorrect![i]) onlyB++;
      });
    }
    return { test: 'mcnemar', p: binomialTwoSidedP(onlyA, onlyA + onlyB), diff };
  }
  if (matched.length < 2) return null;
  const t = pairedComparison(
    matched.map(([a]) => a.summary!.reward_acc!.value),
    matched.map(([, b]) => b.summary!.reward_acc!.value),
  );
  return { test: 't', p: t.p, diff };
}

const pct = (x: number) => (100 * x).toFixed(2);

/** "70.27 ± 1.02" with `**` on the best of the column and `†` where it differs from the baseline. */
function cellText(c: MethodCell | null, style: 'md' | 'plain' | 'latex'): string {
  if (!c) return '—';
  const text = c.values.length > 1 ? `${pct(c.mean)} ± ${pct(c.std)}` : pct(c.mean);
  const mark = c.vsBaseline && c.vsBaseline.p < SIGNIFICANT ? (style === 'latex' ? '$^\\dagger$' : ' †') : '';
  if (!c.best) return text + mark;
  return style === 'md' ? `**${text}**${mark}` : style === 'latex' ? `\\textbf{${text.replace('±', '$\\pm$')}}${mark}` : `${text} (best)${mark}`;
}

export function methodTableMarkdown(t: MethodTable): string {
  const head = ['method', ...t.tasks];
  const rows = t.methods.map((m) => [m.name + (m.name === t.baseline ? ' (baseline)' : ''), ...m.cells.map((c) => cellText(c, 'md'))]);
  const bestPossible = ['best possible', ...t.tasks.map((task) => (t.best_possible[task] === null ? '—' : pct(t.best_possible[task]!)))];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line), line(bestPossible)].join('\n') + '\n';
}

export function methodTableCsv(t: MethodTable): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = [
    ['method', ...t.tasks.flatMap((task) => [`${task} mean %`, `${task} std %`, `${task} p vs baseline`])],
    ...t.methods.map((m) => [m.name, ...m.cells.flatMap((c) => (c ? [pct(c.mean), pct(c.std), c.vsBaseline ? c.vsBaseline.p.toPrecision(3) : ''] : ['', '', '']))]),
  ];
  return rows.map((r) => r.map(quote).join(',')).join('\n') + '\n';
}

export function methodTableLatex(t: MethodTable): string {
  const esc = (s: string) => s.replace(/([&%$#_{}])/g, '\\$1');
  const lines = [
    `\\begin{tabular}{l${'r'.repeat(t.tasks.length)}}`,
    '\\toprule',
    `method & ${t.tasks.map(esc).join(' & ')} \\\\`,
    '\\midrule',
    ...t.methods.map((m) => `${esc(m.name)} & ${m.cells.map((c) => cellText(c, 'latex').replace(/ ± /g, ' $\\pm$ ')).join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
  ];
  return lines.join('\n') + '\n';
}
