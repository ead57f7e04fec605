/**
 * Reward commands: Choose Reward Model for Hovers (writes `avaLab.hoverModel`), Toggle Token
 * Reward Highlights, and Show Token Rewards for Line (the panel, on the cursor's line of a
 * JSONL editor, or on the line a hover link names).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openTokenRewards } from '../panels/index.js';
import { pickRun } from '../runs/runPicker.js';
import type { ExperimentEntry } from '../runs/runIndex.js';
import { folderFor } from '../settings.js';
import { requireTrust } from '../trust.js';
import type { TokenHighlighter } from './highlights.js';
import type { RewardService } from './rewardService.js';

/** What a hover link passes to avaLab.showTokenRewards. */
export interface TokenRewardsTarget {
  runDir?: string;
  dataFile?: string;
  /** 1-based. */
  line?: number;
}

export async function chooseHoverModel(rewards: RewardService, runs: () => ExperimentEntry[]): Promise<void> {
  const automatic = { label: '$(history) Newest finished run', description: 'follows new runs automatically', dir: '' };
  const trained = runs().flatMap((e) => e.grids.flatMap((g) => g.runs.filter((r) => r.status === 'finished' && r.hasCheckpoint).map((r) => ({ e, r }))));
  const current = rewards.hoverModel();
  const picks = [
    automatic,
    ...trained.map(({ e, r }) => ({
      label: `${path.resolve(r.dir) === path.resolve(current?.runDir ?? '') ? '$(check) ' : ''}${e.name} · ${r.variant || 'base'}/seed-${r.seed}`,
      description: r.summary?.reward_acc ? `acc ${r.summary.reward_acc.value.toFixed(3)}` : '',
      detail: r.dir,
      dir: r.dir,
    })),
  ];
  const pick = await vscode.window.showQuickPick(picks, { placeHolder: 'Model for JSONL hovers and token highlights', matchOnDetail: true });
  if (!pick) return;
  const folder = folderFor(pick.dir ? vscode.Uri.file(pick.dir) : undefined);
  const value = pick.dir && folder && !path.relative(folder.uri.fsPath, pick.dir).startsWith('..') ? path.relative(folder.uri.fsPath, pick.dir) : pick.dir;
  const target = folder ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('avaLab').update('hoverModel', value, target);
}

export async function toggleHighlights(highlighter: TokenHighlighter): Promise<void> {
  if (!highlighter.isEnabled && !requireTrust('Token reward highlights')) return;
  const on = await highlighter.toggle();
  vscode.window.setStatusBarMessage(`AVA Lab: token reward highlights ${on ? 'on' : 'off'}`, 3000);
}

export async function showTokenRewards(rewards: RewardService, runs: () => ExperimentEntry[], target?: TokenRewardsTarget): Promise<void> {
  if (!requireTrust('Show Token Rewards')) return;
  const editor = vscode.window.activeTextEditor;
  const fromEditor = editor && editor.document.uri.fsPath.endsWith('.jsonl') ? { dataFile: editor.document.uri.fsPath, line: editor.selection.active.line + 1 } : {};
  const dataFile = target?.dataFile ?? fromEditor.dataFile;
  const line = target?.line ?? fromEditor.line;
  const runDir = target?.runDir ?? rewards.hoverModel()?.runDir ?? (await pickRun(runs(), 'Token rewards of which run?', (r) => r.hasCheckpoint))?.dir;
  if (!runDir) return;
  openTokenRewards(runDir, dataFile, line);
}
