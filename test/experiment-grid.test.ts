import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { DEFAULT_RECIPE, DEFAULTS, recipeDefaults, type ExperimentConfig } from '../src/core/experiment/config.js';

/** What a file that names no recipe starts from. */
const RESOLVED = recipeDefaults(DEFAULT_RECIPE);
import { expandGrid, parseRunConfigYaml, resolvedConfigYaml } from '../src/core/experiment/grid.js';
import { parseExperiment, throwIfErrors } from '../src/core/experiment/load.js';
import { deepMerge } from '../src/core/experiment/merge.js';
import { AvaError } from '../src/core/errors.js';

function experiment(yaml: string): ExperimentConfig {
  return throwIfErrors(parseExperiment(yaml, '/tmp/grid.ava.yaml'));
}

const THREE_VARIANTS = `
name: grid
seeds: [7, 3]
data: { task: helpful, task_options: { seed: 11, noise: 0.2 } }
objective: { kind: ava-p, cer_coef: 0.5 }
ablations:
  ava-p: {}
  "w/o rwt": { model: { use_reward_weights: false } }
  bt: { objective: { kind: bt }, data: { task_options: { noise: 0 } } }
`;

describe('expandGrid', () => {
  it('makes one run per variant × seed: variants in file order, then seeds in file order', () => {
    const runs = expandGrid(experiment(THREE_VARIANTS));
    assert.deepEqual(
      runs.map((r) => [r.variant, r.seed]),
      [
        ['ava-p', 7],
        ['ava-p', 3],
        ['w/o rwt', 7],
        ['w/o rwt', 3],
        ['bt', 7],
        ['bt', 3],
      ],
    );
    assert.ok(runs.every((r) => r.name === 'grid'));
  });

  it("applies each variant's override to its own runs only, merging nested keys", () => {
    const runs = expandGrid(experiment(THREE_VARIANTS));
    const [avaP, , noRwt, , bt] = runs;
    assert.equal(avaP.model.use_reward_weights, true);
    assert.equal(noRwt.model.use_reward_weights, false);
    assert.equal(noRwt.objective.kind, 'ava-p');
    assert.equal(bt.objective.kind, 'bt');
    assert.equal(bt.objective.cer_coef, 0.5, 'keys the variant does not name keep the base value');
    assert.deepEqual(bt.data.task_options, { ...DEFAULTS.data.task_options, seed: 11, noise: 0 });
    assert.equal(avaP.data.task_options.noise, 0.2);
  });

  it('keeps data.task_options.seed as written; the run seed is the grid seed', () => {
    for (const run of expandGrid(experiment(THREE_VARIANTS))) assert.equal(run.data.task_options.seed, 11);
  });

  it("runs the base config once per seed, as variant '', when there are no ablations", () => {
    const runs = expandGrid(experiment('name: plain\nseeds: [1, 2, 3]\ndata: { task: summary }\n'));
    assert.deepEqual(
      runs.map((r) => [r.variant, r.seed]),
      [
        ['', 1],
        ['', 2],
        ['', 3],
      ],
    );
    const { variant, seed, name, recipe, ...sections } = runs[0];
    assert.deepEqual([name, variant, seed, recipe], ['plain', '', 1, DEFAULT_RECIPE]);
    assert.deepEqual(sections, {
      engine: RESOLVED.engine,
      data: { ...RESOLVED.data, task: 'summary' },
      tokenizer: RESOLVED.tokenizer,
      model: RESOLVED.model,
      objective: RESOLVED.objective,
      train: RESOLVED.train,
      eval: RESOLVED.eval,
    });
  });

  it('gives every run its own objects', () => {
    const exp = experiment(THREE_VARIANTS);
    const runs = expandGrid(exp);
    runs[0].model.n_layer = 42;
    runs[0].data.task_options.noise = 0.9;
    assert.equal(runs[1].model.n_layer, DEFAULTS.model.n_layer);
    assert.equal(runs[1].data.task_options.noise, 0.2);
    assert.equal(exp.model.n_layer, DEFAULTS.model.n_layer);
  });
});

describe('deepMerge', () => {
  it('merges objects, replaces arrays, scalars and null', () => {
    const base = { a: { b: 1, c: [1, 2, 3] }, d: 'x', e: 'keep' };
    assert.deepEqual(deepMerge(base, { a: { c: [9] }, d: null }), { a: { b: 1, c: [9] }, d: null, e: 'keep' });
    assert.deepEqual(base, { a: { b: 1, c: [1, 2, 3] }, d: 'x', e: 'keep' }, 'the base is not modified');
  });
  it('returns a copy of the base for an undefined override', () => {
    const base = { a: { b: 1 } };
    const out = deepMerge(base, undefined);
    assert.deepEqual(out, base);
    assert.notEqual(out.a, base.a);
  });
});

describe('resolved run config.yaml', () => {
  const run = expandGrid(experiment(THREE_VARIANTS))[4];

  it('starts with a header comment and writes every key in a stable order', () => {
    const text = resolvedConfigYaml(run);
    assert.match(text, /^# AVA Lab resolved run config: experiment "grid", variant "bt", seed 7\.\n#/);
    const data = parse(text) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(data), ['name', 'variant', 'seed', 'recipe', 'engine', 'data', 'tokenizer', 'model', 'objective', 'train', 'eval']);
    assert.deepEqual(Object.keys(data.model), Object.keys(DEFAULTS.model));
    assert.deepEqual(Object.keys(data.objective), Object.keys(DEFAULTS.objective));
    assert.equal(resolvedConfigYaml(structuredClone(run)), text, 'the same run gives the same text');
  });

  it('reads back to the same RunConfig', () => {
    assert.deepEqual(parseRunConfigYaml(resolvedConfigYaml(run)), run);
    const plain = expandGrid(experiment('name: p\ndata: { task: helpful }\n'))[0];
    assert.deepEqual(parseRunConfigYaml(resolvedConfigYaml(plain)), plain);
  });

  it('fills keys that an older config.yaml lacks from the defaults', () => {
    const old = 'name: old\nvariant: ""\nseed: 3\ndata: { task: harmless }\nmodel: { n_layer: 4 }\n';
    const back = parseRunConfigYaml(old);
    assert.equal(back.seed, 3);
    assert.equal(back.model.n_layer, 4);
    assert.deepEqual(back.objective, DEFAULTS.objective, "the spec's values: the run predates the recipes");
    assert.equal(back.recipe, 'paper');
    assert.deepEqual(back.data, { ...DEFAULTS.data, task: 'harmless' });
  });

  it('rejects an invalid config.yaml with AvaError(config) at the key', () => {
    const bad = 'name: old\nvariant: ""\nseed: 3\nmodel:\n  n_layers: 4\n';
    assert.throws(
      () => parseRunConfigYaml(bad, 'runs/x/config.yaml'),
      (e: unknown) =>
        e instanceof AvaError &&
        e.code === 'config' &&
        e.where.line === 5 &&
        e.where.column === 3 &&
        e.where.key === 'model.n_layers' &&
        /did you mean `n_layer`/.test(e.message),
    );
    assert.throws(() => parseRunConfigYaml('name: x\nseed: [\n'), (e: unknown) => e instanceof AvaError && e.code === 'config');
    assert.throws(() => parseRunConfigYaml('name: x\nvariant: ""\n'), /missing required key `seed`/);
  });
});
