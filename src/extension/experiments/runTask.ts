/**
 * Runs are VS Code tasks of type `ava-lab`: they appear in "Run Task", can be written in
 * tasks.json, and show the backend's log in a task terminal. The task's custom execution is a
 * pseudoterminal that starts a launch through the supervisor and streams its output; closing
 * the terminal (or Terminate Task) stops the run. The run itself does not depend on the
 * terminal: it outlives a window reload and the supervisor finds it again.
 *
 *   { "type": "ava-lab", "experiment": "experiments/demo.ava.yaml", "variant": "no_kl", "seed": 1 }
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { eventLine, toTerminalText } from '../backend/eventText.js';
import type { Launch } from '../backend/launch.js';
import type { RunRequest } from '../backend/runArgs.js';
import type { RunSupervisor } from '../backend/supervisor.js';
import { folderFor, runsRoot } from '../settings.js';
import { UNTRUSTED_MESSAGE } from '../trust.js';
import { experimentOutline } from './experimentOutline.js';

export const TASK_TYPE = 'ava-lab';

/** Set once the window closes or reloads (then task terminals close without stopping their runs). */
let windowClosing = false;

export function markWindowClosing(): void {
  windowClosing = true;
}

/** Notices a reload through the terminals it closes (their exit reason is Shutdown). */
export function watchWindowClosing(): vscode.Disposable {
  return vscode.window.onDidCloseTerminal((t) => {
    if (t.exitStatus?.reason === vscode.TerminalExitReason.Shutdown) windowClosing = true;
  });
}

export interface AvaTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  /** Experiment YAML, relative to the workspace folder or absolute. */
  experiment: string;
  variant?: string;
  seed?: number;
  /** Grid directory to resume. */
  resume?: string;
}

function taskName(def: AvaTaskDefinition): string {
  const cell = def.variant !== undefined || def.seed !== undefined ? ` ${def.variant || 'base'}${def.seed !== undefined ? `/seed-${def.seed}` : ''}` : '';
  return `${def.resume ? 'resume' : 'run'} ${path.basename(def.experiment)}${cell}`;
}

/** The experiment's absolute path and what the supervisor needs to run it. */
function requestFor(def: AvaTaskDefinition, folder: vscode.WorkspaceFolder | undefined): { req: RunRequest; name: string } {
  const experimentFile = path.isAbsolute(def.experiment) || !folder ? def.experiment : path.join(folder.uri.fsPath, def.experiment);
  const owner = folder ?? folderFor(vscode.Uri.file(experimentFile));
  const root = runsRoot(owner) ?? path.join(path.dirname(experimentFile), 'runs');
  let name = path.basename(experimentFile).replace(/\.ava\.ya?ml$/, '');
  try {
    name = experimentOutline(fs.readFileSync(experimentFile, 'utf8')).name ?? name;
  } catch {
    // a missing file is reported by the backend with its own message
  }
  const req: RunRequest = {
    experimentFile,
    cwd: owner?.uri.fsPath ?? path.dirname(experimentFile),
    runsRoot: root,
    variant: def.variant,
    seed: def.seed,
    resumeGridDir: def.resume,
  };
  return { req, name };
}

export function createRunTask(def: AvaTaskDefinition, folder: vscode.WorkspaceFolder | undefined, supervisor: RunSupervisor): vscode.Task {
  const execution = new vscode.CustomExecution(async (resolved) => new RunPseudoterminal(supervisor, resolved as AvaTaskDefinition, folder));
  const task = new vscode.Task(def, folder ?? vscode.TaskScope.Workspace, taskName(def), 'AVA Lab', execution, []);
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, panel: vscode.TaskPanelKind.Dedicated, clear: true, showReuseMessage: false };
  task.detail = def.resume ? `resume ${def.resume}` : def.experiment;
  return task;
}

/** Offers one "run" task per experiment file of the workspace. */
export class AvaTaskProvider implements vscode.TaskProvider {
  constructor(private readonly supervisor: RunSupervisor) {}

  async provideTasks(): Promise<vscode.Task[]> {
    const files = await vscode.workspace.findFiles('**/*.ava.{yaml,yml}', '**/node_modules/**', 100);
    return files.map((uri) => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      const experiment = folder ? path.relative(folder.uri.fsPath, uri.fsPath) : uri.fsPath;
      return createRunTask({ type: TASK_TYPE, experiment }, folder, this.supervisor);
    });
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as AvaTaskDefinition;
    if (def.type !== TASK_TYPE || typeof def.experiment !== 'string') return undefined;
    const folder = typeof task.scope === 'object' ? task.scope : undefined;
    return createRunTask(def, folder, this.supervisor);
  }
}

/** The task terminal of one launch: the backend's stderr log plus a line per run event. */
class RunPseudoterminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private launch: Launch | undefined;
  private unsubscribe: (() => void)[] = [];

  constructor(
    private readonly supervisor: RunSupervisor,
    private readonly def: AvaTaskDefinition,
    private readonly folder: vscode.WorkspaceFolder | undefined,
  ) {}

  open(): void {
    if (!vscode.workspace.isTrusted) {
      this.finish([`✗ ${UNTRUSTED_MESSAGE}`], 1);
      return;
    }
    try {
      const { req, name } = requestFor(this.def, this.folder);
      this.launch = this.supervisor.start(req, name);
    } catch (e) {
      this.finish([`✗ ${(e as Error).message}`], 1);
      return;
    }
    const launch = this.launch;
    this.write([`$ ${launch.record.command} ${launch.record.args.join(' ')}`]);
    this.unsubscribe = [
      launch.onStderr.on((lines) => this.write(lines)),
      launch.onEvent.on((e) => {
        const line = eventLine(e);
        if (line) this.write([line]);
      }),
      launch.onExit.on((exit) => {
        const ok = exit.code === 0 || launch.state.ended === 'finished';
        this.finish([ok ? 'Done.' : `Backend ended (${exit.signal ?? `exit code ${exit.code ?? 'unknown'}`}).`], ok ? 0 : (exit.code ?? 1));
      }),
    ];
  }

  /**
   * The user closed the terminal or terminated the task: stop the run (it checkpoints first).
   * A window reload closes task terminals too, and then the run must go on: the stop waits a
   * moment for the reload to be noticed.
   */
  close(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    setTimeout(() => {
      if (!windowClosing && this.launch?.running) this.launch.stop();
    }, 300);
  }

  private write(lines: string[]): void {
    this.writeEmitter.fire(toTerminalText(lines));
  }

  private finish(lines: string[], code: number): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.write(lines);
    this.closeEmitter.fire(code);
  }
}
