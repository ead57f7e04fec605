/**
 * Run dashboard: live curves and status of one run. The host keeps the run's whole model
 * (records, periodic and final evaluations, status) built from the run directory and updated
 * from live events and the file watcher; the page gets a snapshot on load and increments after.
 */
import { basename, dirname } from 'node:path';
import type * as vscode from 'vscode';
import type { BackendEvent, EvalSummary, MetricRecord } from '../../protocol/events.js';
import type { HostToWebview, RunSummary } from '../../protocol/webview.js';
import { MetricStore } from '../../ui-common/metrics.js';
import { DisposableStore } from './disposables.js';
import { PanelWebview, type PanelRequest } from './panelWebview.js';
import { parseMetricLine, readEvals, readFinalEval, readRunSummary } from './runFiles.js';
import { RunWatcher, STATUS_AND_EVALS } from './runWatcher.js';
import type { PanelServices } from './services.js';

const POLL_MS = 1500;

/** `Run: bt/seed-0` for a grid cell; `Run: ppo:bt/seed-0` for a PPO run (`winrates/seed-0/ppo-bt`). */
export function dashboardTitle(runDir: string): string {
  const [name, parent] = [basename(runDir), basename(dirname(runDir))];
  if (/^seed-\d+$/.test(parent) && name.startsWith('ppo-')) return `Run: ppo:${name.slice(4)}/${parent}`;
  return `Run: ${parent}/${name}`;
}

export class DashboardPanel {
  private readonly disposables = new DisposableStore();
  private readonly web: PanelWebview;
  private readonly store = new MetricStore();
  private readonly evals = new Map<number, EvalSummary>();
  private final: EvalSummary | null;
  private run: RunSummary;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly runDir: string,
    services: PanelServices,
    private readonly openTokenRewards: (runDir: string) => void,
  ) {
    this.final = readFinalEval(runDir);
    for (const e of readEvals(runDir)) this.evals.set(e.step, e);
    this.run = readRunSummary(runDir); // again below, once the watcher has read metrics.jsonl
    this.web = new PanelWebview(panel, 'dashboard', services, {
      snapshot: () => this.snapshot(),
      request: (m) => this.request(m),
      exportDir: () => this.runDir,
    }, this.disposables);
    new RunWatcher(runDir, services.onEvent, {
      files: STATUS_AND_EVALS,
      metricLines: (lines) => this.addRecords(lines.flatMap((l) => parseMetricLine(l) ?? [])),
      filesChanged: () => this.reloadFiles(),
      event: (e) => this.onEvent(e),
    }, this.disposables, POLL_MS);
    this.run = readRunSummary(runDir, this.store.all());
    this.disposables.add(panel.onDidDispose(() => this.disposables.dispose()));
  }

  reveal(): void {
    this.panel.reveal();
  }

  private snapshot(): HostToWebview {
    return {
      type: 'dashboard/init',
      args: { kind: 'dashboard', runDir: this.runDir },
      run: this.run,
      records: this.store.all(),
      evals: [...this.evals.values()].sort((a, b) => a.step - b.step),
      final: this.final,
    };
  }

  private request(m: PanelRequest): void {
    if (m.type === 'openTokenRewards') this.openTokenRewards(this.runDir);
  }

  private addRecords(records: MetricRecord[]): void {
    const added = records.filter((r) => this.store.upsert(r));
    if (added.length === 0) return;
    this.web.send({ type: 'dashboard/records', records: added });
  }

  private addEval(summary: EvalSummary, final: boolean): void {
    if (final) {
      if (JSON.stringify(summary) === JSON.stringify(this.final)) return;
      this.final = summary;
    } else {
      if (JSON.stringify(this.evals.get(summary.step)) === JSON.stringify(summary)) return;
      this.evals.set(summary.step, summary);
    }
    this.web.send({ type: 'dashboard/eval', summary, final });
  }

  private setRun(run: RunSummary): void {
    if (JSON.stringify(run) === JSON.stringify(this.run)) return;
    this.run = run;
    this.web.send({ type: 'dashboard/run', run });
  }

  private reloadFiles(): void {
    this.setRun(readRunSummary(this.runDir, this.store.all()));
    for (const e of readEvals(this.runDir)) this.addEval(e, false);
    const final = readFinalEval(this.runDir);
    if (final) this.addEval(final, true);
  }

  private onEvent(e: BackendEvent): void {
    switch (e.type) {
      case 'metrics':
        this.addRecords([e.record]);
        return;
      case 'progress':
        this.setRun({ ...this.run, status: 'running', interrupted: false, phase: e.phase, step: e.step, totalSteps: e.total });
        return;
      case 'run_start':
        this.setRun({ ...this.run, status: 'running', interrupted: false, totalSteps: e.total_steps, error: undefined });
        return;
      case 'eval':
        this.addEval(e.summary, false);
        return;
      case 'run_end':
        this.setRun({ ...this.run, status: e.status, interrupted: false, error: e.error });
        if (e.summary) this.addEval(e.summary, true);
        this.reloadFiles();
        return;
      default:
        return;
    }
  }
}
