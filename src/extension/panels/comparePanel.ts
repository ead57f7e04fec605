/**
 * Compare: final metrics, curves and config differences of several runs (a grid's cells or any
 * selection). Runs still going are re-read when their files change or their events arrive,
 * at most once per REFRESH_MS each.
 */
import { basename, resolve } from 'node:path';
import type * as vscode from 'vscode';
import type { CompareRun, HostToWebview } from '../../protocol/webview.js';
import { DisposableStore } from './disposables.js';
import { PanelWebview, type PanelRequest } from './panelWebview.js';
import { expandRunDirs, gridDirOf, readCompareRun } from './runFiles.js';
import { RunWatcher, STATUS_AND_EVALS } from './runWatcher.js';
import type { PanelServices } from './services.js';

const POLL_MS = 3000;
const REFRESH_MS = 1000;

export function compareTitle(paths: readonly string[]): string {
  return paths.length === 1 ? `Compare: ${basename(paths[0])}` : `Compare: ${paths.length} runs`;
}

export class ComparePanel {
  private readonly disposables = new DisposableStore();
  private readonly web: PanelWebview;
  private readonly runs = new Map<string, CompareRun>();
  private readonly missing: string[];
  private readonly scheduled = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    readonly panel: vscode.WebviewPanel,
    /** What was asked for: run directories and/or grid directories (re-expanded on restore). */
    readonly paths: string[],
    services: PanelServices,
    private readonly open: { dashboard(runDir: string): void; tokenRewards(runDir: string): void },
  ) {
    const { runDirs, missing } = expandRunDirs(paths);
    this.missing = missing;
    for (const dir of runDirs) this.runs.set(dir, readCompareRun(dir));
    this.web = new PanelWebview(panel, 'compare', services, {
      snapshot: () => this.snapshot(),
      request: (m) => this.request(m),
      exportDir: () => gridDirOf(runDirs[0] ?? '') ?? runDirs[0] ?? resolve('.'),
    }, this.disposables);
    for (const dir of runDirs) {
      const refresh = (): void => this.scheduleRefresh(dir);
      new RunWatcher(dir, services.onEvent, { files: STATUS_AND_EVALS, filesChanged: refresh, event: refresh }, this.disposables, POLL_MS);
    }
    this.disposables.add({ dispose: () => this.scheduled.forEach((t) => clearTimeout(t)) });
    this.disposables.add(panel.onDidDispose(() => this.disposables.dispose()));
  }

  reveal(): void {
    this.panel.reveal();
  }

  private snapshot(): HostToWebview {
    return { type: 'compare/init', args: { kind: 'compare', runDirs: this.paths }, runs: [...this.runs.values()], missing: this.missing };
  }

  private request(m: PanelRequest): void {
    if ((m.type === 'openDashboard' || m.type === 'openTokenRewards') && this.runs.has(resolve(m.runDir))) {
      if (m.type === 'openDashboard') this.open.dashboard(m.runDir);
      else this.open.tokenRewards(m.runDir);
    }
  }

  private scheduleRefresh(dir: string): void {
    if (this.scheduled.has(dir)) return;
    this.scheduled.set(dir, setTimeout(() => {
      this.scheduled.delete(dir);
      const run = readCompareRun(dir);
      if (JSON.stringify(run) === JSON.stringify(this.runs.get(dir))) return;
      this.runs.set(dir, run);
      this.web.send({ type: 'compare/run', run });
    }, REFRESH_MS));
  }
}
