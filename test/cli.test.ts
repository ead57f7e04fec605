/**
 * The `ava-lab` CLI end to end, as a process (from source, through tsx): a tiny grid trains,
 * writes its run directory, stops cleanly on SIGTERM and resumes to the same result, and bad
 * input gets one clear error with a non-zero exit and no complete-looking run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEvent, type BackendEvent, type EvalSummary, type LineRewards, type MetricRecord } from '../src/protocol/events.js';

const ROOT = join(import.meta.dirname, '..');
// tsx by absolute URL: the CLI runs in temporary folders, and its --jobs children inherit these flags.
const CLI = [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts')];

function cli(args: string[], cwd: string) {
  const r = spawnSync(CLI[0], [...CLI.slice(1), ...args], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function events(stdout: string): BackendEvent[] {
  return stdout.split('\n').filter((l) => l.trim()).map((l) => {
    const e = decodeEvent(l);
    assert.ok(e, `stdout line is not a protocol event: ${l}`);
    return e;
  });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'ava-cli-'));
}

/** A grid small enough to train in seconds: AVA-p and Bradley-Terry on the `helpful` task. */
function tinyExperiment(dir: string, extra = '', steps = 24): string {
  const file = join(dir, 'tiny.ava.yaml');
  writeFileSync(
    file,
    `name: tiny
seeds: [0]
engine: { backend: cpu }
data:
  task: helpful
  task_options: { n_train: 64, n_eval: 32, noise: 0.1, seed: 3 }
model: { n_layer: 1, n_head: 2, d_model: 16, context: 48, pref_attn_dim: 16 }
train: { steps: ${steps}, batch_size: 8, lr: 0.003, warmup_steps: 2, log_every: 4, eval_every: 12, checkpoint_every: 8 }
eval: { dump_token_rewards: 4 }
ablations:
  ava-p: {}
  bt: { objective: { kind: bt } }
${extra}`,
  );
  return file;
}

function gridDirOf(evs: BackendEvent[]): string {
  const start = evs.find((e) => e.type === 'grid_start');
  assert.ok(start && start.type === 'grid_start');
  return start.grid_dir;
}

function readMetrics(runDir: string): MetricRecord[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricRecord);
}

/** Metric values without the wall-clock ones. */
function trainValues(runDir: string) {
  return readMetrics(runDir).filter((r) => r.phase === 'train').map((r) => {
    const { tokens_per_s: _t, num_tensors: _n, ...v } = r.values;
    return { step: r.step, ...v };
  });
}

test('run: a two-variant grid writes complete run directories and a protocol stream', () => {
  const dir = tmp();
  const r = cli(['run', tinyExperiment(dir), '--out', join(dir, 'grid'), '--json', '--jobs', '1'], dir);
  assert.equal(r.code, 0, r.stderr);
  const evs = events(r.stdout);
  const types = evs.map((e) => e.type);
  for (const t of ['hello', 'grid_start', 'run_start', 'metrics', 'checkpoint', 'eval', 'run_end', 'grid_end'] as const) if (t !== 'hello') assert.ok(types.includes(t), `missing ${t} event`);
  assert.equal(types.at(-1), 'grid_end');
  const grid = gridDirOf(evs);
  assert.deepEqual(JSON.parse(readFileSync(join(grid, 'grid.json'), 'utf8')).cells.map((c: { variant: string }) => c.variant), ['ava-p', 'bt']);
  for (const variant of ['ava-p', 'bt']) {
    const run = join(grid, variant, 'seed-0');
    for (const f of ['config.yaml', 'env.json', 'status.json', 'metrics.jsonl', 'eval.json', 'token_rewards.jsonl', 'checkpoints/latest.json']) assert.ok(existsSync(join(run, f)), `${variant}: missing ${f}`);
    assert.equal(JSON.parse(readFileSync(join(run, 'status.json'), 'utf8')).status, 'finished');
    const env = JSON.parse(readFileSync(join(run, 'env.json'), 'utf8'));
    assert.equal(env.engine.backend, 'cpu');
    assert.equal(env.seed, 0);
    const metrics = readMetrics(run);
    assert.deepEqual(metrics.filter((m) => m.phase === 'train').map((m) => m.step), [4, 8, 12, 16, 20, 24]);
    // No tensor leaks across steps, evaluations and checkpoints.
    assert.equal(new Set(metrics.filter((m) => m.phase === 'train').map((m) => m.values.num_tensors)).size, 1, `${variant}: tensor count changed`);
    const summary = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')) as EvalSummary;
    assert.equal(summary.reward_acc?.n, 32);
    assert.ok(summary.reward_acc!.lo <= summary.reward_acc!.value && summary.reward_acc!.value <= summary.reward_acc!.hi);
    assert.ok(summary.best_possible_acc! > 0.8 && summary.best_possible_acc! <= 1);
  }
  const ava = join(grid, 'ava-p', 'seed-0');
  const terms = Object.keys(readMetrics(ava).find((m) => m.phase === 'train')!.values);
  for (const t of ['loss', 'nll', 'neg', 'kl', 'td', 'cer']) assert.ok(terms.includes(t), `AVA-p metrics lack ${t}: ${terms}`);
  const dump = readFileSync(join(ava, 'token_rewards.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LineRewards);
  assert.equal(dump.length, 4);
  assert.ok(dump[0].chosen!.tokens.length > 0 && dump[0].chosen!.tokens.every((t) => Number.isFinite(t.mean) && t.std > 0));
  // Attribution quality over every eval pair (both responses) for the per-token objective only.
  const ta = (JSON.parse(readFileSync(join(ava, 'eval.json'), 'utf8')) as EvalSummary).token_attribution!;
  assert.equal(ta.sequences, 2 * 32);
  assert.ok(ta.tokens > ta.sequences, `${ta.tokens} tokens`);
  for (const r of [ta.pearson, ta.spearman, ta.pearson_weighted, ta.spearman_weighted]) assert.ok(r !== null && r >= -1 && r <= 1, String(r));
  assert.equal((JSON.parse(readFileSync(join(grid, 'bt', 'seed-0', 'eval.json'), 'utf8')) as EvalSummary).token_attribution, undefined);
});

test('run: the same seed and backend give the same metrics', () => {
  const dir = tmp();
  const exp = tinyExperiment(dir, '', 8);
  const a = cli(['run', exp, '--out', join(dir, 'a'), '--only', 'ava-p'], dir);
  const b = cli(['run', exp, '--out', join(dir, 'b'), '--only', 'ava-p'], dir);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(trainValues(join(dir, 'a/ava-p/seed-0')), trainValues(join(dir, 'b/ava-p/seed-0')));
});

test('run: SIGTERM checkpoints and marks the run stopped; --resume ends where an uninterrupted run ends', async () => {
  const dir = tmp();
  const exp = tinyExperiment(dir, '', 40);
  const straight = cli(['run', exp, '--out', join(dir, 'straight'), '--only', 'ava-p'], dir);
  assert.equal(straight.code, 0, straight.stderr);

  const grid = join(dir, 'stopped');
  const child = spawn(CLI[0], [...CLI.slice(1), 'run', exp, '--out', grid, '--only', 'ava-p', '--json'], { cwd: dir });
  let out = '';
  const code = await new Promise<number | null>((done) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      // Stop once a few steps are logged, well before the end.
      if (/"type":"metrics".*"step":12/.test(out) && !child.killed) child.kill('SIGTERM');
    });
    child.on('close', done);
  });
  assert.equal(code, 130);
  const run = join(grid, 'ava-p', 'seed-0');
  const status = JSON.parse(readFileSync(join(run, 'status.json'), 'utf8'));
  assert.equal(status.status, 'stopped');
  assert.ok(status.step >= 12 && status.step < 40, `stopped at ${status.step}`);
  assert.ok(!existsSync(join(run, 'eval.json')), 'a stopped run must not look evaluated');
  assert.equal(JSON.parse(readFileSync(join(run, 'checkpoints/latest.json'), 'utf8')).step, status.step);

  const resumed = cli(['run', exp, '--resume', grid, '--only', 'ava-p', '--json'], dir);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(events(resumed.stdout).some((e) => e.type === 'run_start' && e.resumed_from === status.step));
  assert.equal(JSON.parse(readFileSync(join(run, 'status.json'), 'utf8')).status, 'finished');
  assert.deepEqual(trainValues(run), trainValues(join(dir, 'straight/ava-p/seed-0')));
});

test('eval and rewards read a trained run', () => {
  const dir = tmp();
  const r = cli(['run', tinyExperiment(dir, '', 8), '--out', join(dir, 'g'), '--only', 'ava-p', '--json'], dir);
  assert.equal(r.code, 0, r.stderr);
  const run = join(dir, 'g/ava-p/seed-0');
  const evalFile = readdirSync(join(dir, 'g/data')).map((d) => join(dir, 'g/data', d, 'eval.jsonl'))[0];
  const ev = cli(['eval', run, evalFile, '--json'], dir);
  assert.equal(ev.code, 0, ev.stderr);
  const e = events(ev.stdout).find((x) => x.type === 'eval');
  assert.ok(e && e.type === 'eval' && e.summary.reward_acc?.n === 32);
  // The CLI's eval reproduces the run's own final evaluation.
  const final = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')) as EvalSummary;
  assert.equal(e.summary.reward_acc!.value, final.reward_acc!.value);
  assert.deepEqual(e.summary.token_attribution, final.token_attribution);
  assert.match(ev.stdout, /"token_attribution"/);

  const rw = cli(['rewards', run, evalFile, '--line', '2', '--json'], dir);
  assert.equal(rw.code, 0, rw.stderr);
  const res = events(rw.stdout).find((x) => x.type === 'rewards');
  assert.ok(res && res.type === 'rewards');
  assert.equal(res.result.line, 2);
  const dumped = readFileSync(join(run, 'token_rewards.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LineRewards).find((l) => l.line === 2)!;
  assert.deepEqual(res.result.chosen!.tokens.map((t) => t.token), dumped.chosen!.tokens.map((t) => t.token));
  res.result.chosen!.tokens.forEach((t, i) => assert.ok(Math.abs(t.mean - dumped.chosen!.tokens[i].mean) < 1e-5));
});

test('data make writes a task that is byte-identical for the same seed', () => {
  const dir = tmp();
  for (const out of ['a', 'b']) assert.equal(cli(['data', 'make', 'summary', '--out', join(dir, out), '--seed', '5', '--n-train', '20', '--n-eval', '10'], dir).code, 0);
  for (const f of ['train.jsonl', 'eval.jsonl', 'task.json']) assert.equal(readFileSync(join(dir, 'a', f), 'utf8'), readFileSync(join(dir, 'b', f), 'utf8'));
  const bad = cli(['data', 'make', 'nope', '--out', join(dir, 'c')], dir);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /harmless.*helpful.*summary|known/);
});

// ---- bad input: one clear error, non-zero exit, no stack trace, no run that looks complete ----

function expectCleanError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at .+\(.+:\d+:\d+\)/, 'stack trace printed');
}

function noFinishedRun(root: string) {
  if (!existsSync(root)) return;
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  for (const f of walk(root).filter((f) => f.endsWith('status.json'))) assert.notEqual(JSON.parse(readFileSync(f, 'utf8')).status, 'finished', f);
  assert.ok(!walk(root).some((f) => f.endsWith('eval.json')), 'an eval.json was written');
}

test('bad input: malformed YAML names file:line:column', () => {
  const dir = tmp();
  const f = join(dir, 'bad.ava.yaml');
  writeFileSync(f, 'name: x\nmodel: { n_layer: 2\n');
  expectCleanError(cli(['run', f, '--out', join(dir, 'g')], dir), /bad\.ava\.yaml:\d+:\d+/);
  noFinishedRun(join(dir, 'g'));
});

test('bad input: an unknown key gets a did-you-mean', () => {
  const dir = tmp();
  const f = join(dir, 'typo.ava.yaml');
  writeFileSync(f, 'name: x\ndata: { task: helpful }\nobjective:\n  kl_coeff: 2\n');
  const r = cli(['run', f, '--out', join(dir, 'g')], dir);
  expectCleanError(r, /typo\.ava\.yaml:4:3.*kl_coeff.*kl_coef/);
  noFinishedRun(join(dir, 'g'));
});

function fileExperiment(dir: string, train: string, extra = ''): string {
  const f = join(dir, 'files.ava.yaml');
  writeFileSync(f, `name: files\nengine: { backend: cpu }\ndata: { train: ${train}, eval: ${train}${extra} }\nmodel: { n_layer: 1, n_head: 2, d_model: 16, context: 24, pref_attn_dim: 16 }\ntrain: { steps: 4, batch_size: 2, log_every: 2 }\n`);
  return f;
}

const ROW = (i: number) => JSON.stringify({ prompt: `question ${i}`, chosen: `good answer ${i}`, rejected: `bad answer ${i}` });

test('bad input: a missing dataset is named', () => {
  const dir = tmp();
  expectCleanError(cli(['run', fileExperiment(dir, 'nowhere.jsonl'), '--out', join(dir, 'g')], dir), /nowhere\.jsonl/);
  noFinishedRun(join(dir, 'g'));
});

test('bad input: an empty dataset is refused', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'empty.jsonl'), '');
  expectCleanError(cli(['run', fileExperiment(dir, 'empty.jsonl'), '--out', join(dir, 'g')], dir), /empty\.jsonl.*(empty|no usable)/);
  noFinishedRun(join(dir, 'g'));
});

test('bad input: a malformed JSONL line fails with its line number, or is skipped and counted', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'd.jsonl'), [ROW(1), ROW(2), '{"prompt": "x", "chosen": ', ROW(4), ROW(5)].join('\n') + '\n');
  expectCleanError(cli(['run', fileExperiment(dir, 'd.jsonl'), '--out', join(dir, 'g')], dir), /d\.jsonl:3/);
  noFinishedRun(join(dir, 'g'));
  const skip = cli(['run', fileExperiment(dir, 'd.jsonl', ', on_bad_line: skip'), '--out', join(dir, 'h')], dir);
  assert.equal(skip.code, 0, skip.stderr);
  assert.match(skip.stderr, /skipped 2 malformed line/);
});

test('bad input: non-UTF-8 text is refused with its line', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'latin1.jsonl'), Buffer.concat([Buffer.from(ROW(1) + '\n'), Buffer.from('{"prompt": "caf'), Buffer.from([0xe9]), Buffer.from('", "chosen": "a", "rejected": "b"}\n')]));
  expectCleanError(cli(['run', fileExperiment(dir, 'latin1.jsonl'), '--out', join(dir, 'g')], dir), /latin1\.jsonl:2.*UTF-8/i);
  noFinishedRun(join(dir, 'g'));
});

test('bad input: a sequence over the context fails under truncation: fail', () => {
  const dir = tmp();
  const long = JSON.stringify({ prompt: 'p', chosen: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '), rejected: 'short' });
  writeFileSync(join(dir, 'long.jsonl'), [ROW(1), long, ROW(3)].join('\n') + '\n');
  expectCleanError(cli(['run', fileExperiment(dir, 'long.jsonl', ', truncation: fail'), '--out', join(dir, 'g')], dir), /long\.jsonl:2.*context/);
  noFinishedRun(join(dir, 'g'));
});

test('bad input: a non-finite loss stops the run with a diagnosis', () => {
  const dir = tmp();
  // σ ≤ e^-100 underflows: the TD term's (δ−μ)²/σ² is infinite at the first step.
  const f = tinyExperiment(dir, '').replace('', '');
  writeFileSync(f, readFileSync(f, 'utf8').replace('pref_attn_dim: 16 }', 'pref_attn_dim: 16, log_sigma_min: -101, log_sigma_max: -100 }'));
  const r = cli(['run', f, '--out', join(dir, 'g'), '--only', 'ava-p'], dir);
  expectCleanError(r, /non-finite loss at train step 1 .*td=/);
  const status = JSON.parse(readFileSync(join(dir, 'g/ava-p/seed-0/status.json'), 'utf8'));
  assert.equal(status.status, 'failed');
  noFinishedRun(join(dir, 'g'));
});

test('run: every objective trains through the CLI and logs its own loss terms', () => {
  const dir = tmp();
  const f = join(dir, 'all.ava.yaml');
  writeFileSync(
    f,
    `name: all
engine: { backend: cpu }
data: { task: harmless, task_options: { n_train: 32, n_eval: 16 } }
model: { n_layer: 1, n_head: 2, d_model: 16, context: 40, pref_attn_dim: 16 }
train: { steps: 4, batch_size: 4, log_every: 2, eval_every: 0, checkpoint_every: 0 }
eval: { dump_token_rewards: 2 }
ablations:
  ava-d: { objective: { kind: ava-d } }
  pt: { objective: { kind: pt } }
  sft: { objective: { kind: sft } }
  dpo: { objective: { kind: dpo } }
  w/o ptq: { model: { q_head: fresh } }
`,
  );
  const r = cli(['run', f, '--out', join(dir, 'g'), '--jobs', '1'], dir);
  assert.equal(r.code, 0, r.stderr);
  const expected: Record<string, string[]> = { 'ava-d': ['nll', 'kl', 'td'], pt: ['pt'], sft: ['sft'], dpo: ['dpo'], 'w-o-ptq': ['nll', 'neg', 'kl', 'td', 'cer'] };
  for (const [variant, terms] of Object.entries(expected)) {
    const run = join(dir, 'g', variant, 'seed-0');
    assert.equal(JSON.parse(readFileSync(join(run, 'status.json'), 'utf8')).status, 'finished', variant);
    const train = readMetrics(run).filter((m) => m.phase === 'train');
    for (const t of terms) assert.ok(train.every((m) => Number.isFinite(m.values[t])), `${variant}: ${t} missing or not finite`);
    assert.equal((JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')) as EvalSummary).reward_acc?.n, 16, variant);
  }
  // DPO's checkpoint keeps the frozen reference beside the policy (spec §6.3).
  const meta = JSON.parse(readFileSync(join(dir, 'g/dpo/seed-0/checkpoints', JSON.parse(readFileSync(join(dir, 'g/dpo/seed-0/checkpoints/latest.json'), 'utf8')).path, 'meta.json'), 'utf8'));
  const names: string[] = meta.tensors.map((t: { name: string }) => t.name);
  assert.ok(names.includes('wte.weight') && names.includes('reference/wte.weight'));
});

test('run: a killed process leaves every logged line readable and the run not finished', async () => {
  const dir = tmp();
  const grid = join(dir, 'killed');
  const child = spawn(CLI[0], [...CLI.slice(1), 'run', tinyExperiment(dir, '', 400), '--out', grid, '--only', 'ava-p', '--json'], { cwd: dir });
  let out = '';
  await new Promise<void>((done) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (/"type":"metrics".*"step":16/.test(out) && !child.killed) child.kill('SIGKILL');
    });
    child.on('close', () => done());
  });
  const run = join(grid, 'ava-p', 'seed-0');
  const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  assert.ok(lines.length >= 4);
  for (const l of lines) JSON.parse(l); // every line is whole
  const status = JSON.parse(readFileSync(join(run, 'status.json'), 'utf8'));
  assert.equal(status.status, 'running');
  const { effectiveStatus } = await import('../src/core/run/status.js');
  assert.deepEqual(effectiveStatus(status), { status: 'failed', interrupted: true });
  assert.ok(!existsSync(join(run, 'eval.json')));
});
