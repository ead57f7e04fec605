/**
 * Slurm from VS Code: "Submit Experiment to Slurm" (palette, CodeLens, editor menu) runs
 * `ava-lab submit <file> --slurm` with the options of `avaLab.slurm.submitArgs`; the Runs
 * view then follows the cells (runsTree.ts asks Slurm while some are queued or running).
 * "Cancel Slurm Job" (`ava-lab cancel`) and "Resubmit Unfinished Cells" (`ava-lab submit
 * --resume`) act on a submitted grid or cell from the tree. Restricted Mode refuses all three:
 * they start processes on the cluster.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Backend, OneShotResult } from '../backend/backend.js';
import { resolveExperiment } from '../experiments/experimentCommands.js';
import { runsRoot } from '../settings.js';
import { requireTrust } from '../trust.js';
import type { RunsNode } from './runsTree.js';

/** The CLI's own error line, else the end of its stderr. */
function failure(r: OneShotResult): string {
  const e = r.events.find((x) => x.type === 'error');
  if (e && e.type === 'error') return e.message;
  return r.stderr.slice(-3).join(' ').trim() || `exit code ${r.code}`;
}

export class SlurmCommands {
  constructor(
    private readonly backend: Backend,
    private readonly log: vscode.LogOutputChannel,
    private readonly refresh: () => void,
  ) {}

  async submit(arg?: vscode.Uri): Promise<void> {
    if (!requireTrust('Submit Experiment to Slurm')) return;
    const uri = await resolveExperiment(arg);
    if (!uri) return;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open?.isDirty) await open.save();
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const root = runsRoot(folder);
    const extra = vscode.workspace.getConfiguration('avaLab', uri).get<string[]>('slurm.submitArgs', []);
    const args = ['submit', uri.fsPath, '--slurm', ...(root ? ['--runs-root', root] : []), ...extra, '--json'];
    await this.runCli(`submitting ${path.basename(uri.fsPath)} to Slurm`, args, folder?.uri.fsPath ?? path.dirname(uri.fsPath), (r) => {
      const done = r.events.find((e) => e.type === 'submitted');
      if (!done || done.type !== 'submitted') return null;
      void vscode.window.showInformationMessage(`AVA Lab: submitted Slurm job ${done.job_id} (${done.cells} cell${done.cells === 1 ? '' : 's'}). The Runs view follows it.`, 'Show Runs', 'Open Script').then((c) => {
        if (c === 'Show Runs') void vscode.commands.executeCommand('avaLab.runs.focus');
        if (c === 'Open Script') void vscode.window.showTextDocument(vscode.Uri.file(done.script));
      });
      return `submitted job ${done.job_id}: ${done.grid_dir}`;
    });
  }

  /** `scancel` of a grid's live cells, or of one cell. */
  async cancel(node?: RunsNode): Promise<void> {
    if (!requireTrust('Cancel Slurm Job')) return;
    if (!node || node.kind === 'experiment') return;
    const grid = node.grid;
    const cell = node.kind === 'run' ? ['--only', node.run.variant, '--seed', String(node.run.seed)] : [];
    await this.runCli('cancelling Slurm tasks', ['cancel', grid.dir, ...cell], grid.dir, () => 'cancelled');
  }

  /** `ava-lab submit --resume`: the grid's cells that did not finish and are not in Slurm. */
  async resubmit(node?: RunsNode): Promise<void> {
    if (!requireTrust('Resubmit to Slurm')) return;
    if (!node || node.kind === 'experiment') return;
    const grid = node.grid;
    if (!fs.existsSync(grid.experimentFile)) {
      void vscode.window.showErrorMessage(`AVA Lab: cannot resubmit: the experiment file ${grid.experimentFile} is gone.`);
      return;
    }
    const cell = node.kind === 'run' ? ['--only', node.run.variant, '--seed', String(node.run.seed)] : [];
    const extra = vscode.workspace.getConfiguration('avaLab').get<string[]>('slurm.submitArgs', []);
    await this.runCli('resubmitting to Slurm', ['submit', grid.experimentFile, '--slurm', '--resume', grid.dir, ...cell, ...extra, '--json'], path.dirname(grid.experimentFile), (r) => {
      const done = r.events.find((e) => e.type === 'submitted');
      return done && done.type === 'submitted' ? `resubmitted ${done.cells} cell(s) as job ${done.job_id}` : 'nothing to resubmit';
    });
  }

  private async runCli(title: string, args: string[], cwd: string, onOk: (r: OneShotResult) => string | null): Promise<void> {
    this.log.info(`ava-lab ${args.join(' ')}`);
    try {
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `AVA Lab: ${title}`, cancellable: true }, (_p, token) => this.backend.runOnce(args, { cwd, timeoutMs: 120_000, token }));
      const said = r.code === 0 ? onOk(r) : null;
      if (said === null) {
        const why = failure(r);
        this.log.error(`${title}: ${why}`);
        void vscode.window.showErrorMessage(`AVA Lab: ${title} failed: ${why}`);
      } else {
        this.log.info(`${title}: ${said}`);
        if (args[0] !== 'submit') vscode.window.setStatusBarMessage(`AVA Lab: ${said}`, 5000);
      }
    } catch (e) {
      void vscode.window.showErrorMessage(`AVA Lab: ${title} failed: ${(e as Error).message}`);
    } finally {
      this.refresh();
    }
  }
}
