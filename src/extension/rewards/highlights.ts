/**
 * "Toggle Token Reward Highlights": colours the response tokens of the visible lines of JSONL
 * editors in place, by their reward mean (diverging scale of `avaLab.colorScale`, centred at 0).
 * Only visible lines are asked for, after scrolling settles; each token also gets a small
 * hover with μ̃ ± σ̃ and its weight w. The on/off state is kept per workspace.
 */
import * as vscode from 'vscode';
import type { ColorSchemeName } from '../../protocol/webview.js';
import { divergingOverlay, toRgba } from '../../ui-common/colorScale.js';
import { readSettings } from '../settings.js';
import { lineHighlights, type TokenHighlight } from './lineDecorations.js';
import type { RewardService } from './rewardService.js';

const LEVELS = 5;
const MAX_ALPHA = 0.55;
const MAX_LINES = 200;
const STATE_KEY = 'avaLab.tokenHighlights';

type DecorationSet = Record<TokenHighlight['sign'], vscode.TextEditorDecorationType[]>;

function createDecorations(scheme: ColorSchemeName): DecorationSet {
  const make = (sign: -1 | 1): vscode.TextEditorDecorationType[] =>
    Array.from({ length: LEVELS }, (_, i) => {
      const { color, alpha } = divergingOverlay(sign * (i + 1), LEVELS, scheme, MAX_ALPHA);
      return vscode.window.createTextEditorDecorationType({ backgroundColor: toRgba(color, alpha), borderRadius: '2px' });
    });
  return { negative: make(-1), positive: make(1) };
}

function isJsonl(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'jsonl' || doc.uri.fsPath.endsWith('.jsonl');
}

export class TokenHighlighter implements vscode.Disposable {
  private enabled: boolean;
  private decorations: DecorationSet;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly generations = new WeakMap<vscode.TextEditor, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly rewards: RewardService,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.enabled = state.get<boolean>(STATE_KEY, false);
    this.decorations = createDecorations(readSettings().colorScale);
    void vscode.commands.executeCommand('setContext', STATE_KEY, this.enabled);
    this.disposables.push(
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      vscode.window.onDidChangeTextEditorVisibleRanges(() => this.schedule()),
      vscode.workspace.onDidSaveTextDocument((d) => isJsonl(d) && this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('avaLab.colorScale')) this.recreateDecorations();
        if (e.affectsConfiguration('avaLab.hoverModel')) this.schedule();
      }),
    );
    this.schedule();
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  async toggle(): Promise<boolean> {
    this.enabled = !this.enabled;
    await this.state.update(STATE_KEY, this.enabled);
    await vscode.commands.executeCommand('setContext', STATE_KEY, this.enabled);
    if (this.enabled) this.schedule();
    else vscode.window.visibleTextEditors.forEach((e) => this.clear(e));
    return this.enabled;
  }

  /** Re-colours the visible JSONL editors (after a run finished or the model changed). */
  refresh(): void {
    this.schedule();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.disposeDecorations();
  }

  private schedule(): void {
    if (!this.enabled) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const editor of vscode.window.visibleTextEditors) if (isJsonl(editor.document)) void this.decorate(editor);
    }, 250);
  }

  private async decorate(editor: vscode.TextEditor): Promise<void> {
    const model = this.rewards.hoverModel();
    if (!model || !vscode.workspace.isTrusted || editor.document.isDirty) return this.clear(editor);
    const generation = (this.generations.get(editor) ?? 0) + 1;
    this.generations.set(editor, generation);
    const doc = editor.document;
    const lines = editor.visibleRanges.flatMap((r) => Array.from({ length: r.end.line - r.start.line + 1 }, (_, i) => r.start.line + i)).slice(0, MAX_LINES);
    const found: { line: number; highlight: TokenHighlight }[] = [];
    for (const line of lines) {
      const text = doc.lineAt(line).text;
      if (!text.trimStart().startsWith('{')) continue;
      try {
        const result = await this.rewards.lineRewards(model.runDir, doc.uri.fsPath, line + 1);
        for (const highlight of lineHighlights(text, result, LEVELS)) found.push({ line, highlight });
      } catch (e) {
        this.log.debug(`highlight line ${line + 1} of ${doc.uri.fsPath}: ${(e as Error).message}`);
      }
      if (this.generations.get(editor) !== generation || !this.enabled) return; // a newer pass took over
    }
    this.apply(editor, found);
  }

  private apply(editor: vscode.TextEditor, found: { line: number; highlight: TokenHighlight }[]): void {
    for (const sign of ['negative', 'positive'] as const) {
      this.decorations[sign].forEach((type, i) => {
        const options = found
          .filter(({ highlight: h }) => h.sign === sign && h.level === i + 1)
          .map(({ line, highlight: h }) => ({
            range: new vscode.Range(line, h.start, line, h.end),
            hoverMessage: `μ̃ ${h.token.mean.toFixed(3)} ± ${h.token.std.toFixed(3)} · w ${h.token.weight.toFixed(3)}`,
          }));
        editor.setDecorations(type, options);
      });
    }
  }

  private clear(editor: vscode.TextEditor): void {
    for (const type of [...this.decorations.negative, ...this.decorations.positive]) editor.setDecorations(type, []);
  }

  private recreateDecorations(): void {
    this.disposeDecorations();
    this.decorations = createDecorations(readSettings().colorScale);
    this.schedule();
  }

  private disposeDecorations(): void {
    for (const type of [...this.decorations.negative, ...this.decorations.positive]) type.dispose();
  }
}
