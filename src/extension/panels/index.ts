/**
 * The webview panels of AVA Lab: Run dashboard, Compare, Token rewards.
 *
 * The extension host calls `registerPanels` once on activation (it registers the
 * `WebviewPanelSerializer`s so panels survive a window reload) and then the `open*`
 * functions from its commands and tree actions.
 */
import * as vscode from 'vscode';
import type { BackendEvent, LineRewards } from '../../protocol/events.js';

/** What the panels need from the rest of the extension. */
export interface PanelServices {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** Live protocol events (metrics, eval, run_end…) from supervised runs. */
  onEvent: vscode.Event<BackendEvent>;
  /** Per-token rewards of one dataset line from a trained run (`ava-lab rewards` / serve). */
  lineRewards(runDir: string, dataFile: string, line: number, token?: vscode.CancellationToken): Promise<LineRewards>;
}

let services: PanelServices | undefined;

export function registerPanels(context: vscode.ExtensionContext, panelServices: PanelServices): void {
  services = panelServices;
  void context;
}

export function openDashboard(runDir: string): void {
  notReady(runDir);
}

export function openCompare(runDirs: string[]): void {
  notReady(runDirs.join(', '));
}

export function openTokenRewards(runDir: string, dataFile?: string, line?: number): void {
  notReady(`${runDir} ${dataFile ?? ''} ${line ?? ''}`);
}

function notReady(what: string): void {
  services?.log.warn(`AVA Lab panels are not built yet (${what})`);
}
