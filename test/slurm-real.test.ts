/**
 * `ava-lab submit`, `status` and `cancel` against a real one-node Slurm (Debian's slurm-wlm
 * and munge, with slurmdbd on MariaDB for `sacct` where installed, started by
 * test/slurm/cluster.mjs for this file and stopped after it): a 2 × 2
 * grid finishes through Slurm with the metrics of the same cells run locally; a cancelled cell
 * reads cancelled and `--resume` finishes it from its checkpoint; a cell over its time limit
 * reads failed with Slurm's reason and keeps its metrics. Skipped where Slurm is missing,
 * except in CI (CI=true), where .ci/run installs it and a missing Slurm is a failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalSummary, MetricRecord } from '../src/protocol/events.js';
import type { GridManifest } from '../src/core/run/layout.js';
// @ts-expect-error plain JS helper without types
import { slurmUnavailable, startCluster } from './slurm/cluster.mjs';

const ROOT = join(import.meta.dirname, '..');
const CLI = [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts')];
const missing: string | null = slurmUnavailable();
if (missing && process.env.CI) throw new Error(`CI must test against a real Slurm: ${missing}`);
const skip = missing ? `no one-node Slurm here: ${missing}` : false;

let cluster: { env: Record<string, string>; accounting: boolean; stop(): Promise<void> } | null = null;
before(async () => {
  if (!skip) cluster = await startCluster();
});
after(async () => {
  await cluster?.stop();
});

function cli(args: string[], cwd: string) {
  const r = spawnSync(CLI[0], [...CLI.slice(1), ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...cluster?.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Cell {
  index: number;
  variant: string;
  seed: number;
  state: string;
  reason: string;
  job: string | null;
  dir: string;
  step: number;
}

function status(grid: string): Cell[] {
  const r = cli(['status', grid, '--json'], ROOT);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { cells: Cell[] }).cells;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(grid: string, done: (cells: Cell[]) => boolean, what: string, timeoutMs: number): Promise<Cell[]> {
  const t0 = Date.now();
  for (;;) {
    const cells = status(grid);
    if (done(cells)) return cells;
    if (Date.now() - t0 > timeoutMs) assert.fail(`${what}: still ${JSON.stringify(cells.map((c) => [c.variant, c.seed, c.state, c.step, c.reason]))} after ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

function experiment(dir: string, name: string, steps: number, extra = ''): string {
  const file = join(dir, `${name}.ava.yaml`);
  writeFileSync(
    file,
    `name: ${name}
seeds: [0, 1]
engine: { backend: cpu }
data:
  task: helpful
  task_options: { n_train: 64, n_eval: 32, noise: 0.1, seed: 3 }
model: { n_layer: 1, n_head: 2, d_model: 16, context: 48, pref_attn_dim: 16 }
train: { steps: ${steps}, batch_size: 8, lr: 0.003, warmup_steps: 2, log_every: 4, eval_every: ${steps}, checkpoint_every: 8 }
eval: { dump_token_rewards: 4 }
ablations:
  ava-p: {}
  bt: { objective: { kind: bt } }
${extra}`,
  );
  return file;
}

function submittedGrid(stdout: string): string {
  const m = /^Runs: (.+)$/m.exec(stdout);
  assert.ok(m, stdout);
  return m[1];
}

const metrics = (dir: string): MetricRecord[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricRecord);

test('a 2-variant × 2-seed grid finishes through Slurm with the metrics of the same cells run locally', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-slurm-grid-'));
  const exp = experiment(dir, 'grid', 16);
  const sub = cli(['submit', exp, '--slurm', '--out', join(dir, 'slurm-grid'), '--time', '10'], dir);
  assert.equal(sub.code, 0, sub.stderr + sub.stdout);
  const grid = submittedGrid(sub.stdout);
  const manifest = JSON.parse(readFileSync(join(grid, 'grid.json'), 'utf8')) as GridManifest;
  assert.equal(manifest.slurm?.submissions.length, 1);
  assert.deepEqual(manifest.slurm?.submissions[0].cells, [0, 1, 2, 3]);
  assert.ok(existsSync(join(grid, manifest.slurm!.submissions[0].script)), 'the submitted script stays in the grid folder');

  const cells = await waitFor(grid, (cs) => cs.every((c) => c.state === 'finished' || c.state === 'failed'), 'grid through Slurm', 240_000);
  assert.deepEqual(cells.map((c) => c.state), ['finished', 'finished', 'finished', 'finished'], JSON.stringify(cells));
  const jobId = manifest.slurm!.submissions[0].job_id;
  assert.deepEqual(cells.map((c) => c.job), [0, 1, 2, 3].map((i) => `${jobId}_${i}`));

  const local = cli(['run', exp, '--out', join(dir, 'local-grid'), '--jobs', '1'], dir);
  assert.equal(local.code, 0, local.stderr);
  for (const c of cells) {
    const localDir = join(dir, 'local-grid', c.dir.slice(grid.length + 1));
    const a = JSON.parse(readFileSync(join(c.dir, 'eval.json'), 'utf8')) as EvalSummary;
    const b = JSON.parse(readFileSync(join(localDir, 'eval.json'), 'utf8')) as EvalSummary;
    assert.deepEqual(a.reward_acc, b.reward_acc, `${c.variant}/seed-${c.seed}: reward accuracy`);
    assert.deepEqual(metrics(c.dir).map((r) => [r.step, r.phase, r.values.loss]), metrics(localDir).map((r) => [r.step, r.phase, r.values.loss]), `${c.variant}/seed-${c.seed}: logged losses`);
    const env = JSON.parse(readFileSync(join(c.dir, 'env.json'), 'utf8')) as { slurm: { array_job_id: string; array_task_id: string; node: string } | null };
    assert.equal(env.slurm?.array_job_id, jobId, 'env.json records the Slurm job');
    assert.equal(env.slurm?.array_task_id, String(c.index));
    assert.ok(env.slurm?.node);
  }
});

test('scancel marks a cell cancelled, --resume finishes it from its checkpoint; a cell over --time fails with the reason', { skip, timeout: 400_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-slurm-kill-'));
  // Long enough to outlive a 1-minute limit on the cpu backend.
  const exp = experiment(dir, 'kill', 200_000);
  const timed = cli(['submit', exp, '--slurm', '--out', join(dir, 'timed'), '--only', 'bt', '--seed', '0', '--time', '1'], dir);
  assert.equal(timed.code, 0, timed.stderr + timed.stdout);
  const timedGrid = submittedGrid(timed.stdout);

  const short = experiment(dir, 'short', 600);
  const sub = cli(['submit', short, '--slurm', '--out', join(dir, 'cancel'), '--only', 'ava-p', '--seed', '0'], dir);
  assert.equal(sub.code, 0, sub.stderr + sub.stdout);
  const grid = submittedGrid(sub.stdout);
  // Cancel once it has written a checkpoint (every 8 steps).
  await waitFor(grid, (cs) => cs[0].state === 'running' && cs[0].step >= 16, 'cell running', 120_000);
  const cancel = cli(['cancel', grid, '--only', 'ava-p'], dir);
  assert.equal(cancel.code, 0, cancel.stderr);
  const cancelled = await waitFor(grid, (cs) => cs[0].state === 'cancelled', 'cell cancelled', 60_000);
  assert.match(cancelled[0].reason, /CANCELLED/);
  const stoppedAt = cancelled[0].step;
  assert.ok(stoppedAt > 0 && stoppedAt < 600, `stopped at ${stoppedAt}`);
  assert.equal(status(grid)[1].state, 'unsubmitted', 'the cells not selected were never submitted');

  const again = cli(['submit', short, '--slurm', '--resume', grid, '--only', 'ava-p'], dir);
  assert.equal(again.code, 0, again.stderr + again.stdout);
  const finished = await waitFor(grid, (cs) => cs[0].state === 'finished' || cs[0].state === 'failed', 'resumed cell', 180_000);
  assert.equal(finished[0].state, 'finished', JSON.stringify(finished[0]));
  const manifest = JSON.parse(readFileSync(join(grid, 'grid.json'), 'utf8')) as GridManifest;
  assert.equal(manifest.slurm?.submissions.length, 2);
  assert.equal(finished[0].job, `${manifest.slurm!.submissions[1].job_id}_0`, 'the cell now belongs to the second job');
  const log = readFileSync(join(grid, 'slurm', `${manifest.slurm!.submissions[1].job_id}_0.log`), 'utf8');
  assert.match(log, /resumed at step \d+/, log);
  const steps = metrics(finished[0].dir).filter((r) => r.phase === 'train').map((r) => r.step);
  assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b), 'each step logged once, in order, across the resume');

  // Slurm checks limits about every 30 s; KillWait is 5 s in the test cluster.
  const timedOut = await waitFor(timedGrid, (cs) => cs.some((c) => c.state === 'failed'), 'cell over its time limit', 200_000);
  const cell = timedOut.find((c) => c.variant === 'bt' && c.seed === 0)!;
  assert.equal(cell.state, 'failed');
  assert.match(cell.reason, /TIMEOUT/);
  assert.ok(metrics(cell.dir).length > 3, 'every logged metric is kept');
  assert.ok(existsSync(join(cell.dir, 'checkpoints', 'latest.json')), 'the SIGTERM before the kill wrote a checkpoint');
  // With accounting (slurmdbd + MariaDB installed, as in CI) the ended task was read from sacct.
  const kept = (JSON.parse(readFileSync(join(timedGrid, 'grid.json'), 'utf8')) as GridManifest).slurm?.tasks?.[String(cell.index)];
  assert.equal(kept?.state, 'TIMEOUT', 'grid.json keeps the state after Slurm forgets the job');
  if (cluster?.accounting) assert.equal(kept?.source, 'sacct');
});

test('cells that depend on other cells go to Slurm as dependent array jobs, one per stage, and build what a local run builds', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-slurm-afd-'));
  const exp = join(dir, 'afd.ava.yaml');
  writeFileSync(
    exp,
    `name: afd
seeds: [0]
engine: { backend: cpu }
data:
  task: harmless
  task_options: { n_train: 48, n_eval: 16, noise: 0.1, seed: 3 }
model: { n_layer: 1, n_head: 2, d_model: 16, context: 32, pref_attn_dim: 16 }
objective: { kind: ava-p }
train: { steps: 8, pretrain_steps: 8, batch_size: 8, lr: 0.003, warmup_steps: 2, log_every: 4, eval_every: 0 }
eval: { dump_token_rewards: 2 }
ablations:
  init: { objective: { kind: dpo }, train: { steps: 0 } }
  sft: { objective: { kind: sft }, model: { init_from: "cell:init" }, train: { pretrain_steps: 0 } }
  dpo w/ afd: { objective: { kind: dpo }, data: { afd: { init: init, sft: sft, max_new_tokens: 6 } }, model: { init_from: "cell:init" }, train: { pretrain_steps: 0 } }
`,
  );
  const sub = cli(['submit', exp, '--slurm', '--out', join(dir, 'slurm-grid'), '--time', '10'], dir);
  assert.equal(sub.code, 0, sub.stderr + sub.stdout);
  const grid = submittedGrid(sub.stdout);
  const manifest = JSON.parse(readFileSync(join(grid, 'grid.json'), 'utf8')) as GridManifest;
  const subs = manifest.slurm!.submissions;
  assert.deepEqual(subs.map((s) => s.cells), [[0], [1], [2]]);
  for (const k of [1, 2]) assert.match(readFileSync(join(grid, subs[k].script), 'utf8'), new RegExp(`^#SBATCH --dependency=afterok:${subs[k - 1].job_id}$`, 'm'));
  const cells = await waitFor(grid, (cs) => cs.every((c) => c.state === 'finished' || c.state === 'failed'), 'dependent grid through Slurm', 240_000);
  assert.deepEqual(cells.map((c) => c.state), ['finished', 'finished', 'finished'], JSON.stringify(cells));

  const local = cli(['run', exp, '--out', join(dir, 'local-grid'), '--jobs', '1'], dir);
  assert.equal(local.code, 0, local.stderr);
  const pairs = (g: string) => readFileSync(join(g, 'dpo-w-afd', 'seed-0', 'afd-pairs.jsonl'), 'utf8');
  assert.equal(pairs(grid), pairs(join(dir, 'local-grid')), 'the same AfD pairs through Slurm as locally');
  assert.deepEqual(metrics(join(grid, 'dpo-w-afd', 'seed-0')).map((r) => r.values.loss), metrics(join(dir, 'local-grid', 'dpo-w-afd', 'seed-0')).map((r) => r.values.loss));
});
