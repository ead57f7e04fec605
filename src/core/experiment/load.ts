/**
 * Loading and validating experiment files (`*.ava.yaml`).
 *
 * Three stages, each run only when the one before found no error, so that every message is
 * about what the user wrote and not a consequence of an earlier mistake:
 *   1. YAML syntax (the `yaml` package's Document API, positions through a LineCounter);
 *   2. the JSON Schema of `schema.ts` (ajv), mapped back to the key's position;
 *   3. checks JSON Schema cannot express (`semantic.ts`, per grid cell), and the grid itself:
 *      variant names, variants that change nothing or repeat another.
 * Every diagnostic names file:line:column (1-based) and the dotted key.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { Diagnostic } from '../../protocol/events.js';
import { AvaError } from '../errors.js';
import { DEFAULT_RECIPE, DEFAULTS, RECIPES, recipeDefaults, type ExperimentConfig, type Recipe } from './config.js';
import { configError } from './diagnostics.js';
import { dependencyProblems, isCellRef, variantNames, variantSections } from './grid.js';
import { SourceMap, type Segment } from './locate.js';
import { canonicalJson, deepMerge, isPlainObject, type Plain } from './merge.js';
import { experimentSchemaIssues } from './schemaCheck.js';
import { cellIssues, type CellIssue } from './semantic.js';
import { winratesProblems } from '../winrates/systems.js';
import { hasTokenRewards } from '../objectives/table.js';

export interface LoadedExperiment {
  /** The experiment file, as given. */
  file: string;
  /**
   * The resolved experiment: defaults filled in, paths (data.train, data.eval,
   * model.init_from, also in variants) absolute. Only meaningful when `diagnostics` has no
   * error; it is then `DEFAULTS` with an empty name. Use `throwIfErrors`.
   */
  config: ExperimentConfig;
  /** Errors and warnings, in file order. */
  diagnostics: Diagnostic[];
}

/** File names the editor associates with the experiment schema. */
export const EXPERIMENT_FILE_PATTERN = /\.ava\.ya?ml$/;

/** Read and validate an experiment file. Raises AvaError('config') only when it cannot be read. */
export async function loadExperiment(path: string): Promise<LoadedExperiment> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'experiment file not found' : code === 'EISDIR' ? 'this is a folder, not an experiment file' : `cannot read the experiment file (${code ?? String(e)})`;
    throw new AvaError('config', why, { file: path });
  }
  return parseExperiment(text, path);
}

/** For `ava-lab validate`: every diagnostic of the file, including "cannot read it". */
export async function validateExperimentFile(path: string): Promise<Diagnostic[]> {
  try {
    return (await loadExperiment(path)).diagnostics;
  } catch (e) {
    if (!(e instanceof AvaError)) throw e;
    return [{ file: path, line: 1, column: 1, key: '', message: e.message, severity: 'error' }];
  }
}

/** The config, or AvaError('config') naming the first error (all errors in `details`). */
export function throwIfErrors(loaded: LoadedExperiment): ExperimentConfig {
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw configError(errors);
  return loaded.config;
}

/** Parse and validate experiment text; `file` names it in diagnostics and anchors relative paths. */
export function parseExperiment(text: string, file: string): LoadedExperiment {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const map = new SourceMap(doc, lines, file);
  const fallback: ExperimentConfig = { name: '', ...structuredClone(DEFAULTS) };
  const done = (diagnostics: Diagnostic[], config = fallback): LoadedExperiment => ({
    file,
    config,
    diagnostics: sortByPosition([...diagnostics, ...fileNameWarning(file)]),
  });

  const syntax = syntaxDiagnostics(doc, map);
  if (syntax.some((d) => d.severity === 'error')) return done(syntax);
  const read = toData(doc, map);
  if ('error' in read) return done([...syntax, read.error]);

  const schema = experimentSchemaIssues(read.data).map((i) => map.place(i));
  if (schema.length) return done([...syntax, ...schema]);

  const config = normalise(applyRecipes(read.data as Plain), dirname(resolve(file)));
  return done([...syntax, ...gridDiagnostics(config, map)], config);
}

function syntaxDiagnostics(doc: Document, map: SourceMap): Diagnostic[] {
  return [
    ...doc.errors.map((e) => map.diagnostic([e.pos[0], e.pos[1]], [], e.message, 'error')),
    ...doc.warnings.map((w) => map.diagnostic([w.pos[0], w.pos[1]], [], w.message, 'warning')),
  ];
}

/** The document as plain data; an empty file is an empty mapping. */
function toData(doc: Document, map: SourceMap): { data: unknown } | { error: Diagnostic } {
  try {
    return { data: doc.toJS() ?? {} };
  } catch (e) {
    // e.g. an alias expanding too many times ("billion laughs")
    return { error: map.diagnostic([0, 0], [], e instanceof Error ? e.message : String(e), 'error') };
  }
}

function sortByPosition(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * The experiment resolved in three layers: `DEFAULTS` (the spec's values), then the keys of its
 * recipe (`recipe`, else `DEFAULT_RECIPE`), then the keys the file writes. A variant naming
 * another recipe gets that recipe's value for every recipe key the file's base does not write
 * (so `paper: { recipe: paper }` beside a `robust` base is the literal reading, keeping the
 * base's explicit keys), then its own keys.
 */
function applyRecipes(data: Plain): ExperimentConfig {
  const recipe = (data.recipe as Recipe | undefined) ?? DEFAULT_RECIPE;
  const config = deepMerge<ExperimentConfig>({ name: '', ...recipeDefaults(recipe) }, data);
  for (const [variant, override] of Object.entries(config.ablations)) {
    const other = override?.recipe;
    if (other === undefined || other === recipe) continue;
    const switched = recipeKeys(other, recipe).filter((path) => !hasPath(data, path));
    const values = recipeDefaults(other) as unknown as Plain;
    const layer: Plain = {};
    for (const path of switched) setPath(layer, path, getPath(values, path));
    config.ablations[variant] = deepMerge(layer, override);
  }
  return config;
}

/** Dotted paths of every key either recipe sets. */
function recipeKeys(a: Recipe, b: Recipe): string[][] {
  const paths = new Map<string, string[]>();
  const walk = (x: unknown, prefix: string[]): void => {
    if (!isPlainObject(x)) return void paths.set(prefix.join('.'), prefix);
    for (const [k, v] of Object.entries(x)) walk(v, [...prefix, k]);
  };
  for (const r of [a, b]) for (const [section, keys] of Object.entries(RECIPES[r])) walk(keys, [section]);
  return [...paths.values()];
}

function hasPath(x: unknown, path: string[]): boolean {
  let at = x;
  for (const key of path) {
    if (!isPlainObject(at) || !Object.hasOwn(at, key)) return false;
    at = at[key];
  }
  return true;
}

function getPath(x: Plain, path: string[]): unknown {
  return path.reduce<unknown>((at, key) => (at as Plain)[key], x);
}

function setPath(x: Plain, path: string[], value: unknown): void {
  let at = x;
  for (const key of path.slice(0, -1)) at = (at[key] ??= {}) as Plain;
  at[path[path.length - 1]] = value;
}

/** Keys holding paths, relative to the experiment file's folder. */
const PATH_KEYS: [string, string][] = [
  ['data', 'train'],
  ['data', 'eval'],
  ['model', 'init_from'],
];

/** Paths made absolute (relative to `folder`), in the base and in every variant; null variants become `{}`. */
function normalise(config: ExperimentConfig, folder: string): ExperimentConfig {
  const resolveIn = (sections: object): void => {
    for (const [section, key] of PATH_KEYS) {
      const s = (sections as Record<string, unknown>)[section];
      if (isPlainObject(s) && typeof s[key] === 'string' && !isCellRef(s[key])) s[key] = resolve(folder, s[key]);
    }
  };
  resolveIn(config);
  for (const variant of Object.keys(config.ablations)) {
    const override = (config.ablations[variant] ??= {});
    resolveIn(override);
  }
  return config;
}

function gridDiagnostics(config: ExperimentConfig, map: SourceMap): Diagnostic[] {
  const variants = variantNames(config);
  return [...variantNameDiagnostics(variants, map), ...cellDiagnostics(config, variants, map), ...redundantVariantDiagnostics(config, map), ...winratesDiagnostics(config, variants, map), ...dependencyDiagnostics(config, map)];
}

/** Cells that wait for other cells (`cell:<variant>`, AfD sources): the variants exist, no cycle. */
function dependencyDiagnostics(config: ExperimentConfig, map: SourceMap): Diagnostic[] {
  return dependencyProblems(config).map(({ key, message }) => map.diagnostic(map.nearest(key, 'value'), key, message, 'error'));
}

/** The variants whose objective has per-token rewards (AVA), in grid order. */
export function tokenRewardVariants(exp: ExperimentConfig): string[] {
  return variantNames(exp).filter((v) => hasTokenRewards(variantSections(exp, v).objective.kind));
}

/** The `winrates` section against the grid: systems, generator, judge (core/winrates/systems.ts). */
function winratesDiagnostics(config: ExperimentConfig, variants: string[], map: SourceMap): Diagnostic[] {
  const hasTask = variants.every((v) => variantSections(config, v).data.task !== null);
  return winratesProblems(config.winrates, variants, hasTask, new Set(tokenRewardVariants(config))).map(({ key, message }) => map.diagnostic(map.nearest(key, 'value'), key, message, 'error'));
}

/** A JS object puts integer-like keys first: such names would lose their file order. */
function variantNameDiagnostics(variants: string[], map: SourceMap): Diagnostic[] {
  return variants
    .filter((v) => /^(0|[1-9][0-9]*)$/.test(v))
    .map((v) => {
      const path = ['ablations', v];
      const message = `variant name ${v} is a number, which would lose its place in the grid order; use a name such as v${v}`;
      return map.diagnostic(map.nearest(path, 'key'), path, message, 'error');
    });
}

/**
 * Semantic issues of every grid cell, each placed on the key the file writes: in the variant
 * when it overrides one of the keys involved, else in the base. An issue of the base shared by
 * some but not all variants names them.
 */
function cellDiagnostics(config: ExperimentConfig, variants: string[], map: SourceMap): Diagnostic[] {
  const found = new Map<string, { issue: CellIssue; path: Segment[]; range: readonly [number, number]; variants: string[] }>();
  for (const variant of variants) {
    for (const issue of cellIssues(variantSections(config, variant))) {
      const { path, range } = placeCellIssue(issue, variant, map);
      const id = `${range[0]}|${issue.message}`;
      const seen = found.get(id);
      if (seen) seen.variants.push(variant);
      else found.set(id, { issue, path, range, variants: [variant] });
    }
  }
  return [...found.values()].map(({ issue, path, range, variants: hit }) => {
    const inVariant = path[0] === 'ablations';
    const some = !inVariant && hit.length < variants.length;
    const prefix = some ? `in variant${hit.length > 1 ? 's' : ''} ${hit.map((v) => `\`${v}\``).join(', ')}: ` : '';
    return map.diagnostic(range, path, prefix + issue.message, issue.severity);
  });
}

function placeCellIssue(issue: CellIssue, variant: string, map: SourceMap): { path: Segment[]; range: readonly [number, number] } {
  const candidates = [...(variant === '' ? [] : issue.paths.map((p) => ['ablations', variant, ...p])), ...issue.paths];
  for (const path of candidates) {
    const range = map.find(path, issue.at);
    if (range) return { path, range };
  }
  const path = variant === '' ? issue.paths[0] : ['ablations', variant];
  return { path, range: map.nearest(path, 'key') };
}

/**
 * A variant that sets keys but resolves to the base config changes nothing (warning); two
 * variants that resolve to the same config would train the same runs twice (error). An empty
 * variant (`{}` or null) is the base itself, e.g. `ava-p: {}` beside `bt: {…}`.
 */
function redundantVariantDiagnostics(config: ExperimentConfig, map: SourceMap): Diagnostic[] {
  const out: Diagnostic[] = [];
  const base = canonicalJson(variantSections(config, ''));
  const firstWith = new Map<string, string>();
  for (const [variant, override] of Object.entries(config.ablations)) {
    const path = ['ablations', variant];
    const resolved = canonicalJson(variantSections(config, variant));
    const same = firstWith.get(resolved);
    if (same !== undefined) {
      out.push(map.diagnostic(map.nearest(path, 'key'), path, `variant \`${variant}\` trains the same config as variant \`${same}\``, 'error'));
    } else if (resolved === base && override && Object.keys(override).length > 0) {
      out.push(map.diagnostic(map.nearest(path, 'key'), path, `variant \`${variant}\` changes nothing: every value it sets equals the base`, 'warning'));
    }
    if (same === undefined) firstWith.set(resolved, variant);
  }
  return out;
}

function fileNameWarning(file: string): Diagnostic[] {
  if (EXPERIMENT_FILE_PATTERN.test(file)) return [];
  const message = 'experiment files are named *.ava.yaml so that the editor applies the experiment schema';
  return [{ file, line: 1, column: 1, key: '', message, severity: 'warning' }];
}
