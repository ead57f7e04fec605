/**
 * "New Experiment": copies one of the bundled examples (`<extension>/examples/*.ava.yaml`)
 * into the workspace under a name the user picks, renames its `name:`, copies the data files
 * it refers to (relative paths) when they are not there yet, and opens it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { folderFor } from '../settings.js';
import { freeName, listTemplates, relativeDataFiles, renameExperiment, stemOf, type Template } from './templateFiles.js';

async function askTarget(template: Template): Promise<vscode.Uri | undefined> {
  const folder = folderFor();
  if (!folder) {
    return vscode.window.showSaveDialog({ filters: { 'AVA Lab experiment': ['ava.yaml'] }, saveLabel: 'Create Experiment' });
  }
  const name = await vscode.window.showInputBox({
    title: 'New AVA Lab experiment',
    prompt: `File name in ${folder.name} (ends with .ava.yaml)`,
    value: freeName(folder.uri.fsPath, stemOf(template.file)),
    validateInput: (v) => (!/\.ava\.ya?ml$/.test(v) ? 'The name must end with .ava.yaml' : fs.existsSync(path.join(folder.uri.fsPath, v)) ? 'A file with this name already exists' : undefined),
  });
  return name ? vscode.Uri.joinPath(folder.uri, name) : undefined;
}

export async function newExperiment(examplesDir: string, templateName?: string): Promise<vscode.Uri | undefined> {
  const templates = listTemplates(examplesDir);
  if (!templates.length) {
    void vscode.window.showErrorMessage(`AVA Lab: no experiment templates found in ${examplesDir}.`);
    return undefined;
  }
  const template =
    templates.find((t) => stemOf(t.file) === templateName) ??
    (
      await vscode.window.showQuickPick(
        templates.map((t) => ({ label: stemOf(t.file), description: t.description, detail: t.detail, template: t })),
        { title: 'New AVA Lab experiment from a template', matchOnDescription: true },
      )
    )?.template;
  if (!template) return undefined;
  const target = await askTarget(template);
  if (!target) return undefined;
  const text = renameExperiment(fs.readFileSync(template.file, 'utf8'), stemOf(target.fsPath));
  fs.mkdirSync(path.dirname(target.fsPath), { recursive: true });
  fs.writeFileSync(target.fsPath, text);
  for (const rel of relativeDataFiles(text)) {
    const from = path.join(path.dirname(template.file), rel);
    const to = path.join(path.dirname(target.fsPath), rel);
    if (fs.existsSync(from) && !fs.existsSync(to)) {
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
  await vscode.window.showTextDocument(target);
  return target;
}
