/**
 * Just enough of an experiment YAML for the editor: its name, seeds and ablation variants with
 * the line each is written on (for CodeLenses and the "run one cell" pick). Lenient: a file that
 * does not parse yet yields what could be read, never an error (validation reports errors).
 * No `vscode` import.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Pair } from 'yaml';
import { cellDirName } from '../../core/run/layout.js';

export interface VariantOutline {
  /** '' is the base experiment (no ablations). */
  name: string;
  /** 0-based line of the variant's key under `ablations:` (0 for the base). */
  line: number;
}

export interface ExperimentOutline {
  name: string | null;
  seeds: number[];
  variants: VariantOutline[];
}

export interface GridCell {
  variant: string;
  seed: number;
}

function keyName(pair: Pair): string | null {
  return isScalar(pair.key) ? String(pair.key.value) : null;
}

export function experimentOutline(text: string): ExperimentOutline {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const outline: ExperimentOutline = { name: null, seeds: [0], variants: [] };
  if (!isMap(doc.contents)) return { ...outline, variants: [{ name: '', line: 0 }] };
  for (const pair of doc.contents.items) {
    const key = keyName(pair);
    if (key === 'name' && isScalar(pair.value)) outline.name = String(pair.value.value);
    if (key === 'seeds' && isSeq(pair.value)) {
      const seeds = pair.value.items.flatMap((s) => (isScalar(s) && Number.isInteger(s.value) ? [s.value as number] : []));
      if (seeds.length) outline.seeds = seeds;
    }
    if (key === 'ablations' && isMap(pair.value)) {
      for (const variant of pair.value.items) {
        const name = keyName(variant);
        const offset = isScalar(variant.key) ? (variant.key.range?.[0] ?? 0) : 0;
        if (name !== null) outline.variants.push({ name, line: lines.linePos(offset).line - 1 });
      }
    }
  }
  if (!outline.variants.length) outline.variants.push({ name: '', line: 0 });
  return outline;
}

/** Every (variant, seed) of the grid, variants in file order then seeds (as the CLI runs them). */
export function gridCells(outline: ExperimentOutline): GridCell[] {
  return outline.variants.flatMap((v) => outline.seeds.map((seed) => ({ variant: v.name, seed })));
}

/** `base/seed-0`, `no_kl/seed-1`: a cell as its run directory is named. */
export function cellLabel(cell: GridCell): string {
  return cellDirName(cell.variant, cell.seed);
}
