// Pure parts of the Runs view and the experiment commands: runs read back from their
// directories (status + pid liveness, eval, checkpoints), experiment outlines for CodeLenses
// and cell picks, and the template files of "New Experiment".
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeJsonAtomic } from '../src/core/run/files.js';
import type { GridManifest, RunStatusFile } from '../src/core/run/layout.js';
import { formatAccuracy, gridStatus, latestTrainedRun, scanRuns } from '../src/extension/runs/runIndex.js';
import { StableTree } from '../src/extension/runs/stableTree.js';
import { cellLabel, experimentOutline, gridCells } from '../src/extension/experiments/experimentOutline.js';
import { freeName, listTemplates, relativeDataFiles, renameExperiment } from '../src/extension/experiments/templateFiles.js';

function makeRun(dir: string, status: Partial<RunStatusFile>, extra: { acc?: number; checkpoint?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'status.json'), { status: 'finished', pid: process.pid, started: 's', updated: '2025-01-01T00:00:00Z', step: 10, total_steps: 10, ...status });
  if (extra.acc !== undefined) writeJsonAtomic(join(dir, 'eval.json'), { step: 10, reward_acc: { value: extra.acc, n: 100, lo: extra.acc - 0.1, hi: extra.acc + 0.05 } });
  if (extra.checkpoint) writeJsonAtomic(join(dir, 'checkpoints', 'latest.json'), { step: 10, path: 'step-0000010' });
}

function makeGrid(root: string, name: string, stamp: string, cells: { variant: string; seed: number }[], created: string): string {
  const dir = join(root, name, stamp);
  const manifest: GridManifest = { experiment: name, experiment_file: `/w/${name}.ava.yaml`, created, cells: cells.map((c) => ({ ...c, dir: `${c.variant || 'base'}/seed-${c.seed}` })) };
  writeJsonAtomic(join(dir, 'grid.json'), manifest);
  return dir;
}

test('scanRuns groups grids by experiment, newest first, and reads each run from its directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'ava-runs-'));
  const old = makeGrid(root, 'demo', '20250101-000000', [{ variant: '', seed: 0 }], '2025-01-01T00:00:00Z');
  makeRun(join(old, 'base/seed-0'), { updated: '2025-01-01T00:10:00Z' }, { acc: 0.8, checkpoint: true });
  const grid = makeGrid(root, 'demo', '20250102-000000', [{ variant: 'ava-p', seed: 0 }, { variant: 'bt', seed: 0 }], '2025-01-02T00:00:00Z');
  makeRun(join(grid, 'ava-p/seed-0'), { status: 'running', pid: process.pid, step: 4 });
  makeRun(join(grid, 'bt/seed-0'), { status: 'running', pid: 2 ** 22 + 12345, step: 2 }); // a pid that is not alive
  mkdirSync(join(root, 'not-a-grid', 'x'), { recursive: true });

  const experiments = scanRuns(root);
  assert.deepEqual(experiments.map((e) => e.name), ['demo']);
  const [newest, oldest] = experiments[0]!.grids;
  assert.equal(newest!.dir, grid);
  assert.equal(oldest!.dir, old);
  const [running, killed] = newest!.runs;
  assert.equal(running!.status, 'running');
  assert.equal(running!.step, 4);
  assert.equal(killed!.status, 'failed');
  assert.equal(killed!.interrupted, true);
  assert.match(killed!.error ?? '', /process is gone/);
  assert.equal(gridStatus(newest!), 'running');
  assert.equal(gridStatus(oldest!), 'finished');
  assert.equal(formatAccuracy(oldest!.runs[0]!.summary), 'acc 0.800 [0.70, 0.85]');
  assert.equal(latestTrainedRun(experiments)?.dir, join(old, 'base/seed-0'));
  assert.deepEqual(scanRuns(join(root, 'missing')), []);
});

test('a grid lists the PPO runs of its win-rate stage with their status and last gold and score', () => {
  const root = mkdtempSync(join(tmpdir(), 'ava-runs-ppo-'));
  const grid = makeGrid(root, 'wr', '20250103-000000', [{ variant: 'sft', seed: 0 }, { variant: 'bt', seed: 0 }], '2025-01-03T00:00:00Z');
  makeRun(join(grid, 'sft/seed-0'), {});
  makeRun(join(grid, 'bt/seed-0'), {});
  const ppo = join(grid, 'winrates', 'seed-0', 'ppo-bt');
  makeRun(ppo, { step: 2, total_steps: 2 });
  const record = (step: number, gold: number) => JSON.stringify({ step, phase: 'train', time: step, values: { 'objective/scores': 1.5 * step, 'objective/gold': gold } });
  writeFileSync(join(ppo, 'metrics.jsonl'), `${record(1, 0.2)}\n${record(2, 0.45)}\n{"step": 3, "pha`); // a torn last line
  makeRun(join(grid, 'winrates', 'seed-1', 'ppo-bt'), { status: 'running', pid: process.pid, step: 1, total_steps: 4 });
  mkdirSync(join(grid, 'winrates', 'seed-0', 'not-ppo'), { recursive: true });
  const [entry] = scanRuns(root)[0]!.grids;
  assert.deepEqual(entry!.runs.map((r) => r.variant), ['sft', 'bt'], 'PPO runs are not grid cells');
  assert.deepEqual(entry!.ppoRuns.map((r) => [r.variant, r.seed, r.status, r.step]), [['ppo:bt', 0, 'finished', 2], ['ppo:bt', 1, 'running', 1]]);
  assert.deepEqual(entry!.ppoRuns[0]!.ppo, { rewardVariant: 'bt', lastGold: 0.45, lastScore: 3 });
  assert.equal(entry!.ppoRuns[1]!.ppo?.lastGold, undefined);
});

test('experimentOutline reads name, seeds and ablation lines; gridCells is variants × seeds', () => {
  const text = ['# comment', 'name: demo', 'seeds: [0, 1]', 'ablations:', '  ava-p: {}', '  "w/o rwt": { model: { use_reward_weights: false } }', 'data: { task: helpful }'].join('\n');
  const outline = experimentOutline(text);
  assert.equal(outline.name, 'demo');
  assert.deepEqual(outline.seeds, [0, 1]);
  assert.deepEqual(outline.variants, [
    { name: 'ava-p', line: 4 },
    { name: 'w/o rwt', line: 5 },
  ]);
  assert.deepEqual(gridCells(outline).map(cellLabel), ['ava-p/seed-0', 'ava-p/seed-1', 'w-o-rwt/seed-0', 'w-o-rwt/seed-1']);
  assert.deepEqual(experimentOutline('name: x\n').variants, [{ name: '', line: 0 }]);
  assert.deepEqual(experimentOutline(': : broken [').seeds, [0], 'a broken file still yields an outline');
});

test('templates: descriptions from leading comments, renamed copies, data files, free names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-templates-'));
  writeFileSync(join(dir, 'demo.ava.yaml'), '# First line.\n# Second line.\nname: demo\ndata:\n  train: data/t.jsonl\n  eval: /abs/e.jsonl\n');
  writeFileSync(join(dir, 'notes.yaml'), 'name: x\n');
  const [t, ...rest] = listTemplates(dir);
  assert.equal(rest.length, 0);
  assert.equal(t!.description, 'First line.');
  assert.equal(t!.detail, 'Second line.');
  const text = readFileSync(t!.file, 'utf8');
  assert.match(renameExperiment(text, 'mine'), /^name: "mine"$/m);
  assert.equal(renameExperiment('seeds: [0]\n', 'x'), 'name: "x"\nseeds: [0]\n');
  assert.deepEqual(relativeDataFiles(text), ['data/t.jsonl']);
  assert.equal(freeName(dir, 'demo'), 'demo-2.ava.yaml');
  assert.equal(freeName(dir, 'other'), 'other.ava.yaml');
});

// The Runs view's rescans keep node objects whose place in the tree is unchanged, so a row
// action clicked during a refresh still reaches its command with its node.
type Node = { id: string; step: number; error?: string; kids: Node[] };
const shape = { id: (n: Node) => n.id, look: (n: Node) => `${n.step} ${n.error ?? ''}`, children: (n: Node) => n.kids };
const grid = (steps: number[], extra: Partial<Node> = {}): Node[] => [
  { id: 'exp', step: 0, kids: [{ id: 'grid', step: 0, kids: steps.map((step, i) => ({ id: `run${i}`, step, kids: [], ...(i === 0 ? extra : {}) })) }] },
];

test('StableTree: a rescan of the same shape keeps the node objects and reports only the changed rows', () => {
  const tree = new StableTree<Node>(shape);
  assert.deepEqual(tree.update(grid([1, 1], { error: 'x' })), { all: true });
  const [exp] = tree.children();
  const [g] = tree.children(exp);
  const [run0, run1] = tree.children(g);
  assert.equal(run0!.error, 'x');

  const change = tree.update(grid([1, 7]));
  assert.equal(change.all, false);
  assert.deepEqual(change.all ? [] : change.nodes.map((n) => n.id), ['run0', 'run1'], 'run1 moved; run0 lost its error');
  const [again0, again1] = tree.children(tree.children(tree.children()[0])[0]);
  assert.equal(again0, run0, 'same object');
  assert.equal(again1, run1, 'same object');
  assert.equal(run1!.step, 7, 'the kept object carries the new data');
  assert.equal('error' in run0!, false, 'a key gone from the new data is gone from the kept node');

  assert.deepEqual(tree.update(grid([1, 7])), { all: false, nodes: [] }, 'nothing changed, nothing to redraw');
});

test('StableTree: a child added, removed or moved refreshes the whole tree with the new nodes', () => {
  const tree = new StableTree<Node>(shape);
  tree.update(grid([1, 2]));
  const before = tree.children(tree.children(tree.children()[0])[0]);
  assert.deepEqual(tree.update(grid([1, 2, 3])), { all: true });
  const added = tree.children(tree.children(tree.children()[0])[0]);
  assert.deepEqual(added.map((n) => n.id), ['run0', 'run1', 'run2']);
  assert.notEqual(added[0], before[0]);
  assert.deepEqual(tree.update(grid([1, 2])), { all: true }, 'removed');
  const swapped = grid([1, 2]);
  swapped[0]!.kids[0]!.kids.reverse();
  assert.deepEqual(tree.update(swapped), { all: true }, 'reordered');
  assert.deepEqual(tree.children(tree.children(tree.children()[0])[0]).map((n) => n.id), ['run1', 'run0']);
});

test('a grid submitted to Slurm reads its cells from status.json and the Slurm states grid.json keeps', () => {
  const root = mkdtempSync(join(tmpdir(), 'ava-runs-slurm-'));
  const cells = [0, 1, 2, 3, 4].map((seed) => ({ variant: 'ava-p', seed }));
  const dir = makeGrid(root, 'cluster', '20250103-000000', cells, '2025-01-03T00:00:00Z');
  const manifest = JSON.parse(readFileSync(join(dir, 'grid.json'), 'utf8')) as GridManifest;
  const options = { partition: null, account: null, qos: null, time: null, mem: null, cpus_per_task: 1, gres: null, max_parallel: 0, sbatch: [], setup: '', command: null };
  const task = (i: number, state: string, reason = '') => ({ job: `12_${i}`, state, reason, node: 'node7', exit_code: '0:0', source: 'sacct' as const, seen: '' });
  manifest.slurm = {
    submissions: [{ job_id: '12', cells: [0, 1, 2, 3], script: 'slurm/submit-1.sbatch', submitted: '', options }],
    tasks: { 0: task(0, 'COMPLETED'), 1: task(1, 'PENDING', 'Priority'), 2: task(2, 'TIMEOUT', 'TimeLimit'), 3: task(3, 'CANCELLED', 'CANCELLED by 0') },
  };
  writeJsonAtomic(join(dir, 'grid.json'), manifest);
  makeRun(join(dir, 'ava-p/seed-0'), {}, { acc: 0.8 });
  // A node's pid means nothing here: the run is not declared dead from this machine.
  makeRun(join(dir, 'ava-p/seed-2'), { status: 'running', pid: 2 ** 22 + 12345, host: 'node7', step: 5 });
  makeRun(join(dir, 'ava-p/seed-3'), { status: 'stopped', host: 'node7', step: 3 });

  const grid = scanRuns(root)[0].grids[0];
  assert.deepEqual(grid.slurmJobs, ['12']);
  assert.deepEqual(grid.runs.map((r) => r.status), ['finished', 'queued', 'failed', 'cancelled', 'pending']);
  assert.equal(grid.runs[1].slurm?.reason, 'Priority');
  assert.match(grid.runs[2].error ?? '', /TIMEOUT/);
  assert.equal(grid.runs[2].step, 5, 'the logged progress stays');
  assert.equal(grid.runs[4].slurm?.state, 'unsubmitted');
  assert.equal(grid.slurmOpen, true, 'cell 1 is still pending: the view keeps asking Slurm');
  assert.equal(gridStatus(grid), 'queued');

  manifest.slurm.tasks![1] = task(1, 'COMPLETED');
  writeJsonAtomic(join(dir, 'grid.json'), manifest);
  makeRun(join(dir, 'ava-p/seed-1'), {}, { acc: 0.7 });
  const after = scanRuns(root)[0].grids[0];
  assert.equal(after.slurmOpen, false, 'every submitted cell ended: no more Slurm calls');
  assert.equal(gridStatus(after), 'failed');
});
