/**
 * What a user sees of a running launch outside the runs view: a cancellable progress
 * notification per launch (cancel = stop), a status-bar item for the newest running launch,
 * and one message when a launch ends (with its result, or its error and a way to the log).
 */
import * as vscode from 'vscode';
import { formatAccuracy } from '../runs/runIndex.js';
import type { Launch, LaunchExit } from './launch.js';
import { describeProgress, launchFraction } from './launchState.js';
import type { RunSupervisor } from './supervisor.js';

/** Shows a cancellable notification that follows `launch` until it exits. */
export function showLaunchProgress(launch: Launch): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `AVA Lab: ${launch.record.title}`, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        let reported = 0;
        const update = (): void => {
          const percent = Math.round(launchFraction(launch.state) * 100);
          progress.report({ message: launch.stopping ? 'stopping…' : describeProgress(launch.state), increment: Math.max(0, percent - reported) });
          reported = Math.max(reported, percent);
        };
        const offEvent = launch.onEvent.on((e) => {
          if (e.type === 'progress' || e.type === 'run_start' || e.type === 'run_end' || e.type === 'grid_start') update();
        });
        token.onCancellationRequested(() => {
          launch.stop();
          update();
        });
        const offExit = launch.onExit.on(() => {
          offEvent();
          offExit();
          resolve();
        });
        update();
      }),
  );
}

/** One message when a launch ends: what it achieved, or why it failed. */
export function reportLaunchEnd(launch: Launch, exit: LaunchExit, log: vscode.LogOutputChannel): void {
  const cells = [...launch.state.cells.values()];
  const failed = cells.filter((c) => c.status === 'failed');
  const title = `AVA Lab: ${launch.record.title}`;
  if (failed.length || (launch.state.error && !cells.length) || (exit.code !== 0 && exit.code !== 130 && exit.code !== null && !cells.length)) {
    const reason = failed[0]?.error ?? launch.state.error ?? (launch.stderrLines().slice(-3).join(' ') || `exit code ${exit.code}`);
    void vscode.window.showErrorMessage(`${title} failed: ${firstLine(reason)}`, 'Show Log').then((c) => c && log.show());
    return;
  }
  const stopped = cells.some((c) => c.status === 'stopped') || launch.state.ended === 'stopped';
  if (stopped) {
    void vscode.window.showInformationMessage(`${title} stopped. Its checkpoint can be resumed from the Runs view.`);
    return;
  }
  const accuracies = cells.map((c) => formatAccuracy(c.summary ?? null)).filter(Boolean);
  const detail = accuracies.length === 1 ? ` (${accuracies[0]})` : accuracies.length ? ` (${accuracies.length} runs)` : '';
  const actions = cells.length > 1 ? ['Compare', 'Open Dashboard'] : ['Open Dashboard'];
  void vscode.window.showInformationMessage(`${title} finished${detail}.`, ...actions).then((choice) => {
    if (choice === 'Compare') void vscode.commands.executeCommand('avaLab.compareRuns', cells.map((c) => c.runDir));
    if (choice === 'Open Dashboard' && cells[0]) void vscode.commands.executeCommand('avaLab.openDashboard', cells[cells.length - 1]?.runDir);
  });
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** The status-bar item: the newest running launch and its progress; click opens its dashboard. */
export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('avaLab.runStatus', vscode.StatusBarAlignment.Left, 10);
  private readonly subscription: vscode.Disposable;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly supervisor: RunSupervisor) {
    this.item.name = 'AVA Lab Run';
    this.subscription = vscode.Disposable.from(
      supervisor.onDidChange(() => this.schedule()),
      supervisor.onEvent((e) => e.type === 'progress' && this.schedule()),
    );
    this.update();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.subscription.dispose();
    this.item.dispose();
  }

  /** At most a few updates a second, however fast progress events come. */
  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 250);
  }

  private update(): void {
    const active = this.supervisor.active();
    const launch = active[active.length - 1];
    if (!launch) {
      this.item.hide();
      return;
    }
    const more = active.length > 1 ? ` (+${active.length - 1})` : '';
    const percent = Math.round(launchFraction(launch.state) * 100);
    this.item.text = `$(loading~spin) AVA ${launch.record.title} ${percent}%${more}`;
    this.item.tooltip = `${launch.record.title}: ${describeProgress(launch.state)}\nClick to open the run dashboard.`;
    this.item.command = launch.state.current ? { title: 'Open Run Dashboard', command: 'avaLab.openDashboard', arguments: [launch.state.current] } : undefined;
    this.item.show();
  }
}
