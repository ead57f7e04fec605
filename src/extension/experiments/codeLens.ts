/**
 * CodeLenses on experiment files: "Run" (one run; a pick when the grid has several cells),
 * "Run grid" (every cell), "Submit to Slurm" (where `sbatch` is on PATH or the file has a
 * `cluster:` section) and "Validate" above the first line, "Run variant" above each ablation, so
 * a single variant's seeds can be trained from where it is written, and "Show / Compute Win
 * Rates" above a `winrates:` section.
 */
import * as vscode from 'vscode';
import { findOnPath } from '../backend/nodeRuntime.js';
import { experimentOutline, gridCells } from './experimentOutline.js';

let sbatchFound: boolean | undefined;
/** Slurm's client is installed here (asked once per window). */
function hasSbatch(): boolean {
  sbatchFound ??= findOnPath(process.env.PATH, process.platform, 'sbatch') !== null;
  return sbatchFound;
}

export const EXPERIMENT_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.ava.yaml' },
  { scheme: 'file', pattern: '**/*.ava.yml' },
];

export class ExperimentCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const outline = experimentOutline(doc.getText());
    const cells = gridCells(outline);
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [
      new vscode.CodeLens(top, {
        title: '$(play) Run',
        tooltip: cells.length > 1 ? 'Train one run of this grid' : 'Train this experiment',
        command: 'avaLab.runExperiment',
        arguments: [doc.uri, { scope: 'pick' }],
      }),
    ];
    if (cells.length > 1) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: `$(run-all) Run grid (${cells.length} runs)`,
          tooltip: `${outline.variants.length} variant(s) × ${outline.seeds.length} seed(s)`,
          command: 'avaLab.runExperiment',
          arguments: [doc.uri, { scope: 'grid' }],
        }),
      );
    }
    if (hasSbatch() || /^cluster:/m.test(doc.getText())) {
      lenses.push(new vscode.CodeLens(top, { title: '$(cloud-upload) Submit to Slurm', tooltip: `One Slurm job array: ${cells.length} array task(s), one per grid cell`, command: 'avaLab.submitSlurm', arguments: [doc.uri] }));
    }
    lenses.push(new vscode.CodeLens(top, { title: '$(check) Validate', command: 'avaLab.validateExperiment', arguments: [doc.uri] }));
    const winrates = /^winrates:/m.exec(doc.getText());
    if (winrates) {
      const at = doc.positionAt(winrates.index);
      const line = new vscode.Range(at.line, 0, at.line, 0);
      lenses.push(
        new vscode.CodeLens(line, { title: '$(pie-chart) Show Win Rates', tooltip: 'The newest grid of this experiment that has win rates', command: 'avaLab.showWinrates', arguments: [doc.uri] }),
        new vscode.CodeLens(line, { title: '$(play) Compute Win Rates', tooltip: 'Finish the newest grid (or run it) and judge the comparisons below', command: 'avaLab.computeWinrates', arguments: [doc.uri] }),
      );
    }
    if (outline.variants.length > 1) {
      for (const v of outline.variants) {
        lenses.push(
          new vscode.CodeLens(new vscode.Range(v.line, 0, v.line, 0), {
            title: `$(play) Run ${v.name}${outline.seeds.length > 1 ? ` (${outline.seeds.length} seeds)` : ''}`,
            command: 'avaLab.runExperiment',
            arguments: [doc.uri, { scope: 'variant', variant: v.name }],
          }),
        );
      }
    }
    return lenses;
  }
}
