/**
 * AfD pairs (spec §6.5): which side each mode takes from where, and end to end through the CLI:
 * an initial policy (LM warm-up on sampled responses) and an SFT policy (on the task's solver
 * demonstrations) make init_sft pairs whose chosen side has the higher gold almost always, and
 * the pairs file trains a pairwise objective evaluated on the task's own held-out pairs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AFD_MODES, afdPolicies, afdRows } from '../src/core/generate/afd.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts')];
const cli = (args: string[], cwd: string) => {
  const r = spawnSync(CLI[0], [...CLI.slice(1), ...args], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('each mode takes chosen and rejected from where spec §6.5 says', () => {
  const demos = [{ prompt: 'p', response: 'demo' }];
  const samples = { init: ['from init'], sft: ['from sft'] };
  const pick = (mode: keyof typeof AFD_MODES) => afdRows(demos, samples, mode)[0];
  assert.deepEqual([pick('init_sft').chosen, pick('init_sft').rejected], ['from sft', 'from init']);
  assert.deepEqual([pick('init_demo').chosen, pick('init_demo').rejected], ['demo', 'from init']);
  assert.deepEqual([pick('sft_demo').chosen, pick('sft_demo').rejected], ['demo', 'from sft']);
  assert.deepEqual(afdPolicies('init_demo'), ['init']);
  assert.deepEqual(afdPolicies('init_sft'), ['init', 'sft']);
  assert.throws(() => afdRows(demos, { init: [] }, 'init_sft'), /needs one sft sample per demonstration/);
  const scored = afdRows(demos, samples, 'init_demo', (_p, r) => r.length);
  assert.deepEqual(scored[0].afd, { mode: 'init_demo', chosen_from: 'demo', rejected_from: 'init', gold: { chosen: 4, rejected: 9 } });
});

test('AfD end to end: init_sft pairs agree with the gold, and train DPO / AVA-p evaluated on real pairs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-afd-'));
  try {
    assert.equal(cli(['data', 'make', 'harmless', '--out', 'D', '--n-train', '300', '--n-eval', '60'], dir).code, 0);
    const base = 'seeds: [0]\nengine: { backend: wasm }\nmodel: { n_layer: 1, n_head: 2, d_model: 32, context: 32, pref_attn_dim: 16 }\neval: { dump_token_rewards: 0 }\n';
    const train = (steps: number, pre: number) => `train: { steps: ${steps}, pretrain_steps: ${pre}, batch_size: 16, lr: 0.003, warmup_steps: 5, log_every: 50, eval_every: 0, checkpoint_every: ${steps} }\n`;
    writeFileSync(join(dir, 'init.ava.yaml'), `name: init\n${base}data: { train: D/train.jsonl, eval: D/eval.jsonl }\nobjective: { kind: sft }\n${train(1, 60)}`);
    writeFileSync(join(dir, 'sft.ava.yaml'), `name: sft\n${base}data: { train: D/demos.jsonl, format: demonstration }\nobjective: { kind: sft }\n${train(150, 0)}`);
    for (const e of ['init', 'sft']) assert.equal(cli(['run', `${e}.ava.yaml`, '--out', `G-${e}`], dir).code, 0, e);
    const afd = cli(['afd', 'D/demos.jsonl', '--init', 'G-init/base/seed-0', '--sft', 'G-sft/base/seed-0', '--task', 'harmless', '--out', 'pairs.jsonl'], dir);
    assert.equal(afd.code, 0, afd.stderr);
    const rows = readFileSync(join(dir, 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 300);
    const agree = rows.filter((r) => r.afd.gold.chosen > r.afd.gold.rejected).length / rows.length;
    // SFT on the solver's demonstrations answers far better than the warm-up policy it started from.
    assert.ok(agree > 0.85, `the SFT sample has the higher gold in ${agree} of the pairs`);
    assert.match(afd.stdout, /the chosen side is better in \d+\.\d % of the pairs/);
    const missing = cli(['afd', 'D/demos.jsonl', '--init', 'G-init/base/seed-0', '--out', 'x.jsonl'], dir);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--mode init_sft samples from π_SFT: give --sft RUN_DIR/);
    writeFileSync(join(dir, 'dpo.ava.yaml'), `name: afd\n${base}data: { train: pairs.jsonl, eval: D/eval.jsonl }\n${train(60, 30)}ablations:\n  DPO w/ AfD: { objective: { kind: dpo } }\n  AVA-p w/ AfD: { objective: { kind: ava-p } }\n`);
    assert.equal(cli(['run', 'dpo.ava.yaml', '--out', 'G-afd', '--jobs', '2'], dir).code, 0);
    for (const v of ['DPO-w-AfD', 'AVA-p-w-AfD']) {
      const summary = JSON.parse(readFileSync(join(dir, 'G-afd', v, 'seed-0', 'eval.json'), 'utf8'));
      assert.equal(summary.reward_acc.n, 60, `${v} is evaluated on the task's held-out pairs`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
