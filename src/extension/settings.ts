/** The `avaLab.*` settings, read in one place with their defaults (package.json documents them). */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackendChoice } from '../core/experiment/config.js';
import type { ColorSchemeName } from '../protocol/webview.js';
import { DEFAULT_COLOR_SCHEME, isColorScheme } from '../ui-common/colorScale.js';

export const SECTION = 'avaLab';

export interface AvaSettings {
  /** Node executable for the backend; '' = `node` on PATH, else the editor's runtime. */
  nodePath: string;
  backend: BackendChoice;
  /** Runs folder, relative to the workspace folder unless absolute. */
  runsFolder: string;
  /** Run directory whose model answers hovers; '' = the newest finished run. */
  hoverModel: string;
  colorScale: ColorSchemeName;
}

export function readSettings(scope?: vscode.ConfigurationScope): AvaSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const colorScale = c.get<string>('colorScale');
  return {
    nodePath: c.get<string>('nodePath', ''),
    backend: c.get<BackendChoice>('backend', 'auto'),
    runsFolder: c.get<string>('runsFolder', 'runs') || 'runs',
    hoverModel: c.get<string>('hoverModel', ''),
    colorScale: isColorScheme(colorScale) ? colorScale : DEFAULT_COLOR_SCHEME,
  };
}

/** The workspace folder a file belongs to (or the first one). */
export function folderFor(file?: vscode.Uri): vscode.WorkspaceFolder | undefined {
  return (file && vscode.workspace.getWorkspaceFolder(file)) ?? vscode.workspace.workspaceFolders?.[0];
}

/** Absolute runs folder of a workspace folder. */
export function runsRoot(folder: vscode.WorkspaceFolder | undefined): string | undefined {
  const setting = readSettings(folder?.uri).runsFolder;
  if (path.isAbsolute(setting)) return setting;
  return folder ? path.join(folder.uri.fsPath, setting) : undefined;
}

/** Every distinct runs folder of the open workspace. */
export function allRunsRoots(): string[] {
  const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => runsRoot(f)).filter((r): r is string => !!r);
  return [...new Set(roots)];
}

/** A setting path made absolute against the workspace folder. */
export function resolveWorkspacePath(p: string, folder = folderFor()): string {
  if (path.isAbsolute(p) || !folder) return p;
  return path.join(folder.uri.fsPath, p);
}
