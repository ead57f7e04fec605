/**
 * The experiment grid: ablation variants × seeds, one resolved RunConfig per cell, and the
 * `config.yaml` each run directory keeps (written and read back here).
 */
import { LineCounter, parseDocument, stringify } from 'yaml';
import { DEFAULTS, type AfdConfig, type ExperimentConfig, type Recipe, type RunConfig } from './config.js';
import { configError } from './diagnostics.js';
import { SourceMap } from './locate.js';
import { deepMerge } from './merge.js';
import { runConfigSchemaIssues } from './schemaCheck.js';
import { SECTION_NAMES } from './schemaDocs.js';
import type { Sections } from './semantic.js';

/** Variant names in file order; `['']` when the experiment has no ablations. */
export function variantNames(exp: ExperimentConfig): string[] {
  const names = Object.keys(exp.ablations);
  return names.length ? names : [''];
}

/** The base sections with one variant's override merged in (nested objects merge, the rest replaces). */
export function variantSections(exp: ExperimentConfig, variant: string): Sections {
  const base = Object.fromEntries(SECTION_NAMES.map((s) => [s, exp[s]])) as unknown as Sections;
  const { recipe: _recipe, ...override } = (variant === '' ? undefined : exp.ablations[variant]) ?? {};
  return deepMerge(base, override);
}

/**
 * The recipe a variant's values started from: its own `recipe`, else the experiment's. The
 * loader has already written the recipe's keys into the variant (see `load.ts`), so this is a
 * label for the run's `config.yaml`, not something to apply again.
 */
export function variantRecipe(exp: ExperimentConfig, variant: string): Recipe {
  return (variant === '' ? undefined : exp.ablations[variant]?.recipe) ?? exp.recipe;
}

/**
 * One RunConfig per (variant, seed), variants in file order, then seeds in file order.
 * `seed` drives model init and batching; `data.task_options.seed` stays as written, so every
 * cell of the grid sees the same task data.
 */
export function expandGrid(exp: ExperimentConfig): RunConfig[] {
  return variantNames(exp).flatMap((variant) => {
    const sections = variantSections(exp, variant);
    const recipe = variantRecipe(exp, variant);
    return exp.seeds.map((seed) => ({ name: exp.name, variant, seed, recipe, ...structuredClone(sections) }));
  });
}

/** `cell:<variant>` in `model.init_from`: the final weights of that variant's cell of the same seed. */
export const CELL_REF = 'cell:';

export function isCellRef(value: string): boolean {
  return value.startsWith(CELL_REF);
}

/** AfD is on when a source policy is named (spec §6.5). */
export function afdOn(afd: AfdConfig): boolean {
  return afd.init !== null || afd.sft !== null;
}

/** A variant another cell of the same seed needs finished first, with the key that names it. */
export interface CellDependency {
  variant: string;
  key: string[];
}

/** What a cell waits for: `model.init_from: cell:<v>` and the AfD source policies. */
export function cellDependencies(s: Pick<Sections, 'model' | 'data'>): CellDependency[] {
  const out: CellDependency[] = [];
  if (s.model.init_from !== null && isCellRef(s.model.init_from)) out.push({ variant: s.model.init_from.slice(CELL_REF.length), key: ['model', 'init_from'] });
  for (const source of ['init', 'sft'] as const) {
    const v = s.data.afd[source];
    if (v !== null) out.push({ variant: v, key: ['data', 'afd', source] });
  }
  return out;
}

/** The indexes in `runs` (a grid's cells) of the cells that cell `i` depends on: same seed, named variants. */
export function dependencyIndexes(runs: readonly RunConfig[], i: number): number[] {
  return cellDependencies(runs[i]).flatMap((d) => runs.flatMap((r, k) => (r.variant === d.variant && r.seed === runs[i].seed ? [k] : [])));
}

/**
 * The variants in an order where each comes after those it depends on (file order otherwise),
 * or the first dependency cycle found.
 */
export function dependencyOrder(exp: ExperimentConfig): { order: string[] } | { cycle: string[] } {
  const names = variantNames(exp);
  const deps = new Map(names.map((v) => [v, [...new Set(cellDependencies(variantSections(exp, v)).map((d) => d.variant))].filter((d) => names.includes(d))]));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (v: string, path: string[]): string[] | null => {
    if (state.get(v) === 'done') return null;
    if (state.get(v) === 'visiting') return [...path.slice(path.indexOf(v)), v];
    state.set(v, 'visiting');
    for (const d of deps.get(v) ?? []) {
      const cycle = visit(d, [...path, v]);
      if (cycle) return cycle;
    }
    state.set(v, 'done');
    order.push(v);
    return null;
  };
  for (const v of names) {
    const cycle = visit(v, []);
    if (cycle) return { cycle };
  }
  return { order };
}

/** References to variants that do not exist, to the variant itself, and dependency cycles. */
export function dependencyProblems(exp: ExperimentConfig): { key: string[]; message: string }[] {
  const names = variantNames(exp);
  const out: { key: string[]; message: string }[] = [];
  for (const v of names) {
    for (const d of cellDependencies(variantSections(exp, v))) {
      const key = v === '' ? d.key : ['ablations', v, ...d.key];
      if (d.variant === v) out.push({ key, message: `variant \`${v}\` cannot depend on its own cell` });
      else if (!names.includes(d.variant)) out.push({ key, message: `no variant \`${d.variant}\` in ablations (variants: ${names.map((n) => `\`${n}\``).join(', ')})` });
    }
  }
  const order = dependencyOrder(exp);
  if (out.length === 0 && 'cycle' in order) {
    const [first] = order.cycle;
    out.push({ key: first === '' ? ['ablations'] : ['ablations', first], message: `the cells depend on each other in a cycle: ${order.cycle.map((n) => `\`${n}\``).join(' → ')}` });
  }
  return out;
}

/** Keys in a fixed order: cell keys, then sections in YAML order, each in the order of DEFAULTS. */
function ordered(run: RunConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { name: run.name, variant: run.variant, seed: run.seed, recipe: run.recipe };
  for (const s of SECTION_NAMES) out[s] = deepMerge(DEFAULTS[s], run[s]);
  return out;
}

/** The run's `config.yaml`: every key written out (defaults included), in a stable order. */
export function resolvedConfigYaml(run: RunConfig): string {
  const header = [
    `# AVA Lab resolved run config: experiment ${JSON.stringify(run.name)}, variant ${JSON.stringify(run.variant)}, seed ${run.seed}.`,
    `# Every key is written, defaults and the values of recipe ${JSON.stringify(run.recipe)} included; paths are absolute. Editing it does not change the run.`,
  ];
  return `${header.join('\n')}\n${stringify(ordered(run), { lineWidth: 0 })}`;
}

/**
 * Reads a run's `config.yaml` back. Keys added to AVA Lab after the run was made take their
 * defaults (the spec's values: such a run was trained before the key existed, so with the
 * `paper` reading, and a missing `recipe` reads `paper`); unknown keys, wrong types and YAML
 * errors raise AvaError('config').
 */
export function parseRunConfigYaml(text: string, file = 'config.yaml'): RunConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const map = new SourceMap(doc, lines, file);
  const syntax = doc.errors.map((e) => map.diagnostic([e.pos[0], e.pos[1]], [], e.message, 'error'));
  if (syntax.length) throw configError(syntax, 'invalid run config: ');
  const defaults = { recipe: DEFAULTS.recipe, ...Object.fromEntries(SECTION_NAMES.map((s) => [s, DEFAULTS[s]])) };
  const run: unknown = deepMerge(defaults, doc.toJS());
  const problems = runConfigSchemaIssues(run).map((i) => map.place(i));
  if (problems.length) throw configError(problems, 'invalid run config: ');
  return run as RunConfig;
}
