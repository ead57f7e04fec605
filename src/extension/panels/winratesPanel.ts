/**
 * Win rates: the win / tie / lose bars of a grid's win-rate stage (`<grid>/winrates/`), the
 * judged prompts of a comparison, and both answers of a prompt side by side. The report is
 * re-read when its file changes (a rerun of `ava-lab winrates`), checked every POLL_MS.
 */
import { basename, dirname } from 'node:path';
import type * as vscode from 'vscode';
import type { HostToWebview } from '../../protocol/webview.js';
import { DisposableStore } from './disposables.js';
import { PanelWebview, type PanelRequest } from './panelWebview.js';
import type { PanelServices } from './services.js';
import { readVerdicts, readWinratesReport, winratesStamp } from './winratesFiles.js';

const POLL_MS = 3000;

export function winratesTitle(gridDir: string): string {
  return `Win rates: ${basename(dirname(gridDir))}/${basename(gridDir)}`;
}

export class WinratesPanel {
  private readonly disposables = new DisposableStore();
  private readonly web: PanelWebview;
  private stamp: number;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly gridDir: string,
    services: PanelServices,
  ) {
    this.stamp = winratesStamp(gridDir);
    this.web = new PanelWebview(panel, 'winrates', services, { snapshot: () => this.snapshot(), request: (m) => this.request(m), exportDir: () => gridDir }, this.disposables);
    const timer = setInterval(() => {
      const now = winratesStamp(gridDir);
      if (now === this.stamp) return;
      this.stamp = now;
      this.web.send(this.snapshot());
    }, POLL_MS);
    this.disposables.add({ dispose: () => clearInterval(timer) });
    this.disposables.add(panel.onDidDispose(() => this.disposables.dispose()));
  }

  reveal(): void {
    this.panel.reveal();
  }

  private snapshot(): HostToWebview {
    return { type: 'winrates/init', args: { kind: 'winrates', gridDir: this.gridDir }, ...readWinratesReport(this.gridDir) };
  }

  private request(m: PanelRequest): void {
    if (m.type !== 'requestVerdicts') return;
    const { report } = readWinratesReport(this.gridDir);
    // Only comparisons and seeds of the report: the webview names nothing else on disk.
    if (!report || !report.comparisons.some((c) => c.text === m.comparison) || !report.seeds.includes(m.seed)) {
      this.web.send({ type: 'winrates/verdicts', comparison: m.comparison, seed: m.seed, rows: [], error: 'no such comparison or seed in the report' });
      return;
    }
    this.web.send({ type: 'winrates/verdicts', comparison: m.comparison, seed: m.seed, rows: readVerdicts(this.gridDir, m.comparison, m.seed) });
  }
}
