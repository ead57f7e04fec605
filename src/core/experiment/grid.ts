/**
 * The experiment grid: ablation variants × seeds, one resolved RunConfig per cell, and the
 * `config.yaml` each run directory keeps (written and read back here).
 */
import { LineCounter, parseDocument, stringify } from 'yaml';
import { DEFAULTS, type ExperimentConfig, type Recipe, type RunConfig } from './config.js';
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
