/** Quick picks over the runs on disk, for commands started from the palette without a target. */
import * as vscode from 'vscode';
import { formatAccuracy, type ExperimentEntry, type GridEntry, type RunEntry } from './runIndex.js';

interface RunPick extends vscode.QuickPickItem {
  run: RunEntry;
}

interface GridPick extends vscode.QuickPickItem {
  grid: GridEntry;
}

function runPicks(experiments: ExperimentEntry[], filter: (r: RunEntry) => boolean): RunPick[] {
  return experiments.flatMap((e) =>
    e.grids.flatMap((g) =>
      g.runs.filter(filter).map((run) => ({
        label: `${e.name} · ${run.variant || 'base'}/seed-${run.seed}`,
        description: run.status === 'finished' ? (formatAccuracy(run.summary) ?? 'finished') : run.status,
        detail: run.dir,
        run,
      })),
    ),
  );
}

/** One run; running runs first, then the newest. Undefined when cancelled or there is none. */
export async function pickRun(experiments: ExperimentEntry[], placeHolder: string, filter: (r: RunEntry) => boolean = () => true): Promise<RunEntry | undefined> {
  const picks = runPicks(experiments, filter).sort((a, b) => Number(b.run.status === 'running') - Number(a.run.status === 'running'));
  if (!picks.length) {
    void vscode.window.showInformationMessage('AVA Lab: no matching runs in the runs folder.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(picks, { placeHolder, matchOnDetail: true }))?.run;
}

/** Several runs (at least two for a comparison). */
export async function pickRuns(experiments: ExperimentEntry[], placeHolder: string): Promise<RunEntry[] | undefined> {
  const picks = runPicks(experiments, (r) => r.status !== 'missing');
  if (!picks.length) {
    void vscode.window.showInformationMessage('AVA Lab: no runs in the runs folder yet.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(picks, { placeHolder, canPickMany: true, matchOnDetail: true }))?.map((p) => p.run);
}

export async function pickGrid(experiments: ExperimentEntry[], placeHolder: string, filter: (g: GridEntry) => boolean = () => true): Promise<GridEntry | undefined> {
  const picks: GridPick[] = experiments.flatMap((e) =>
    e.grids.filter(filter).map((grid) => ({ label: e.name, description: `${grid.runs.length} run(s) · ${grid.created}`, detail: grid.dir, grid })),
  );
  if (!picks.length) {
    void vscode.window.showInformationMessage('AVA Lab: no matching grids in the runs folder.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(picks, { placeHolder, matchOnDetail: true }))?.grid;
}
