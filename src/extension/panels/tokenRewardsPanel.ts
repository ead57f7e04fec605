/**
 * Token rewards: per-token reward means (colour), stds and weights of evaluation samples.
 * Two sources: the run's token_rewards.jsonl (first N eval samples, misranked pairs listed), and
 * any line of a data file, computed on demand by `services.lineRewards` (the backend). Clicking a
 * sample jumps to its JSONL line in the editor.
 */
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { ColorSchemeName, HostToWebview, LineTarget } from '../../protocol/webview.js';
import { readSettings } from '../settings.js';
import { RUN_TOKEN_REWARDS } from '../../core/run/layout.js';
import { DisposableStore } from './disposables.js';
import { PanelWebview, type PanelRequest } from './panelWebview.js';
import { readRunConfig, readRunSummary, readTokenRewards, resolveEvalDataFile } from './runFiles.js';
import { RunWatcher, TOKEN_DUMP } from './runWatcher.js';
import type { PanelServices } from './services.js';

const POLL_MS = 3000;
/** The setting that picks the diverging colour scale (shared with the editor hovers). */
const COLOR_SCALE_SETTING = 'avaLab.colorScale';

export function tokenRewardsTitle(runDir: string): string {
  return `Token rewards: ${basename(dirname(runDir))}/${basename(runDir)}`;
}

const colorSchemeSetting = (): ColorSchemeName => readSettings().colorScale;

export class TokenRewardsPanel {
  private readonly disposables = new DisposableStore();
  private readonly web: PanelWebview;
  private readonly evalDataFile: string | null;
  private pending: vscode.CancellationTokenSource | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly runDir: string,
    /** The data file to browse (defaults to the run's eval data), and the line to show first. */
    private dataFile: string | undefined,
    private line: number | undefined,
    private readonly services: PanelServices,
  ) {
    this.evalDataFile = resolveEvalDataFile(runDir, readRunConfig(runDir));
    this.web = new PanelWebview(panel, 'tokenRewards', services, {
      snapshot: () => this.snapshot(),
      request: (m) => this.request(m),
      exportDir: () => this.runDir,
    }, this.disposables);
    new RunWatcher(runDir, services.onEvent, { files: TOKEN_DUMP, filesChanged: () => this.web.send(this.snapshot()), event: () => undefined }, this.disposables, POLL_MS);
    this.disposables.add(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(COLOR_SCALE_SETTING)) this.web.send({ type: 'colorScheme', scheme: colorSchemeSetting() });
    }));
    this.disposables.add({ dispose: () => this.pending?.dispose() });
    this.disposables.add(panel.onDidDispose(() => this.disposables.dispose()));
  }

  /** Show this panel again, on another line of a data file if one is given. */
  show(dataFile?: string, line?: number): void {
    this.panel.reveal();
    if (dataFile && dataFile !== this.browsable()) {
      this.dataFile = dataFile;
      this.line = line;
      this.web.send(this.snapshot());
    } else if (line !== undefined) {
      this.line = line;
      this.web.send({ type: 'tokens/goto', line });
    }
  }

  private browsable(): string | null {
    return this.dataFile ?? this.evalDataFile;
  }

  private snapshot(): HostToWebview {
    let dump: ReturnType<typeof readTokenRewards> = [];
    let dumpError: string | undefined;
    try {
      dump = readTokenRewards(this.runDir);
    } catch (e) {
      dumpError = e instanceof Error ? e.message : String(e);
    }
    return {
      type: 'tokens/init',
      args: { kind: 'tokenRewards', runDir: this.runDir, dataFile: this.dataFile, line: this.line },
      run: readRunSummary(this.runDir),
      dump,
      evalDataFile: this.evalDataFile,
      dataFile: this.browsable(),
      colorScheme: colorSchemeSetting(),
      dumpError,
    };
  }

  private async request(m: PanelRequest): Promise<void> {
    if (m.type === 'openLine') await this.openLine(m.target, m.line);
    else if (m.type === 'requestLine') await this.computeLine(m.line);
  }

  /** Per-token rewards of one line of the browsable data file; a newer request cancels an older one. */
  private async computeLine(line: number): Promise<void> {
    const file = this.browsable();
    if (!file) {
      this.web.send({ type: 'tokens/line', line, error: 'This run has no data file to read lines from.' });
      return;
    }
    this.pending?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.pending = cts;
    try {
      const result = await this.services.lineRewards(this.runDir, file, line, cts.token);
      if (!cts.token.isCancellationRequested) this.web.send({ type: 'tokens/line', line, result });
    } catch (e) {
      if (!cts.token.isCancellationRequested) this.web.send({ type: 'tokens/line', line, error: e instanceof Error ? e.message : String(e) });
    }
  }

  private async openLine(target: LineTarget, line: number): Promise<void> {
    const file = target === 'dump' ? join(this.runDir, RUN_TOKEN_REWARDS) : target === 'evalData' ? this.evalDataFile : this.browsable();
    if (!file) {
      void vscode.window.showWarningMessage('AVA Lab: the data file of this sample is not known (built-in task).');
      return;
    }
    const position = new vscode.Position(Math.max(0, line - 1), 0);
    const viewColumn = this.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(position, position), viewColumn, preserveFocus: false });
  }
}
