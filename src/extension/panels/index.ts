/**
 * The webview panels of AVA Lab: Run dashboard, Compare, Token rewards, Win rates.
 *
 * The extension host calls `registerPanels` once on activation: it keeps the services and
 * registers a WebviewPanelSerializer per panel so open panels come back after a window reload
 * (each page saves what it was opened on in its webview state). Commands and tree actions then
 * call the `open*` functions; opening a panel that is already open reveals it.
 */
import { resolve } from 'node:path';
import * as vscode from 'vscode';
import { PANEL_VIEW_TYPES, isPanelArgs, type PanelArgs, type PanelKind } from '../../protocol/webview.js';
import { ComparePanel, compareTitle } from './comparePanel.js';
import { DashboardPanel, dashboardTitle } from './dashboardPanel.js';
import { panelOptions } from './panelWebview.js';
import type { PanelServices } from './services.js';
import { TokenRewardsPanel, tokenRewardsTitle } from './tokenRewardsPanel.js';
import { WinratesPanel, winratesTitle } from './winratesPanel.js';

export type { PanelServices } from './services.js';

let services: PanelServices | undefined;
const dashboards = new Map<string, DashboardPanel>();
const compares = new Map<string, ComparePanel>();
const tokenPanels = new Map<string, TokenRewardsPanel>();
const winratePanels = new Map<string, WinratesPanel>();

export function registerPanels(context: vscode.ExtensionContext, panelServices: PanelServices): void {
  services = panelServices;
  for (const kind of Object.keys(PANEL_VIEW_TYPES) as PanelKind[]) {
    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPES[kind], {
        deserializeWebviewPanel: async (panel, state: unknown) => restore(kind, panel, state),
      }),
    );
  }
  context.subscriptions.push({ dispose: disposeAll });
}

export function openDashboard(runDir: string): void {
  const dir = resolve(runDir);
  const existing = dashboards.get(dir);
  if (existing) return existing.reveal();
  createDashboard(newPanel('dashboard', dashboardTitle(dir), vscode.ViewColumn.Active), dir);
}

export function openCompare(runDirs: string[]): void {
  const dirs = runDirs.map((d) => resolve(d));
  const existing = compares.get(compareKey(dirs));
  if (existing) return existing.reveal();
  createCompare(newPanel('compare', compareTitle(dirs), vscode.ViewColumn.Active), dirs);
}

export function openTokenRewards(runDir: string, dataFile?: string, line?: number): void {
  const dir = resolve(runDir);
  const file = dataFile === undefined ? undefined : resolve(dataFile);
  const existing = tokenPanels.get(dir);
  if (existing) return existing.show(file, line);
  createTokenRewards(newPanel('tokenRewards', tokenRewardsTitle(dir), vscode.ViewColumn.Beside), dir, file, line);
}

export function openWinrates(gridDir: string): void {
  const dir = resolve(gridDir);
  const existing = winratePanels.get(dir);
  if (existing) return existing.reveal();
  createWinrates(newPanel('winrates', winratesTitle(dir), vscode.ViewColumn.Active), dir);
}

function requireServices(): PanelServices {
  if (!services) throw new Error('AVA Lab panels used before registerPanels()');
  return services;
}

function newPanel(kind: PanelKind, title: string, column: vscode.ViewColumn): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(PANEL_VIEW_TYPES[kind], title, column, panelOptions(requireServices().extensionUri));
}

const compareKey = (dirs: readonly string[]): string => [...dirs].sort().join('\n');

function createDashboard(panel: vscode.WebviewPanel, runDir: string): void {
  const p = new DashboardPanel(panel, runDir, requireServices(), (dir) => openTokenRewards(dir));
  track(dashboards, runDir, p, panel);
}

function createCompare(panel: vscode.WebviewPanel, paths: string[]): void {
  const p = new ComparePanel(panel, paths, requireServices(), { dashboard: openDashboard, tokenRewards: (dir) => openTokenRewards(dir) });
  track(compares, compareKey(paths), p, panel);
}

function createTokenRewards(panel: vscode.WebviewPanel, runDir: string, dataFile?: string, line?: number): void {
  track(tokenPanels, runDir, new TokenRewardsPanel(panel, runDir, dataFile, line, requireServices()), panel);
}

function createWinrates(panel: vscode.WebviewPanel, gridDir: string): void {
  track(winratePanels, gridDir, new WinratesPanel(panel, gridDir, requireServices()), panel);
}

function track<T>(registry: Map<string, T>, key: string, value: T, panel: vscode.WebviewPanel): void {
  registry.set(key, value);
  panel.onDidDispose(() => {
    if (registry.get(key) === value) registry.delete(key);
  });
}

/** Re-create a panel after a window reload from the state its page saved. */
function restore(kind: PanelKind, panel: vscode.WebviewPanel, state: unknown): void {
  const args: unknown = (state as { args?: unknown } | undefined)?.args;
  if (!isPanelArgs(args, kind)) {
    requireServices().log.warn(`panel: cannot restore ${kind}: no saved state`);
    panel.dispose();
    return;
  }
  open(args, panel);
}

function open(args: PanelArgs, panel: vscode.WebviewPanel): void {
  switch (args.kind) {
    case 'dashboard':
      return createDashboard(panel, resolve(args.runDir));
    case 'compare':
      return createCompare(panel, args.runDirs.map((d) => resolve(d)));
    case 'tokenRewards':
      return createTokenRewards(panel, resolve(args.runDir), args.dataFile, args.line);
    case 'winrates':
      return createWinrates(panel, resolve(args.gridDir));
  }
}

function disposeAll(): void {
  for (const registry of [dashboards, compares, tokenPanels, winratePanels] as Map<string, { panel: vscode.WebviewPanel }>[]) {
    for (const p of [...registry.values()]) p.panel.dispose();
    registry.clear();
  }
}
