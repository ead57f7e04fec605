/**
 * Workspace trust: an untrusted folder may contain a hostile experiment or checkpoint, so
 * training runs, the backend's validation and model loading (hovers, token rewards) are
 * refused there with one clear message; reading files and the runs already on disk still work.
 */
import * as vscode from 'vscode';

export const UNTRUSTED_MESSAGE = 'AVA Lab runs experiments and loads models only in a trusted workspace. Files and existing runs can still be viewed.';

/** True when trusted; otherwise tells the user why `action` is refused and offers to manage trust. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`${action}: ${UNTRUSTED_MESSAGE}`, 'Manage Workspace Trust').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
