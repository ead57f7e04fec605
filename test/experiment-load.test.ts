import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RECIPE, DEFAULTS, recipeDefaults } from '../src/core/experiment/config.js';
import { loadExperiment, parseExperiment, throwIfErrors, validateExperimentFile } from '../src/core/experiment/load.js';
import { closest, editDistance } from '../src/core/experiment/suggest.js';
import { AvaError } from '../src/core/errors.js';
import type { Diagnostic } from '../src/protocol/events.js';

const root = join(import.meta.dirname, '..');
const fixtures = join(root, 'test/fixtures/experiments');

/**
 * A fixture states what it must produce, one line per diagnostic:
 *   # expect: <severity> | <line>:<column> | <dotted key> | <message fragment>
 */
interface Expected {
  severity: string;
  place: string;
  key: string;
  fragment: string;
}

function expectations(text: string): Expected[] {
  return [...text.matchAll(/^# expect: (\w+) \| (\d+:\d+) \| (.*?) \| (.*)$/gm)].map(([, severity, place, key, fragment]) => ({ severity, place, key, fragment }));
}

function matches(d: Diagnostic, e: Expected): boolean {
  return d.severity === e.severity && `${d.line}:${d.column}` === e.place && d.key === e.key && d.message.includes(e.fragment);
}

describe('experiment fixtures: every diagnostic at its file:line:column and key', () => {
  const files = readdirSync(fixtures).filter((f) => /\.ya?ml$/.test(f));
  for (const f of files) {
    it(f, async () => {
      const path = join(fixtures, f);
      const expected = expectations(readFileSync(path, 'utf8'));
      const { diagnostics } = await loadExperiment(path);
      const shown = diagnostics.map((d) => `${d.severity} ${d.line}:${d.column} ${d.key}: ${d.message}`).join('\n');
      assert.equal(diagnostics.length, expected.length, `expected ${expected.length} diagnostics, got:\n${shown}`);
      for (const e of expected) assert.ok(diagnostics.some((d) => matches(d, e)), `no diagnostic ${JSON.stringify(e)} among:\n${shown}`);
      for (const d of diagnostics) assert.equal(d.file, path);
    });
  }
});

describe('example experiments', () => {
  const examples = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ava.yaml'));
  it('include the demo, the Table 1 ablations and the JSONL example', () => {
    for (const f of ['demo.ava.yaml', 'ablations.ava.yaml', 'jsonl-preferences.ava.yaml', 'paper/winrates-harmless.ava.yaml']) assert.ok(examples.includes(f), f);
  });
  for (const f of examples) {
    it(`${f} validates without any diagnostic`, async () => {
      assert.deepEqual(await validateExperimentFile(join(root, 'examples', f)), []);
    });
  }
  it('the demo compares AVA-p with Bradley-Terry on the harmless task with a small model', async () => {
    const exp = throwIfErrors(await loadExperiment(join(root, 'examples/demo.ava.yaml')));
    assert.deepEqual(Object.keys(exp.ablations), ['ava-p', 'bt']);
    assert.equal(exp.objective.kind, 'ava-p');
    assert.deepEqual(exp.ablations.bt, { objective: { kind: 'bt' } });
    assert.equal(exp.data.task, 'harmless');
    assert.equal(exp.tokenizer.kind, 'word');
    assert.deepEqual([exp.model.n_layer, exp.model.d_model, exp.seeds.length], [2, 64, 1]);
  });
  it('the ablations example has the rows of Table 1 with the switches of spec §2.4', async () => {
    const exp = throwIfErrors(await loadExperiment(join(root, 'examples/ablations.ava.yaml')));
    assert.deepEqual(Object.keys(exp.ablations), ['AVA-p', 'w/o rwt', 'w/o neg', 'w/o irl', 'w/o cer', 'w/o ptq', 'AVA-d', 'BT', 'PT']);
    assert.deepEqual(exp.ablations['w/o irl'], { objective: { use_kl: false, use_td: false } });
    assert.deepEqual(exp.ablations['w/o ptq'], { model: { q_head: 'fresh' } });
  });
});

describe('parseExperiment', () => {
  it('fills every key the file leaves out from the default recipe, merging nested sections key by key', () => {
    const text = 'name: x\ndata:\n  task: helpful\n  task_options: { noise: 0.2 }\nmodel: { n_layer: 3 }\n';
    const { config, diagnostics } = parseExperiment(text, '/tmp/x.ava.yaml');
    assert.deepEqual(diagnostics, []);
    const resolved = recipeDefaults(DEFAULT_RECIPE);
    assert.deepEqual(config, {
      ...resolved,
      name: 'x',
      data: { ...resolved.data, task: 'helpful', task_options: { ...resolved.data.task_options, noise: 0.2 } },
      model: { ...resolved.model, n_layer: 3 },
    });
  });

  it('does not share objects with DEFAULTS', () => {
    const { config } = parseExperiment('name: x\ndata: { task: helpful }\n', '/tmp/x.ava.yaml');
    config.model.n_layer = 99;
    config.seeds.push(5);
    assert.equal(DEFAULTS.model.n_layer, 2);
    assert.deepEqual(DEFAULTS.seeds, [0]);
  });

  it('resolves data and checkpoint paths against the experiment folder, in variants too', async () => {
    const { config, diagnostics } = await loadExperiment(join(fixtures, 'files-ok.ava.yaml'));
    assert.deepEqual(diagnostics, []);
    const pairs = join(fixtures, 'data/pairs.jsonl');
    assert.equal(config.data.train, pairs);
    assert.equal(config.data.eval, pairs);
    assert.deepEqual(config.ablations['other-data'], { data: { train: pairs, eval: null } });
  });

  it('reads an empty variant (null) as the base config', () => {
    const { config, diagnostics } = parseExperiment('name: x\ndata: { task: helpful }\nablations:\n  base:\n  bt: { objective: { kind: bt } }\n', '/tmp/x.ava.yaml');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(config.ablations.base, {});
  });

  it('gives each diagnostic the range of the key or value it is about', () => {
    const { diagnostics } = parseExperiment('name: x\ndata: { task: helpful }\nobjective:\n  kl_coeff: 2\n', '/tmp/x.ava.yaml');
    assert.equal(diagnostics.length, 1);
    assert.deepEqual(diagnostics[0], {
      file: '/tmp/x.ava.yaml',
      line: 4,
      column: 3,
      endLine: 4,
      endColumn: 11,
      key: 'objective.kl_coeff',
      message: 'unknown key `kl_coeff` in `objective`; did you mean `kl_coef`?',
      severity: 'error',
    });
  });

  it('stops after syntax errors (no schema noise about a half-read file)', () => {
    const { diagnostics } = parseExperiment('name: x\nmodel: { n_layer: 2\nobjective: { kl_coeff: 1 }\n', '/tmp/x.ava.yaml');
    assert.ok(diagnostics.length >= 1);
    assert.ok(diagnostics.every((d) => d.key === '' && d.severity === 'error'));
  });

  it('refuses an alias bomb with one diagnostic instead of expanding it', () => {
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]'];
    const { diagnostics } = parseExperiment(`${rows.join('\n')}\nname: x\n`, '/tmp/bomb.ava.yaml');
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /alias/i);
  });

  it('treats an empty file as a file without a name', () => {
    const { diagnostics } = parseExperiment('', '/tmp/empty.ava.yaml');
    assert.deepEqual(
      diagnostics.map((d) => [d.line, d.column, d.key, d.message]),
      [[1, 1, 'name', 'missing required key `name`']],
    );
  });
});

describe('validateExperimentFile and throwIfErrors', () => {
  it('reports an unreadable file as one diagnostic at 1:1', async () => {
    const missing = join(fixtures, 'does-not-exist.ava.yaml');
    assert.deepEqual(await validateExperimentFile(missing), [
      { file: missing, line: 1, column: 1, key: '', message: 'experiment file not found', severity: 'error' },
    ]);
    await assert.rejects(loadExperiment(missing), (e: unknown) => e instanceof AvaError && e.code === 'config');
  });

  it('raises AvaError(config) at the first error, with every error as a detail line', async () => {
    const file = join(fixtures, 'out-of-range.ava.yaml');
    const loaded = await loadExperiment(file);
    assert.throws(
      () => throwIfErrors(loaded),
      (e: unknown) => {
        assert.ok(e instanceof AvaError);
        assert.equal(e.code, 'config');
        assert.equal(e.message, 'must be >= 0, found -1');
        assert.deepEqual(e.where, { file, line: 7, column: 17, key: 'train.steps' });
        assert.equal(e.details.length, 4);
        assert.equal(e.details[0], `${file}:7:17: train.steps: must be >= 0, found -1`);
        assert.equal(e.format(), `${file}:7:17: train.steps: must be >= 0, found -1`);
        return true;
      },
    );
  });

  it('returns the config when there are only warnings', async () => {
    const loaded = await loadExperiment(join(fixtures, 'wrong-name.yaml'));
    assert.equal(loaded.diagnostics.length, 1);
    assert.equal(throwIfErrors(loaded).name, 'plain');
  });
});

describe('did you mean', () => {
  it('counts a swap of neighbours as one edit', () => {
    assert.equal(editDistance('kl_coef', 'kl_ceof'), 1);
    assert.equal(editDistance('kl_coeff', 'kl_coef'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });
  it('suggests the closest candidate only when it is a plausible typo', () => {
    const keys = ['kl_coef', 'cer_coef', 'neg_likelihood_coef'];
    assert.equal(closest('kl_coeff', keys), 'kl_coef');
    assert.equal(closest('CER_COEF', keys), 'cer_coef');
    assert.equal(closest('learning_rate', keys), undefined);
    assert.equal(closest('x', ['y']), undefined, 'replacing a whole word is no typo');
  });
});
