/**
 * The experiment commands: New Experiment, Run Experiment (whole grid, one variant or one
 * cell; from the palette, a CodeLens, the editor title or the explorer) and Validate
 * Experiment. A run is started as an `ava-lab` task (see runTask.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunSupervisor } from '../backend/supervisor.js';
import { requireTrust } from '../trust.js';
import { cellLabel, experimentOutline, gridCells, type ExperimentOutline } from './experimentOutline.js';
import { createRunTask, TASK_TYPE, type AvaTaskDefinition } from './runTask.js';
import { isExperimentDocument, type ExperimentValidator } from './validation.js';

/** What to run of an experiment's grid. */
export type RunScope =
  | { scope: 'grid' }
  | { scope: 'pick' }
  | { scope: 'variant'; variant: string }
  | { scope: 'cell'; variant: string; seed: number };

interface ScopePick extends vscode.QuickPickItem {
  choice: Pick<AvaTaskDefinition, 'variant' | 'seed'>;
}

/** The experiment to act on: the argument, the active editor's file, or a pick of the workspace's. */
export async function resolveExperiment(arg?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document;
  if (active && isExperimentDocument(active)) return active.uri;
  const files = await vscode.workspace.findFiles('**/*.ava.{yaml,yml}', '**/node_modules/**', 200);
  if (files.length === 1) return files[0];
  if (!files.length) {
    const create = await vscode.window.showInformationMessage('AVA Lab: there is no experiment file (*.ava.yaml) in this workspace.', 'New Experiment');
    if (create) await vscode.commands.executeCommand('avaLab.newExperiment');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: 'Which experiment?' },
  );
  return pick?.uri;
}

/** Asks which part of the grid to run when there is a choice; `withGrid` offers the whole grid first. */
async function pickScope(outline: ExperimentOutline, withGrid: boolean): Promise<ScopePick['choice'] | undefined> {
  const cells = gridCells(outline);
  if (cells.length === 1) return {};
  const picks: ScopePick[] = [];
  if (withGrid) picks.push({ label: `$(run-all) Whole grid`, description: `${cells.length} runs`, choice: {} });
  if (outline.variants.length > 1 && outline.seeds.length > 1) {
    for (const v of outline.variants) picks.push({ label: `$(symbol-variable) ${v.name}`, description: `all ${outline.seeds.length} seeds`, choice: { variant: v.name } });
  }
  for (const c of cells) picks.push({ label: `$(play) ${cellLabel(c)}`, choice: { variant: c.variant || undefined, seed: c.seed } });
  return (await vscode.window.showQuickPick(picks, { placeHolder: `Run ${outline.name ?? 'experiment'}: the whole grid or one part` }))?.choice;
}

function scopeChoice(scope: RunScope | undefined, outline: ExperimentOutline): Promise<ScopePick['choice'] | undefined> | ScopePick['choice'] {
  switch (scope?.scope) {
    case 'grid':
      return {};
    case 'variant':
      return { variant: scope.variant || undefined };
    case 'cell':
      return { variant: scope.variant || undefined, seed: scope.seed };
    case 'pick':
      return pickScope(outline, false);
    default:
      return pickScope(outline, true);
  }
}

export async function runExperiment(supervisor: RunSupervisor, arg?: vscode.Uri, scope?: RunScope): Promise<void> {
  if (!requireTrust('Run Experiment')) return;
  const uri = await resolveExperiment(arg);
  if (!uri) return;
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  const outline = experimentOutline(open?.getText() ?? fs.readFileSync(uri.fsPath, 'utf8'));
  const choice = await scopeChoice(scope, outline);
  if (!choice) return;
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  const def: AvaTaskDefinition = {
    type: TASK_TYPE,
    experiment: folder ? path.relative(folder.uri.fsPath, uri.fsPath) : uri.fsPath,
    ...(choice.variant !== undefined ? { variant: choice.variant } : {}),
    ...(choice.seed !== undefined ? { seed: choice.seed } : {}),
  };
  await vscode.tasks.executeTask(createRunTask(def, folder, supervisor));
}

/** Resumes a grid (or one of its cells) from its checkpoints. */
export async function resumeGrid(supervisor: RunSupervisor, gridDir: string, experimentFile: string, cell?: { variant: string; seed: number }): Promise<void> {
  if (!requireTrust('Resume Run')) return;
  if (!fs.existsSync(experimentFile)) {
    void vscode.window.showErrorMessage(`AVA Lab: cannot resume: the experiment file ${experimentFile} is gone.`);
    return;
  }
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(experimentFile));
  const def: AvaTaskDefinition = {
    type: TASK_TYPE,
    experiment: folder ? path.relative(folder.uri.fsPath, experimentFile) : experimentFile,
    resume: gridDir,
    ...(cell ? { seed: cell.seed, ...(cell.variant ? { variant: cell.variant } : {}) } : {}),
  };
  await vscode.tasks.executeTask(createRunTask(def, folder, supervisor));
}

export async function validateExperiment(validator: ExperimentValidator, arg?: vscode.Uri): Promise<void> {
  if (!requireTrust('Validate Experiment')) return;
  const uri = await resolveExperiment(arg);
  if (!uri) return;
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  const diagnostics = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'AVA Lab: validating' }, () => validator.validate(uri));
  const name = path.basename(uri.fsPath);
  if (diagnostics === undefined) {
    void vscode.window.showWarningMessage(`AVA Lab: could not validate ${name}; see the AVA Lab log.`);
  } else if (diagnostics.length === 0) {
    void vscode.window.showInformationMessage(`AVA Lab: ${name} is valid.`);
  } else {
    const errors = diagnostics.filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length;
    void vscode.window.showWarningMessage(`AVA Lab: ${name} has ${errors} error(s) and ${diagnostics.length - errors} warning(s).`, 'Show Problems').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.actions.view.problems');
    });
  }
}
