/**
 * Hover on a JSONL dataset line: the line's per-token rewards from the chosen model
 * (rendered by hoverMarkdown.ts), or one sentence saying why there are none (untrusted
 * workspace, no trained model yet, unsaved edits, a line the model cannot read).
 */
import * as vscode from 'vscode';
import { readSettings } from '../settings.js';
import { UNTRUSTED_MESSAGE } from '../trust.js';
import { commandLink, escapeText, renderLineRewards } from './hoverMarkdown.js';
import type { RewardService } from './rewardService.js';

export const JSONL_SELECTOR: vscode.DocumentSelector = [{ language: 'jsonl' }, { scheme: 'file', pattern: '**/*.jsonl' }];

const ENABLED_COMMANDS = ['avaLab.showTokenRewards', 'avaLab.chooseHoverModel', 'avaLab.runExperiment', 'workbench.trust.manage'];

function markdown(text: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(text);
  md.supportHtml = true;
  md.isTrusted = { enabledCommands: ENABLED_COMMANDS };
  return md;
}

export class RewardHoverProvider implements vscode.HoverProvider {
  constructor(private readonly rewards: RewardService) {}

  async provideHover(doc: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const line = doc.lineAt(position.line);
    if (!line.text.trimStart().startsWith('{')) return undefined;
    const range = line.range;
    if (!vscode.workspace.isTrusted) return new vscode.Hover(markdown(`AVA Lab: ${UNTRUSTED_MESSAGE} [Manage Workspace Trust](command:workbench.trust.manage)`), range);
    const model = this.rewards.hoverModel();
    if (!model) {
      return new vscode.Hover(markdown(`AVA Lab: no trained model yet. [Run an experiment](${commandLink('avaLab.runExperiment')}) or [choose a run](${commandLink('avaLab.chooseHoverModel')}).`), range);
    }
    if (doc.isDirty) return new vscode.Hover(markdown('AVA Lab: save the file to see per-token rewards (the model reads the saved file).'), range);
    const lineNumber = position.line + 1;
    try {
      const result = await this.rewards.lineRewards(model.runDir, doc.uri.fsPath, lineNumber, token);
      const text = renderLineRewards(result, {
        scheme: readSettings(doc.uri).colorScale,
        modelLabel: model.source === 'latest' ? `${model.label} (newest run)` : model.label,
        openPanelLink: commandLink('avaLab.showTokenRewards', [{ runDir: model.runDir, dataFile: doc.uri.fsPath, line: lineNumber }]),
        chooseModelLink: commandLink('avaLab.chooseHoverModel'),
      });
      return new vscode.Hover(markdown(text), range);
    } catch (e) {
      if (e instanceof vscode.CancellationError || token.isCancellationRequested) return undefined;
      return new vscode.Hover(markdown(`AVA Lab could not read line ${lineNumber} with model \`${model.label}\`: ${escapeText((e as Error).message)}`), range);
    }
  }
}
