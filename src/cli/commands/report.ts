/**
 * `ava-lab report <grid_dir>`: the grid's result table over seeds (core/eval/report.ts), read
 * from its run directories, printed and written to `<grid_dir>/report.md`. `ava-lab run` writes
 * the same file at the end of a grid with several seeds. A grid with a win-rate stage also gets
 * its tables (`<grid_dir>/winrates/winrates.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import type { ObjectiveKind } from '../../core/experiment/config.js';
import { parseRunConfigYaml } from '../../core/experiment/grid.js';
import { gridReportMarkdown, meanTermGrads, termGradsMarkdown, type ReportCell } from '../../core/eval/report.js';
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
export function writeGridReport(gridDir: string, cells: readonly ReportCell[], baseline: ObjectiveKind): string {
  const manifest = readJsonFile<GridManifest>(join(gridDir, GRID_MANIFEST));
  const head = `Grid \`${manifest?.experiment ?? ''}\` (${cells.length} runs): mean ± std over seeds; Δ vs ${baseline}: paired over the same seeds on the same data, mean ± std of the differences, two-sided paired t-test; where the runs saved per-pair results, McNemar's exact test on the pairs only one of the two ranks right (x:y = this variant : the baseline, summed over seeds).\n\n`;
  const grads = termGradsMarkdown(cells);
  const gradHead = '\nGradient norm each loss term alone sends to the reward head and to the weight head (mean over seeds and logged objective steps, before clipping; train.term_grads_every):\n\n';
  const text = head + gridReportMarkdown(cells, { baseline }) + (grads ? gradHead + grads : '');
  writeTextAtomic(join(gridDir, GRID_REPORT), text);
  return text;
}

export async function reportCommand(argv: string[], rep: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { baseline: { type: 'string', default: 'bt' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new AvaError('usage', 'usage: ava-lab report <grid_dir> [--baseline bt|pt|dpo|…]');
  const gridDir = resolve(positionals[0]);
  const text = writeGridReport(gridDir, readGridCells(gridDir), values.baseline as ObjectiveKind);
  rep.print(text);
  rep.print(`Written: ${join(gridDir, GRID_REPORT)}`);
  const winrates = readJsonFile<WinratesReport>(join(gridDir, WINRATES_DIR, WINRATES_REPORT));
  if (winrates) rep.print('\n' + winratesMarkdown(winrates));
  return EXIT.ok;
}
