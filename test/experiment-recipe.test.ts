/**
 * `recipe`: the layer between the spec's defaults and the keys a file writes (config.ts RECIPES,
 * load.ts applyRecipes). What each recipe key does to training is tested with the key itself
 * (objectives.switches.test.ts); here: which values a cell ends up with, and what config.yaml
 * records.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RECIPE, DEFAULTS, RECIPES, recipeDefaults } from '../src/core/experiment/config.js';
import { expandGrid, parseRunConfigYaml, resolvedConfigYaml } from '../src/core/experiment/grid.js';
import { parseExperiment, throwIfErrors } from '../src/core/experiment/load.js';

/** Every test file names a task (an experiment needs data); the recipe tests vary the rest. */
const load = (text: string) => parseExperiment(`${text}data: { task: harmless }\n`, '/tmp/recipe.ava.yaml');
const config = (text: string) => throwIfErrors(load(text));

/** The six readings `robust` changes, as [section, key, paper value, robust value]. */
const ROBUST_KEYS: [string, string, unknown, unknown][] = [
  ['objective', 'sequence_reward_mode', 'last', 'weighted_sum'],
  ['objective', 'td_reward_alignment', 'state', 'next_state'],
  ['objective', 'cer_form', 'sigmoid', 'log_sigmoid'],
  ['objective', 'reduction', 'seq_sum_batch_mean', 'token_mean'],
  ['model', 'reward_weight_targets', 'q_mu_sigma', 'mu_sigma'],
  ['objective', 'cer_coef', 1, 5],
];

const valueAt = (x: unknown, section: string, key: string): unknown => (x as Record<string, Record<string, unknown>>)[section][key];

describe('recipe', () => {
  it('robust sets exactly the documented keys, each away from the spec default; paper sets none', () => {
    assert.deepEqual(RECIPES.paper, {});
    const robust = recipeDefaults('robust');
    for (const [section, key, paper, value] of ROBUST_KEYS) {
      assert.equal(valueAt(DEFAULTS, section, key), paper, `${section}.${key}: the spec default`);
      assert.equal(valueAt(robust, section, key), value, `${section}.${key} under robust`);
    }
    const set = Object.entries(RECIPES.robust).flatMap(([s, keys]) => Object.keys(keys as object).map((k) => `${s}.${k}`));
    assert.deepEqual(set.sort(), ROBUST_KEYS.map(([s, k]) => `${s}.${k}`).sort());
    assert.deepEqual(recipeDefaults('paper'), DEFAULTS);
  });

  it('a file without `recipe` gets the default recipe (robust); `recipe: paper` gives every spec default', () => {
    assert.equal(DEFAULT_RECIPE, 'robust');
    const implicit = config('name: x\n');
    assert.equal(implicit.recipe, 'robust');
    for (const [section, key, , value] of ROBUST_KEYS) assert.equal(valueAt(implicit, section, key), value, key);
    const paper = config('name: x\nrecipe: paper\n');
    assert.deepEqual({ ...paper, name: '' }, { ...DEFAULTS, name: '', data: { ...DEFAULTS.data, task: 'harmless' } });
  });

  it('a key the file writes overrides its recipe, the other recipe keys stay', () => {
    const c = config('name: x\nrecipe: robust\nobjective: { cer_form: sigmoid }\n');
    assert.equal(c.objective.cer_form, 'sigmoid');
    assert.equal(c.objective.reduction, 'token_mean');
    assert.equal(c.model.reward_weight_targets, 'mu_sigma');
  });

  it('a variant naming another recipe gets its values, except keys the base writes, then its own keys', () => {
    const text = [
      'name: x',
      'recipe: robust',
      'seeds: [0, 1]',
      'objective: { cer_form: sigmoid }',
      'ablations:',
      '  robust: {}',
      '  paper: { recipe: paper }',
      '  paper-tokens: { recipe: paper, objective: { reduction: token_mean } }',
      '',
    ].join('\n');
    const runs = expandGrid(config(text));
    const cell = (variant: string) => runs.find((r) => r.variant === variant && r.seed === 1)!;
    assert.deepEqual(
      runs.map((r) => [r.variant, r.recipe]),
      [
        ['robust', 'robust'],
        ['robust', 'robust'],
        ['paper', 'paper'],
        ['paper', 'paper'],
        ['paper-tokens', 'paper'],
        ['paper-tokens', 'paper'],
      ],
    );
    const paper = cell('paper');
    assert.equal(paper.objective.sequence_reward_mode, 'last');
    assert.equal(paper.objective.td_reward_alignment, 'state');
    assert.equal(paper.objective.reduction, 'seq_sum_batch_mean');
    assert.equal(paper.model.reward_weight_targets, 'q_mu_sigma');
    assert.equal(paper.objective.cer_form, 'sigmoid', 'written in the base: kept');
    assert.equal(cell('paper-tokens').objective.reduction, 'token_mean', "the variant's own key wins");
    assert.equal(cell('robust').objective.reduction, 'token_mean');
  });

  it('a robust variant beside a paper base gets the robust values', () => {
    const runs = expandGrid(config('name: x\nrecipe: paper\nablations:\n  literal: {}\n  robust: { recipe: robust }\n'));
    const robust = runs.find((r) => r.variant === 'robust')!;
    const literal = runs.find((r) => r.variant === 'literal')!;
    for (const [section, key, paper, value] of ROBUST_KEYS) {
      assert.equal(valueAt(robust, section, key), value, key);
      assert.equal(valueAt(literal, section, key), paper, key);
    }
  });

  it('a variant naming the base recipe changes nothing (warning)', () => {
    const { diagnostics } = load('name: x\nrecipe: robust\nablations:\n  a: { objective: { kind: bt } }\n  b: { recipe: robust }\n');
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /variant `b` changes nothing/);
    assert.equal(diagnostics[0].line, 5);
  });

  it('rejects an unknown recipe at its line, listing the allowed values', () => {
    const { diagnostics } = load('name: x\nrecipe: fast\n');
    assert.equal(diagnostics[0].severity, 'error');
    assert.equal(diagnostics[0].key, 'recipe');
    assert.equal(diagnostics[0].line, 2);
    assert.match(diagnostics[0].message, /paper/);
    assert.match(diagnostics[0].message, /robust/);
  });

  it('config.yaml records the recipe and every value it led to, and reads back the same', () => {
    const run = expandGrid(config('name: x\nablations:\n  a: {}\n  p: { recipe: paper }\n'))[1];
    const text = resolvedConfigYaml(run);
    assert.match(text, /^recipe: paper$/m);
    assert.match(text, /^ {2}reduction: seq_sum_batch_mean$/m);
    assert.deepEqual(parseRunConfigYaml(text), run);
  });
});
