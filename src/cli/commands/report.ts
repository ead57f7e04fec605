/**
 * `ava-lab report <grid_dir> [--format md|csv|latex|json]`: the grid's result table over seeds
 * (core/eval/report.ts) and, when its variants span several tasks, the methods × tasks table of
 * the paper's Table 1 (core/eval/methodTable.ts), read
 * from its run directories, printed and written to `<grid_dir>/report.md`. `ava-lab run` writes
 * the same file at the end of a grid with several seeds. A grid with a win-rate stage also gets
 * its tables (`<grid_dir>/winrates/winrates.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { parseRunConfigYaml } from '../../core/experiment/grid.js';
import { gridReportMarkdown, hasBaseline, meanTermGrads, termGradsMarkdown, type ReportCell } from '../../core/eval/report.js';
import { baselineMatcher, methodTableCsv, methodTableLatex, methodTableMarkdown, methodTaskTable } from '../../core/eval/methodTable.js';
import { readJsonFile, readJsonlFile, writeTextAtomic } from '../../core/run/files.js';
import { GRID_MANIFEST, RUN_CONFIG, RUN_EVAL, RUN_EVAL_PAIRS, RUN_METRICS, type EvalPairRow, type GridManifest } from '../../core/run/layout.js';
import { readStatus } from '../../core/run/status.js';
import type { EvalSummary, MetricRecord } from '../../protocol/events.js';
import type { Reporter } from '../reporter.js';
import { WINRATES_DIR, WINRATES_REPORT } from '../../core/winrates/run.js';
import { winratesMarkdown, type WinratesReport } from '../../core/winrates/report.js';

export const GRID_REPORT = 'report.md';

/** A cell as the report reads it; null when the run never wrote its config. */
export function readReportCell(dir: string, variant: string, seed: number): ReportCell | null {
  const configFile = join(dir, RUN_CONFIG);
  if (!existsSync(configFile)) return null;
  const run = parseRunConfigYaml(readFileSync(configFile, 'utf8'), configFile);
  const records = readJsonlFile<MetricRecord>(join(dir, RUN_METRICS));
  const last = [...records].reverse().find((r) => r.phase === 'train')?.values ?? {};
  const pairs = readJsonlFile<EvalPairRow>(join(dir, RUN_EVAL_PAIRS));
  return {
    variant,
    seed,
    run,
    summary: readJsonFile<EvalSummary>(join(dir, RUN_EVAL)),
    last,
    termGrads: meanTermGrads(records),
    alarms: readStatus(dir)?.alarms ?? [],
    ...(pairs.length > 0 && { pairCorrect: pairs.map((p) => p.correct === true) }),
  };
}

export function readGridCells(gridDir: string): ReportCell[] {
  const manifest = readJsonFile<GridManifest>(join(gridDir, GRID_MANIFEST));
  if (!manifest) throw new AvaError('usage', `${gridDir}: no ${GRID_MANIFEST} (not a grid directory of ava-lab run)`);
  return manifest.cells.flatMap((c) => readReportCell(join(gridDir, c.dir), c.variant, c.seed) ?? []);
}

/** The report text with a header naming the grid, written to the grid folder. */
export function writeGridReport(gridDir: string, cells: readonly ReportCell[], baseline: string): string {
  const manifest = readJsonFile<GridManifest>(join(gridDir, GRID_MANIFEST));
  const paired = hasBaseline(cells, baseline)
    ? `; Δ vs ${baseline}: paired over the same seeds on the same data, mean ± std of the differences, two-sided paired t-test; where the runs saved per-pair results, McNemar's exact test on the pairs only one of the two ranks right (x:y = this variant : the baseline, summed over seeds)`
    : '';
  const head = `Grid \`${manifest?.experiment ?? ''}\` (${cells.length} runs): mean ± std over seeds${paired}.\n\n`;
  const grads = termGradsMarkdown(cells);
  const gradHead = '\nGradient norm each loss term alone sends to the reward head and to the weight head (mean over seeds and logged objective steps, before clipping; train.term_grads_every):\n\n';
  const table = methodTaskTable(cells, baseline);
  const tableHead = `\nReward accuracy %, methods × tasks (the shape of the paper's Table 1): mean ± std over seeds; **bold**: the best mean of the task; †: differs from ${table?.baseline ?? baseline} on that task with p < 0.05 (McNemar's exact test on the per-pair results summed over seeds; the paired t-test where runs did not save them).\n\n`;
  const text = head + gridReportMarkdown(cells, { baseline }) + (table ? tableHead + methodTableMarkdown(table) : '') + (grads ? gradHead + grads : '');
  writeTextAtomic(join(gridDir, GRID_REPORT), text);
  return text;
}

const FORMATS = ['md', 'csv', 'latex', 'json'] as const;
type Format = (typeof FORMATS)[number];

export async function reportCommand(argv: string[], rep: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { baseline: { type: 'string' }, format: { type: 'string', default: 'md' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new AvaError('usage', 'usage: ava-lab report <grid_dir> [--baseline OBJECTIVE|METHOD|VARIANT] [--format md|csv|latex|json]');
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new AvaError('usage', `--format must be one of ${FORMATS.join(', ')}, got '${values.format}'`);
  const gridDir = resolve(positionals[0]);
  // The default baseline, Bradley-Terry, may be absent (a grid of policies): then nothing is compared.
  const baseline = values.baseline ?? 'bt';
  const cells = readGridCells(gridDir);
  if (values.baseline !== undefined && cells.length > 0 && !cells.some(baselineMatcher(cells, baseline))) {
    const names = [...new Set(cells.map((c) => c.variant || 'base'))];
    throw new AvaError('usage', `--baseline ${baseline} names no objective, method or variant of this grid (variants: ${names.join(', ')}; objectives: ${[...new Set(cells.map((c) => c.run.objective.kind))].join(', ')})`);
  }
  const winrates = readJsonFile<WinratesReport>(join(gridDir, WINRATES_DIR, WINRATES_REPORT));
  if (format !== 'md') {
    const table = methodTaskTable(cells, baseline);
    if (format === 'json') {
      rep.print(JSON.stringify({ version: 1, grid: gridDir, baseline, table1: table, variants: variantSummaries(cells), winrates }, null, 2));
      return EXIT.ok;
    }
    if (!table) throw new AvaError('usage', `--format ${format} prints the methods × tasks table, and this grid's variants cover one task only (use --format md or json)`);
    rep.print(format === 'csv' ? methodTableCsv(table) : methodTableLatex(table));
    return EXIT.ok;
  }
  const text = writeGridReport(gridDir, cells, baseline);
  rep.print(text);
  rep.print(`Written: ${join(gridDir, GRID_REPORT)}`);
  if (winrates) rep.print('\n' + winratesMarkdown(winrates));
  return EXIT.ok;
}

/** Per variant and seed, what the JSON report lists: the task, recipe, objective and accuracy. */
function variantSummaries(cells: readonly ReportCell[]) {
  return cells.map((c) => ({
    variant: c.variant,
    seed: c.seed,
    task: c.run.data.task,
    recipe: c.run.recipe,
    objective: c.run.objective.kind,
    reward_acc: c.summary?.reward_acc ?? null,
    best_possible_acc: c.summary?.best_possible_acc ?? null,
    alarms: c.alarms.map((a) => a.kind),
  }));
}
