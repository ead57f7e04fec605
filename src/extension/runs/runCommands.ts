/**
 * Commands on runs, from the Runs view (a node, or several selected nodes), from other
 * commands (a directory) or from the palette (a quick pick): Stop Run, Resume Run, Open Run
 * Dashboard, Compare Runs, Show Win Rates, Reveal in Explorer, Delete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunSupervisor } from '../backend/supervisor.js';
import { resumeGrid } from '../experiments/experimentCommands.js';
import { openCompare, openDashboard, openWinrates } from '../panels/index.js';
import { hasWinrates } from '../panels/winratesFiles.js';
import { readGrid, type ExperimentEntry, type GridEntry, type RunEntry } from './runIndex.js';
import { pickGrid, pickRun, pickRuns } from './runPicker.js';
import type { RunsNode } from './runsTree.js';

type Target = RunsNode | string | undefined;

function isNode(x: unknown): x is RunsNode {
  return typeof x === 'object' && x !== null && 'kind' in x;
}

/** Run directories a node stands for (a grid stands for its cells). */
function runDirsOf(node: RunsNode): string[] {
  if (node.kind === 'run') return [node.run.dir];
  if (node.kind === 'grid') return node.grid.runs.map((r) => r.dir);
  return node.experiment.grids[0]?.runs.map((r) => r.dir) ?? [];
}

function targetDir(node: RunsNode): string {
  if (node.kind === 'run') return node.run.dir;
  if (node.kind === 'grid') return node.grid.dir;
  return node.experiment.grids[0]?.dir ?? '';
}

export class RunCommands {
  constructor(
    private readonly supervisor: RunSupervisor,
    private readonly runs: () => ExperimentEntry[],
    private readonly refresh: () => void,
  ) {}

  /** Stops a run, or a grid (through its launch, or else through the pid of its running cell). */
  async stop(target: Target): Promise<void> {
    const dir = isNode(target) ? targetDir(target) : (target ?? (await pickRun(this.runs(), 'Stop which run?', (r) => r.status === 'running'))?.dir);
    if (!dir) return;
    const candidates = isNode(target) && target.kind === 'grid' ? [dir, ...target.grid.runs.filter((r) => r.status === 'running').map((r) => r.dir)] : [dir];
    if (candidates.some((d) => this.supervisor.stop(d))) {
      vscode.window.setStatusBarMessage(`AVA Lab: stopping ${path.basename(path.dirname(dir))}/${path.basename(dir)} (it saves a checkpoint first)…`, 5000);
    } else {
      void vscode.window.showInformationMessage('AVA Lab: that run is not running.');
    }
    this.refresh();
  }

  async resume(target: Target): Promise<void> {
    let grid: GridEntry | null | undefined;
    let cell: RunEntry | undefined;
    if (isNode(target) && target.kind === 'run') [grid, cell] = [target.grid, target.run];
    else if (isNode(target) && target.kind === 'grid') grid = target.grid;
    else if (typeof target === 'string') grid = readGrid(target) ?? readGrid(path.dirname(path.dirname(target)));
    else grid = await pickGrid(this.runs(), 'Resume which grid?', (g) => g.runs.some((r) => r.status !== 'finished' && r.status !== 'running'));
    if (!grid) return;
    await resumeGrid(this.supervisor, grid.dir, grid.experimentFile, cell ? { variant: cell.variant, seed: cell.seed } : undefined);
  }

  async openDashboard(target: Target): Promise<void> {
    const dir = isNode(target) ? runDirsOf(target)[0] : (target ?? (await pickRun(this.runs(), 'Dashboard of which run?'))?.dir);
    if (dir) openDashboard(dir);
  }

  /** From the view: the clicked node plus the selection; from elsewhere: a list of run dirs. */
  async compare(target: Target | string[], selection?: RunsNode[]): Promise<void> {
    let dirs: string[];
    if (Array.isArray(target)) dirs = target;
    else if (isNode(target)) dirs = [...new Set((selection?.length ? selection : [target]).flatMap(runDirsOf))];
    else dirs = (await pickRuns(this.runs(), 'Compare which runs? (pick two or more)'))?.map((r) => r.dir) ?? [];
    if (dirs.length) openCompare(dirs);
  }

  /**
   * The Win rates panel of a grid (a run's node stands for its grid; an experiment file for its
   * newest grid that has win rates).
   */
  async winrates(target: Target | vscode.Uri): Promise<void> {
    let dir: string | undefined;
    if (target instanceof vscode.Uri) {
      dir = this.gridsOf(target.fsPath).find((g) => hasWinrates(g.dir))?.dir;
      if (!dir) {
        const choice = await vscode.window.showInformationMessage(`AVA Lab: ${path.basename(target.fsPath)} has no grid with win rates yet.`, 'Compute Win Rates');
        if (choice) await this.computeWinrates(target);
        return;
      }
    } else if (isNode(target)) dir = target.kind === 'run' ? path.dirname(path.dirname(target.run.dir)) : targetDir(target);
    else if (typeof target === 'string') dir = target;
    else dir = (await pickGrid(this.runs(), 'Win rates of which grid?', (g) => hasWinrates(g.dir)))?.dir;
    if (dir) openWinrates(dir);
  }

  /**
   * The win-rate stage of an experiment's newest grid: resuming a grid trains its unfinished
   * cells, then (re)computes the stage from the file's `winrates:` section. No grid yet: the
   * whole grid runs, and the stage ends it.
   */
  async computeWinrates(uri?: vscode.Uri): Promise<void> {
    const file = uri?.fsPath ?? vscode.window.activeTextEditor?.document.uri.fsPath;
    if (!file || !/\.ava\.ya?ml$/.test(file)) {
      void vscode.window.showInformationMessage('AVA Lab: open an experiment file (*.ava.yaml) with a winrates: section.');
      return;
    }
    const grid = this.gridsOf(file)[0];
    if (grid) await resumeGrid(this.supervisor, grid.dir, file);
    else await vscode.commands.executeCommand('avaLab.runExperiment', vscode.Uri.file(file), { scope: 'grid' });
  }

  /** Grids made from this experiment file, newest first. */
  private gridsOf(file: string): GridEntry[] {
    const target = path.resolve(file);
    return this.runs()
      .flatMap((e) => e.grids)
      .filter((g) => path.resolve(g.experimentFile) === target)
      .sort((a, b) => b.created.localeCompare(a.created));
  }

  async reveal(target: Target): Promise<void> {
    const dir = isNode(target) ? targetDir(target) : target;
    if (!dir) return;
    const uri = vscode.Uri.file(dir);
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.commands.executeCommand('revealFileInOS', uri);
  }

  async delete(target: Target): Promise<void> {
    if (!isNode(target) || target.kind === 'experiment') return;
    const dir = targetDir(target);
    if (this.supervisor.launchFor(dir)) {
      void vscode.window.showWarningMessage('AVA Lab: stop the run before deleting it.');
      return;
    }
    const what = target.kind === 'grid' ? `the grid ${path.basename(dir)} and its ${target.grid.runs.length} run(s)` : `the run ${path.basename(path.dirname(dir))}/${path.basename(dir)}`;
    const answer = await vscode.window.showWarningMessage(`Delete ${what}? Its metrics and checkpoints are removed from disk.`, { modal: true, detail: dir }, 'Delete');
    if (answer !== 'Delete') return;
    await fs.promises.rm(dir, { recursive: true, force: true });
    this.refresh();
  }
}
