import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { DEFAULT_RECIPE, recipeDefaults } from '../src/core/experiment/config.js';
import { EDITOR_KEYWORDS, experimentSchema, type JsonSchema } from '../src/core/experiment/schema.js';
import { SECTION_NAMES } from '../src/core/experiment/schemaDocs.js';

const root = join(import.meta.dirname, '..');
const committed = JSON.parse(readFileSync(join(root, 'schemas/experiment.schema.json'), 'utf8')) as JsonSchema;
const definitions = committed.definitions as Record<string, JsonSchema>;

/** Leaves of a schema object (following section $refs), by dotted path. */
function schemaLeaves(s: JsonSchema, prefix = ''): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const [key, child] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
    const resolved = typeof child.$ref === 'string' ? definitions[child.$ref.replace('#/definitions/', '')] : child;
    if (resolved.type === 'object' && resolved.properties) for (const [k, v] of schemaLeaves(resolved, `${prefix}${key}.`)) out.set(k, v);
    else out.set(prefix + key, resolved);
  }
  return out;
}

/** Leaves of a plain object (arrays and `{}` count as values), by dotted path. */
function valueLeaves(x: Record<string, unknown>, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, v] of Object.entries(x)) {
    const isObject = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;
    if (isObject) for (const [k, w] of valueLeaves(v as Record<string, unknown>, `${prefix}${key}.`)) out.set(k, w);
    else out.set(prefix + key, v);
  }
  return out;
}

/** Every object schema reachable from `s`, with its path. */
function objectSchemas(s: unknown, path = '#'): [string, JsonSchema][] {
  if (typeof s !== 'object' || s === null) return [];
  const node = s as JsonSchema;
  const here: [string, JsonSchema][] = node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object')) ? [[path, node]] : [];
  return [...here, ...Object.entries(node).flatMap(([k, v]) => objectSchemas(v, `${path}/${k}`))];
}

describe('schemas/experiment.schema.json', () => {
  it('is up to date with src/core/experiment/schema.ts (run scripts/write-experiment-schema.ts)', () => {
    assert.deepEqual(committed, experimentSchema());
  });

  it('declares draft-07 and compiles with ajv in strict mode', () => {
    assert.equal(committed.$schema, 'http://json-schema.org/draft-07/schema#');
    const ajv = new Ajv({ strict: true });
    for (const k of EDITOR_KEYWORDS) ajv.addKeyword(k);
    assert.doesNotThrow(() => ajv.compile(committed));
  });

  it('has a default equal to the default recipe for every key, and a key for every default', () => {
    const leaves = schemaLeaves(committed);
    const defaults = valueLeaves(recipeDefaults(DEFAULT_RECIPE) as unknown as Record<string, unknown>);
    leaves.delete('name'); // required: no default
    assert.deepEqual([...leaves.keys()].sort(), [...defaults.keys()].sort());
    for (const [key, value] of defaults) assert.deepEqual(leaves.get(key)?.default, value, key);
  });

  it('describes every key in one line and in markdown that cites the spec or says it is a lab setting', () => {
    for (const [key, s] of schemaLeaves(committed)) {
      assert.equal(typeof s.description, 'string', key);
      assert.ok(!(s.description as string).includes('\n'), `${key}: one line`);
      assert.match(s.markdownDescription as string, /\*(Spec §[\d.]+|AVA Lab setting)/, key);
    }
  });

  it('cites the spec §8 row of every ambiguity key', () => {
    // spec §8: row number → key(s), as printed in the table.
    const rows: Record<string, number> = {
      'objective.loss_token_scope': 1,
      'objective.terminal_handling': 2,
      'objective.reduction': 3,
      'objective.td_reward_alignment': 4,
      'model.reward_weight_source': 5,
      'model.reward_weight_causal': 6,
      'model.reward_weight_scale': 7,
      'model.pref_attn_dim': 8,
      'model.reward_weight_scope': 9,
      'model.reward_weight_targets': 10,
      'model.ptq_input': 11,
      'objective.likelihood_form': 12,
      'model.sigma_param': 13,
      'model.log_sigma_min': 13,
      'model.log_sigma_max': 13,
      'objective.irl_terms_on': 14,
      'objective.cer_form': 15,
      'objective.sequence_reward_mode': 16,
      'objective.sequence_reward_weighted': 17,
      'objective.kl_coef': 18,
      'objective.td_stop_grad': 19,
      'objective.irl_ablation_keeps_cer': 20,
      'model.reward_head_arch': 21,
      'model.fresh_q_head_init_std': 22,
      'eval.reward_accuracy_tie': 30,
      'model.reward_weight_grad': 31,
      'objective.cer_coef': 33,
      'objective.neg_likelihood_coef': 34,
    };
    const leaves = schemaLeaves(committed);
    for (const [key, row] of Object.entries(rows)) assert.match(leaves.get(key)?.markdownDescription as string, new RegExp(`§8 \\(ambiguities\\), row ${row}\\.`), key);
  });

  it('closes every object (additionalProperties: false, or a schema for variants)', () => {
    for (const [path, s] of objectSchemas(committed)) {
      const closed = s.additionalProperties === false || (path === '#/properties/ablations' && typeof s.additionalProperties === 'object');
      assert.ok(closed, path);
    }
  });

  it('validates variants against the same sections, with no required keys and no defaults', () => {
    const variant = definitions.variant;
    assert.deepEqual(Object.keys(variant.properties as object), ['recipe', ...SECTION_NAMES]);
    for (const section of SECTION_NAMES) {
      const override = definitions[`${section}_override`];
      const base = definitions[section];
      const text = JSON.stringify(override);
      assert.ok(!text.includes('"default"') && !text.includes('"required"'), section);
      assert.deepEqual([...schemaLeaves(override).keys()], [...schemaLeaves(base).keys()], section);
    }
  });

  it('accepts the example experiments', () => {
    const ajv = new Ajv({ allErrors: true });
    for (const k of EDITOR_KEYWORDS) ajv.addKeyword(k);
    const validate = ajv.compile(committed);
    for (const f of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ava.yaml'))) {
      const ok = validate(parse(readFileSync(join(root, 'examples', f), 'utf8')));
      assert.ok(ok, `${f}: ${JSON.stringify(validate.errors)}`);
    }
  });
});
