/**
 * The backend's semantic validation of experiment files as editor diagnostics: on open and
 * on save (debounced per file) it runs `ava-lab validate <file> --json` and places each
 * reported problem at its 1-based line/column (converted to VS Code's 0-based positions).
 * The JSON Schema (contributed through `yamlValidation`) covers completion and syntax in any
 * YAML-aware editor; this adds the checks only the backend can make.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Diagnostic as AvaDiagnostic } from '../../protocol/events.js';
import type { Backend } from '../backend/backend.js';
import { folderFor } from '../settings.js';

const DEBOUNCE_MS = 400;
const TIMEOUT_MS = 60_000;

export function isExperimentDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && /\.ava\.ya?ml$/.test(doc.uri.fsPath);
}

/** A backend diagnostic's range: its own end when given, else the word (or rest of line) at its start. */
function diagnosticRange(d: AvaDiagnostic, doc: vscode.TextDocument | undefined): vscode.Range {
  const line = Math.max(0, d.line - 1);
  const column = Math.max(0, d.column - 1);
  const start = new vscode.Position(line, column);
  if (d.endLine !== undefined && d.endColumn !== undefined) return new vscode.Range(start, new vscode.Position(d.endLine - 1, Math.max(0, d.endColumn - 1)));
  if (!doc || line >= doc.lineCount) return new vscode.Range(start, start.translate(0, 1));
  const word = doc.getWordRangeAtPosition(start, /[^\s:,{}[\]]+/);
  if (word && !word.isEmpty) return word;
  const text = doc.lineAt(line);
  return new vscode.Range(start, new vscode.Position(line, Math.max(column + 1, text.range.end.character)));
}

function toDiagnostic(d: AvaDiagnostic, doc: vscode.TextDocument | undefined): vscode.Diagnostic {
  const severity = d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error;
  const diagnostic = new vscode.Diagnostic(diagnosticRange(d, doc), d.message, severity);
  diagnostic.source = 'AVA Lab';
  if (d.key) diagnostic.code = d.key;
  return diagnostic;
}

export class ExperimentValidator implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('avaLab');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly backend: Backend,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables = [
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d)),
      vscode.workspace.onDidSaveTextDocument((d) => this.schedule(d)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => vscode.workspace.textDocuments.forEach((d) => this.schedule(d))),
    ];
    vscode.workspace.textDocuments.forEach((d) => this.schedule(d));
  }

  /** Validates now; returns the diagnostics of the file (undefined when it could not run). */
  async validate(uri: vscode.Uri): Promise<vscode.Diagnostic[] | undefined> {
    if (!vscode.workspace.isTrusted) return undefined;
    const folder = folderFor(uri);
    const cwd = folder?.uri.fsPath ?? path.dirname(uri.fsPath);
    let result;
    try {
      result = await this.backend.runOnce(['validate', uri.fsPath, '--json'], { cwd, timeoutMs: TIMEOUT_MS });
    } catch (e) {
      this.log.warn(`validate ${uri.fsPath}: ${(e as Error).message}`);
      return undefined;
    }
    const validation = result.events.find((e) => e.type === 'validation');
    const failure = result.events.find((e) => e.type === 'error');
    let problems: AvaDiagnostic[];
    if (validation?.type === 'validation') problems = validation.diagnostics;
    else if (failure?.type === 'error') problems = failure.diagnostics?.length ? failure.diagnostics : [{ file: uri.fsPath, line: 1, column: 1, key: '', message: failure.message, severity: 'error' }];
    else {
      this.log.warn(`validate ${uri.fsPath}: no result (exit ${result.code}): ${result.stderr.slice(-3).join(' | ')}`);
      return undefined;
    }
    return this.publish(uri, cwd, problems);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }

  private schedule(doc: vscode.TextDocument): void {
    if (!isExperimentDocument(doc) || !vscode.workspace.isTrusted) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.validate(doc.uri);
      }, DEBOUNCE_MS),
    );
  }

  /** Groups problems by file (a diagnostic may point into another file) and shows them. */
  private publish(uri: vscode.Uri, cwd: string, problems: AvaDiagnostic[]): vscode.Diagnostic[] {
    const byFile = new Map<string, vscode.Diagnostic[]>([[uri.fsPath, []]]);
    for (const p of problems) {
      const file = p.file ? path.resolve(cwd, p.file) : uri.fsPath;
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      byFile.set(file, [...(byFile.get(file) ?? []), toDiagnostic(p, doc)]);
    }
    for (const [file, diagnostics] of byFile) this.collection.set(vscode.Uri.file(file), diagnostics);
    return byFile.get(uri.fsPath) ?? [];
  }
}
