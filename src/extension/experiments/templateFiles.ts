/**
 * The bundled experiment templates (`<extension>/examples/*.ava.yaml`) as files: their
 * descriptions, the rename of a copy, the data files a copy needs, a free file name.
 * No `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

export interface Template {
  file: string;
  /** The first comment line of the file. */
  description: string;
  /** The comment lines after it. */
  detail: string;
}

/** The bundled examples, described by their leading comments. */
export function listTemplates(examplesDir: string): Template[] {
  let files: string[];
  try {
    files = fs.readdirSync(examplesDir).filter((f) => /\.ava\.ya?ml$/.test(f)).sort();
  } catch {
    return [];
  }
  return files.map((f) => {
    const file = path.join(examplesDir, f);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const end = lines.findIndex((l) => !l.startsWith('#'));
    const comments = lines.slice(0, end < 0 ? lines.length : end).map((l) => l.replace(/^#\s?/, ''));
    return { file, description: comments[0] ?? '', detail: comments.slice(1).join(' ') };
  });
}

/** The template text with its top-level `name:` set to `name`. */
export function renameExperiment(text: string, name: string): string {
  const line = `name: ${JSON.stringify(name)}`;
  return /^name:.*$/m.test(text) ? text.replace(/^name:.*$/m, line) : `${line}\n${text}`;
}

/** Relative data paths (`data.train`, `data.eval`) the experiment reads. */
export function relativeDataFiles(text: string): string[] {
  try {
    const data = (parse(text) as { data?: { train?: unknown; eval?: unknown } } | null)?.data;
    return [data?.train, data?.eval].filter((p): p is string => typeof p === 'string' && p !== '' && !path.isAbsolute(p));
  } catch {
    return [];
  }
}

export function stemOf(file: string): string {
  return path.basename(file).replace(/\.ava\.ya?ml$/, '');
}

/** A file name in `dir` that does not exist yet: `demo.ava.yaml`, `demo-2.ava.yaml`, … */
export function freeName(dir: string, stem: string): string {
  for (let i = 1; ; i++) {
    const name = i === 1 ? `${stem}.ava.yaml` : `${stem}-${i}.ava.yaml`;
    if (!fs.existsSync(path.join(dir, name))) return name;
  }
}
