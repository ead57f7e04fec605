/** Saving what a panel exports (CSV, PNG, Markdown, LaTeX) through a save dialog, and copying text. */
import * as vscode from 'vscode';
import type { WebviewToHost } from '../../protocol/webview.js';
import { EXPORT_FILTERS, exportBytes, exportFileName } from './exportData.js';

type ExportMessage = Extract<WebviewToHost, { type: 'export' }>;

export async function saveExport(message: ExportMessage, defaultDir: string): Promise<vscode.Uri | undefined> {
  const name = exportFileName(message.fileName, message.format);
  const uri = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(vscode.Uri.file(defaultDir), name),
    filters: EXPORT_FILTERS[message.format],
    saveLabel: 'Export',
    title: `Export ${name}`,
  });
  if (!uri) return undefined;
  await vscode.workspace.fs.writeFile(uri, exportBytes(message.format, message.data));
  void vscode.window.showInformationMessage(`AVA Lab: exported ${vscode.workspace.asRelativePath(uri)}`);
  return uri;
}

export async function copyText(text: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
  void vscode.window.setStatusBarMessage('AVA Lab: copied to the clipboard', 3000);
}
