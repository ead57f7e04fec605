/**
 * Reading a grid's win-rate stage for the Win rates panel: the report and the judged prompts
 * of one comparison and seed. Node only, no `vscode`, so tests call it on fixture grids.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, readJsonlFile } from '../../core/run/files.js';
import type { WinratesReport } from '../../core/winrates/report.js';
import { WINRATES_DIR, WINRATES_REPORT, type VerdictRow } from '../../core/winrates/run.js';

export function winratesReportPath(gridDir: string): string {
  return join(gridDir, WINRATES_DIR, WINRATES_REPORT);
}

/** Whether a grid has a win-rate report. */
export function hasWinrates(gridDir: string): boolean {
  return existsSync(winratesReportPath(gridDir));
}

/** The report, null when the grid has none; a report of another version is an error. */
export function readWinratesReport(gridDir: string): { report: WinratesReport | null; error?: string } {
  const path = winratesReportPath(gridDir);
  if (!existsSync(path)) return { report: null };
  const report = readJsonFile<WinratesReport>(path);
  if (!report || report.version !== 1 || !Array.isArray(report.comparisons)) return { report: null, error: `${path} is not a win-rate report of this AVA Lab version` };
  return { report };
}

/** Modification time of the report (0 when absent), to notice a rerun. */
export function winratesStamp(gridDir: string): number {
  try {
    return statSync(winratesReportPath(gridDir)).mtimeMs;
  } catch {
    return 0;
  }
}

/** The judged prompts of one comparison on one seed, in prompt order. */
export function readVerdicts(gridDir: string, comparison: string, seed: number): VerdictRow[] {
  return readJsonlFile<VerdictRow>(join(gridDir, WINRATES_DIR, `seed-${seed}`, 'verdicts.jsonl')).filter((r) => r?.comparison === comparison);
}
