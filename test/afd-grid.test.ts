/**
 * Cells that depend on other cells of their grid (same seed): `model.init_from: cell:<variant>`
 * and AfD pairs (`data.afd`, spec §6.5) sampled from the π_init and π_SFT cells. The loader
 * names the key of every bad reference; the scheduler starts a cell only once what it needs
 * finished, in one process or several; Slurm gets one dependent array job per stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperiment, throwIfErrors } from '../src/core/experiment/load.js';
import { cellDependencies, dependencyOrder, expandGrid } from '../src/core/experiment/grid.js';
import { schedule } from '../src/core/run/schedule.js';
import { sbatchScript } from '../src/core/cluster/slurm.js';
import { DEFAULT_CLUSTER } from '../src/core/experiment/config.js';
import type { RunStatus } from '../src/protocol/events.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts')];
const cli = (args: string[], cwd: string) => {
  const r = spawnSync(CLI[0], [...CLI.slice(1), ...args], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const HEAD = 'name: t\nseeds: [0, 1]\ndata: { task: harmless }\nobjective: { kind: ava-p }\ntrain: { pretrain_steps: 10 }\n';
const diagnostics = (ablations: string) =>
  parseExperiment(`${HEAD}ablations:\n${ablations}`, '/tmp/t.ava.yaml').diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.key}: ${d.message}`);

test('bad references are errors on the key that makes them', () => {
  assert.deepEqual(diagnostics('  a: { data: { afd: { init: nope, sft: b } } }\n  b: { objective: { kind: sft } }\n'), [
    '7:ablations.a.data.afd.init: no variant `nope` in ablations (variants: `a`, `b`)',
  ]);
  assert.deepEqual(diagnostics('  a: { model: { init_from: "cell:a" } }\n  b: {}\n'), ['7:ablations.a.model.init_from: variant `a` cannot depend on its own cell']);
  const cycle = diagnostics('  a: { model: { init_from: "cell:b" } }\n  b: { model: { init_from: "cell:a" } }\n');
  assert.equal(cycle.length, 1);
  assert.match(cycle[0], /the cells depend on each other in a cycle: `a` → `b` → `a`/);
  // The pair mode and the named sources must agree; AfD pairs train pairwise objectives only.
  assert.deepEqual(diagnostics('  i: { objective: { kind: dpo }, train: { steps: 0 } }\n  a: { data: { afd: { init: i } } }\n'), [
    '8:ablations.a.data.afd: pair_mode init_sft samples from π_SFT: set data.afd.sft to the variant that trains it',
  ]);
  assert.deepEqual(diagnostics('  i: { objective: { kind: dpo }, train: { steps: 0 } }\n  a: { data: { afd: { pair_mode: init_demo, init: i, sft: i } } }\n'), [
    '8:ablations.a.data.afd.sft: pair_mode init_demo does not sample from π_SFT: remove data.afd.sft',
  ]);
  assert.deepEqual(diagnostics('  i: { objective: { kind: dpo }, train: { steps: 0 } }\n  a: { objective: { kind: sft }, data: { afd: { pair_mode: init_demo, init: i } } }\n'), [
    '8:ablations.a.objective.kind: AfD pairs train a pairwise objective (ava-p, bt, pt, dpo); objective.kind is sft',
  ]);
  assert.deepEqual(diagnostics('  i: { train: { steps: 0, pretrain_steps: 0 } }\n  a: {}\n'), ['7:ablations.i.train.steps: steps and pretrain_steps are both 0: the run would train nothing']);
  // `cell:` is a reference, not a path made absolute against the experiment folder.
  const ok = throwIfErrors(parseExperiment(`${HEAD}ablations:\n  i: { objective: { kind: dpo }, train: { steps: 0 } }\n  a: { model: { init_from: "cell:i" } }\n`, '/tmp/t.ava.yaml'));
  assert.equal(expandGrid(ok).find((r) => r.variant === 'a')!.model.init_from, 'cell:i');
});

test('dependencies come first in the order, and a grid lists what each cell waits for', () => {
  const exp = throwIfErrors(
    parseExperiment(
      `${HEAD}ablations:\n  p: { data: { afd: { init: i, sft: s } } }\n  s: { objective: { kind: sft }, model: { init_from: "cell:i" } }\n  i: { objective: { kind: dpo }, train: { steps: 0 } }\n`,
      '/tmp/t.ava.yaml',
    ),
  );
  assert.deepEqual(dependencyOrder(exp), { order: ['i', 's', 'p'] });
  const runs = expandGrid(exp);
  assert.deepEqual(cellDependencies(runs.find((r) => r.variant === 'p')!).map((d) => [d.variant, d.key.join('.')]), [
    ['i', 'data.afd.init'],
    ['s', 'data.afd.sft'],
  ]);
});

test('the scheduler starts a cell once its dependencies finished, at most `limit` at a time, and never after a failed one', async () => {
  type C = { name: string; deps: string[]; result: RunStatus };
  const cells: C[] = [
    { name: 'late', deps: ['mid'], result: 'finished' },
    { name: 'mid', deps: ['a', 'b'], result: 'finished' },
    { name: 'a', deps: [], result: 'finished' },
    { name: 'b', deps: [], result: 'finished' },
    { name: 'orphan', deps: ['bad'], result: 'finished' },
    { name: 'bad', deps: [], result: 'failed' },
    { name: 'after-orphan', deps: ['orphan'], result: 'finished' },
  ];
  const byName = new Map(cells.map((c) => [c.name, c]));
  const log: string[] = [];
  let running = 0;
  let peak = 0;
  const blocked: string[] = [];
  const statuses = await schedule(cells, {
    depsOf: (c: C) => c.deps.map((d) => byName.get(d)!),
    done: new Map(),
    limit: 2,
    run: async (c) => {
      running++;
      peak = Math.max(peak, running);
      log.push(`start ${c.name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${c.name}`);
      running--;
      return c.result;
    },
    blocked: (c, d, st) => blocked.push(`${c.name} <- ${d.name} ${st}`),
    signal: new AbortController().signal,
  });
  assert.equal(peak, 2);
  for (const c of cells) for (const d of c.deps) if (log.includes(`start ${c.name}`)) assert.ok(log.indexOf(`end ${d}`) < log.indexOf(`start ${c.name}`), `${c.name} started before ${d} ended`);
  assert.deepEqual(blocked.sort(), ['after-orphan <- orphan failed', 'orphan <- bad failed']);
  assert.deepEqual(Object.fromEntries([...statuses].map(([c, s]) => [c.name, s])), { a: 'finished', b: 'finished', bad: 'failed', mid: 'finished', late: 'finished', orphan: 'failed', 'after-orphan': 'failed' });
});

test('a later Slurm stage waits for the one before, and dies when it cannot run', () => {
  const script = sbatchScript({
    experimentName: 't',
    experimentFile: '/x/t.ava.yaml',
    gridDir: '/g',
    workdir: '/x',
    cells: [{ variant: 'i', seed: 0 }, { variant: 'p', seed: 0 }],
    submit: [1],
    options: DEFAULT_CLUSTER,
    command: 'ava-lab',
    after: ['41', '40_3'],
    version: '0',
  });
  assert.match(script, /^#SBATCH --dependency=afterok:41:40_3$/m);
  assert.match(script, /^#SBATCH --kill-on-invalid-dep=yes$/m);
  const first = sbatchScript({ experimentName: 't', experimentFile: '/x/t.ava.yaml', gridDir: '/g', workdir: '/x', cells: [{ variant: 'i', seed: 0 }], submit: [0], options: DEFAULT_CLUSTER, command: 'ava-lab', version: '0' });
  assert.doesNotMatch(first, /dependency/);
});

test('a Table-5 grid end to end: π_init, then SFT from it, then AfD pairs from both training DPO, in two processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-afd-grid-'));
  try {
    writeFileSync(
      join(dir, 't.ava.yaml'),
      `name: t5
seeds: [0]
engine: { backend: wasm }
ablations:
  init: { objective: { kind: dpo }, train: { steps: 0 } }
  scratch: { objective: { kind: sft }, train: { pretrain_steps: 0 } }
  sft: { objective: { kind: sft }, model: { init_from: "cell:init" }, train: { pretrain_steps: 0 } }
  dpo w/ afd: { objective: { kind: dpo }, data: { afd: { init: init, sft: sft } }, model: { init_from: "cell:init" }, train: { pretrain_steps: 0 } }
data: { task: harmless, task_options: { n_train: 240, n_eval: 40 } }
model: { n_layer: 1, n_head: 2, d_model: 32, context: 32 }
objective: { kind: ava-p }
train: { steps: 120, pretrain_steps: 80, batch_size: 16, lr: 0.003, warmup_steps: 5, log_every: 1, eval_every: 0 }
eval: { dump_token_rewards: 0 }
`,
    );
    const only = cli(['run', 't.ava.yaml', '--out', 'G', '--only', 'dpo w/ afd'], dir);
    assert.equal(only.code, 2);
    assert.match(only.stderr, /need these cells finished first: init\/seed-0 \(not started\), sft\/seed-0 \(not started\); add --only "init" --only "sft"/);
    const r = cli(['run', 't.ava.yaml', '--out', 'G', '--jobs', '2'], dir);
    assert.equal(r.code, 0, r.stderr);
    const status = (v: string) => JSON.parse(readFileSync(join(dir, 'G', v, 'seed-0', 'status.json'), 'utf8'));
    // Each dependent cell started after the cells it reads from had finished.
    assert.ok(status('sft').started >= status('init').updated, 'sft started before init finished');
    assert.ok(status('dpo-w-afd').started >= status('sft').updated, 'the AfD cell started before sft finished');
    // `steps: 0` is the warm-up alone, and a policy without a trained reward is not scored.
    assert.equal(status('init').step, 80);
    assert.equal(JSON.parse(readFileSync(join(dir, 'G', 'init', 'seed-0', 'eval.json'), 'utf8')).reward_acc, undefined);
    // cell:init loads the warmed-up weights: SFT's first loss is far below the same SFT from scratch.
    const losses = (v: string) => readFileSync(join(dir, 'G', v, 'seed-0', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.values.loss !== undefined).map((m) => m.values.loss as number);
    const [fromInit, fromScratch] = [losses('sft')[0], losses('scratch')[0]];
    assert.ok(fromInit < fromScratch - 0.3, `first SFT loss from init ${fromInit}, from scratch ${fromScratch}`);
    const env = JSON.parse(readFileSync(join(dir, 'G', 'sft', 'seed-0', 'env.json'), 'utf8'));
    assert.equal(env.init_from, join(dir, 'G', 'init', 'seed-0', 'checkpoints', 'step-0000080'));
    // One AfD pair per demonstration (the chosen halves of the 240 training pairs), with the golds of both sides.
    const rows = readFileSync(join(dir, 'G', 'dpo-w-afd', 'seed-0', 'afd-pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 240);
    assert.deepEqual(Object.keys(rows[0]).sort(), ['afd', 'chosen', 'prompt', 'rejected']);
    assert.equal(rows[0].afd.chosen_from, 'sft');
    const agree = rows.filter((x) => x.afd.gold.chosen > x.afd.gold.rejected).length / rows.length;
    const worse = rows.filter((x) => x.afd.gold.chosen < x.afd.gold.rejected).length / rows.length;
    assert.ok(agree > worse + 0.1, `the SFT sample is better in ${agree}, worse in ${worse} of the pairs`);
    // The AfD-trained DPO is evaluated on the task's own held-out (gold-labelled) pairs.
    assert.equal(JSON.parse(readFileSync(join(dir, 'G', 'dpo-w-afd', 'seed-0', 'eval.json'), 'utf8')).reward_acc.n, 40);
    // A grid without Bradley-Terry reports without a paired column; naming an absent baseline is an error.
    const report = cli(['report', 'G'], dir);
    assert.equal(report.code, 0, report.stderr);
    assert.doesNotMatch(report.stdout, /Δ acc vs/);
    assert.match(report.stdout, /^\| dpo w\/ afd \| harmless \|/m);
    assert.equal(cli(['report', 'G', '--baseline', 'bt'], dir).code, 2);
    // Resuming the finished grid in several processes skips every cell and keeps it finished.
    const again = cli(['run', 't.ava.yaml', '--resume', 'G', '--jobs', '2'], dir);
    assert.equal(again.code, 0, again.stderr);
    for (const v of ['init', 'scratch', 'sft', 'dpo-w-afd']) assert.equal(status(v).status, 'finished', v);
    assert.equal((again.stderr.match(/already finished, skipped/g) ?? []).length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
