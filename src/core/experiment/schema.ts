/**
 * The JSON Schema (draft-07) of experiment files, built from the typed key table of
 * `schemaDocs.ts` and the defaults of `config.ts`.
 *
 * `scripts/write-experiment-schema.ts` writes it to `schemas/experiment.schema.json`, the file
 * VS Code's YAML tooling reads; `test/experiment-schema.test.ts` checks that the committed file
 * equals this builder's output and that every `default` equals `DEFAULTS`. The loader validates
 * with the same object (ajv), so the editor and `ava-lab validate` agree.
 *
 * Layout: `definitions.<section>` carry defaults (the base config); `definitions.<section>_override`
 * are the same keys without defaults, used under `ablations.<variant>`. A key's `default` is its
 * value under `DEFAULT_RECIPE` (what a file that writes neither the key nor `recipe` gets); a key
 * the recipes set differently also names its `paper` value (the spec's default).
 */
import { DEFAULT_RECIPE, DEFAULTS, recipeDefaults } from './config.js';
import { CLUSTER_DOC, RECIPE_DOC, WINRATES_DOC, SECTION_DOCS, SECTION_NAMES, type LeafDoc, type NestedDoc } from './schemaDocs.js';

export type JsonSchema = Record<string, unknown>;

const SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** Keywords of the editor (VS Code) that ajv must accept and ignore. */
export const EDITOR_KEYWORDS = ['markdownDescription', 'enumDescriptions'] as const;

/** Largest seed: seeds are 32-bit unsigned integers. */
const MAX_SEED = 4294967295;

type AnyLeaf = LeafDoc<unknown> & { options?: Record<string, string> };
type AnyNested = NestedDoc<Record<string, unknown>>;

function isNested(doc: AnyLeaf | AnyNested): doc is AnyNested {
  return 'keys' in doc;
}

/** `§8 #12` → "spec §8, row 12"; `lab` → a setting of AVA Lab. */
function citation(cite: string): string {
  if (cite === 'lab') return 'AVA Lab setting (not from the paper).';
  const row = /^§8 #(\d+)$/.exec(cite);
  return row ? `Spec §8 (ambiguities), row ${row[1]}.` : `Spec ${cite}.`;
}

function yamlValue(x: unknown): string {
  return x === null ? 'null' : JSON.stringify(x).replace(/^"(.*)"$/, '$1');
}

/** The key's value under each recipe, when they differ (else null). */
type RecipeValues = { paper: unknown } | null;

function markdownFor(doc: AnyLeaf | AnyNested, defaultValue: unknown, isLeaf: boolean, byRecipe: RecipeValues = null): string {
  const parts = [doc.description];
  if (!isNested(doc)) {
    if (doc.details) parts.push(doc.details);
    if (doc.options) {
      parts.push(
        Object.entries(doc.options)
          .map(([value, what]) => `- \`${value}\`: ${what}${value === defaultValue ? ' (default)' : ''}`)
          .join('\n'),
      );
    }
  }
  if (isLeaf) parts.push(`Default: \`${yamlValue(defaultValue)}\`${byRecipe ? ` (recipe \`${DEFAULT_RECIPE}\`; recipe \`paper\`, the spec's default: \`${yamlValue(byRecipe.paper)}\`)` : ''}.`);
  parts.push(`*${citation(doc.cite)}*`);
  return parts.join('\n\n');
}

function jsonType(defaultValue: unknown, doc: AnyLeaf): string | string[] {
  if (defaultValue === null) return ['string', 'null'];
  if (Array.isArray(defaultValue)) return 'array';
  if (typeof defaultValue === 'number') return doc.integer ? 'integer' : 'number';
  return typeof defaultValue;
}

const BOUNDS = ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'minLength'] as const;

function leafSchema(doc: AnyLeaf, defaultValue: unknown, withDefault: boolean, byRecipe: RecipeValues = null): JsonSchema {
  const s: JsonSchema = { type: jsonType(defaultValue, doc) };
  if (Array.isArray(defaultValue)) s.items = { type: 'string', minLength: 1 };
  if (doc.options) {
    const values: unknown[] = Object.keys(doc.options);
    const descriptions = Object.values(doc.options);
    if (defaultValue === null) {
      values.push(null);
      descriptions.push('none');
    }
    s.enum = values;
    s.enumDescriptions = descriptions;
  }
  for (const bound of BOUNDS) if (doc[bound] !== undefined) s[bound] = doc[bound];
  if (withDefault) s.default = defaultValue;
  s.description = doc.description;
  s.markdownDescription = markdownFor(doc, defaultValue, true, byRecipe);
  return s;
}

function objectSchema(doc: AnyNested, defaults: Record<string, unknown>, paper: Record<string, unknown>, withDefaults: boolean): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, child] of Object.entries(doc.keys) as [string, AnyLeaf | AnyNested][]) {
    const d = defaults[key];
    const p = paper[key];
    properties[key] = isNested(child)
      ? objectSchema(child, d as Record<string, unknown>, p as Record<string, unknown>, withDefaults)
      : leafSchema(child, d, withDefaults, JSON.stringify(d) === JSON.stringify(p) ? null : { paper: p });
  }
  return {
    type: 'object',
    description: doc.description,
    markdownDescription: markdownFor(doc, undefined, false),
    additionalProperties: false,
    properties,
  };
}

function sectionRefs(suffix: '' | '_override'): Record<string, JsonSchema> {
  return Object.fromEntries(SECTION_NAMES.map((s) => [s, { $ref: `#/definitions/${s}${suffix}` }]));
}

function definitions(): Record<string, JsonSchema> {
  const defs: Record<string, JsonSchema> = {};
  const resolved = recipeDefaults(DEFAULT_RECIPE);
  for (const s of SECTION_NAMES) {
    const doc = SECTION_DOCS[s] as unknown as AnyNested;
    const defaults = resolved[s] as unknown as Record<string, unknown>;
    const paper = DEFAULTS[s] as unknown as Record<string, unknown>;
    defs[s] = objectSchema(doc, defaults, paper, true);
    defs[`${s}_override`] = objectSchema(doc, defaults, paper, false);
  }
  defs.variant = {
    type: ['object', 'null'],
    description: 'Keys of the sections that this variant changes; empty or null: the base config itself.',
    markdownDescription:
      'Keys of the sections that this variant changes (nested like the base, e.g. `objective: { kind: bt }`); ' +
      'empty (`{}`) or null: the base config itself.\n\n*Spec §2.4 (ablation switches).*',
    additionalProperties: false,
    properties: { recipe: leafSchema(RECIPE_DOC as unknown as AnyLeaf, DEFAULT_RECIPE, false), ...sectionRefs('_override') },
  };
  return defs;
}

const NAME: JsonSchema = {
  type: 'string',
  minLength: 1,
  description: 'Experiment name, written into every run of the grid.',
  markdownDescription: 'Experiment name, written into every run of the grid. Required.\n\n*' + citation('lab') + '*',
};

const SEED_ITEM: JsonSchema = { type: 'integer', minimum: 0, maximum: MAX_SEED };

/** The schema of an experiment file (`*.ava.yaml`). */
export function experimentSchema(): JsonSchema {
  return {
    $schema: SCHEMA_DRAFT,
    title: 'AVA Lab experiment',
    description: 'An AVA Lab experiment: base config, ablation variants and seeds (grid = variants × seeds).',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: NAME,
      recipe: leafSchema(RECIPE_DOC as unknown as AnyLeaf, DEFAULT_RECIPE, true),
      seeds: {
        type: 'array',
        items: SEED_ITEM,
        minItems: 1,
        uniqueItems: true,
        default: DEFAULTS.seeds,
        description: 'Run seeds (model init and batching): every variant is trained once per seed.',
        markdownDescription:
          'Run seeds (model initialisation and batching): every variant is trained once per seed. ' +
          'Task data uses `data.task_options.seed` and stays the same across seeds.\n\n' +
          `Default: \`${JSON.stringify(DEFAULTS.seeds)}\`.\n\n*Spec §9 (the paper reports one run per setting).*`,
      },
      ablations: {
        type: 'object',
        default: DEFAULTS.ablations,
        propertyNames: { minLength: 1 },
        additionalProperties: { $ref: '#/definitions/variant' },
        description: 'Named variants, each a partial override of the sections; the grid runs every variant with every seed.',
        markdownDescription:
          'Named variants, each a partial override of the sections, e.g. `"w/o rwt": { model: { use_reward_weights: false } }`. ' +
          'The grid runs every variant (in file order) with every seed. No ablations: one run per seed of the base config.\n\n' +
          '*Spec §2.4 (ablation switches, Table 1 rows).*',
      },
      cluster: objectSchema(CLUSTER_DOC as unknown as AnyNested, DEFAULTS.cluster as unknown as Record<string, unknown>, DEFAULTS.cluster as unknown as Record<string, unknown>, true),
      winrates: objectSchema(WINRATES_DOC as unknown as AnyNested, DEFAULTS.winrates as unknown as Record<string, unknown>, DEFAULTS.winrates as unknown as Record<string, unknown>, true),
      ...sectionRefs(''),
    },
    definitions: definitions(),
  };
}

/** The schema of a run's resolved `config.yaml`: every section, plus the grid cell it belongs to. */
export function runConfigSchema(): JsonSchema {
  return {
    $schema: SCHEMA_DRAFT,
    title: 'AVA Lab resolved run config',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'variant', 'seed'],
    properties: {
      name: NAME,
      variant: { type: 'string', description: "The run's ablation variant ('' when the experiment has none)." },
      seed: { ...SEED_ITEM, description: "The run's seed." },
      recipe: leafSchema(RECIPE_DOC as unknown as AnyLeaf, DEFAULTS.recipe, false),
      ...sectionRefs(''),
    },
    definitions: definitions(),
  };
}
