/** What the panels need from the rest of the extension (re-exported by index.ts). */
import type * as vscode from 'vscode';
import type { BackendEvent, LineRewards } from '../../protocol/events.js';

export interface PanelServices {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** Live protocol events (metrics, eval, run_end…) from supervised runs. */
  onEvent: vscode.Event<BackendEvent>;
  /** Per-token rewards of one dataset line (1-based) from a trained run (`ava-lab rewards` / serve). */
  lineRewards(runDir: string, dataFile: string, line: number, token?: vscode.CancellationToken): Promise<LineRewards>;
}
