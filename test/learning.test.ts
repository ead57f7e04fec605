/**
 * The method learns: AVA-p trained from scratch on the built-in `harmless` task ranks held-out
 * pairs well above chance. A small model and 200 steps (about a minute on one core) are enough
 * for the lower end of the 95% interval to clear 55%; the best a perfect model can score on
 * these noisy labels is 90%. This trains for real: it can fail, and it fails if the objectives,
 * the model, the data or the trainer break in a way that stops learning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalSummary } from '../src/protocol/events.js';

const ROOT = join(import.meta.dirname, '..');

test('AVA-p learns the harmless task well above chance', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-learn-'));
  const exp = join(dir, 'learn.ava.yaml');
  writeFileSync(
    exp,
    `name: learn
engine: { backend: wasm }
data: { task: harmless, task_options: { n_train: 1000, n_eval: 200, seed: 1 } }
model: { n_layer: 1, n_head: 2, d_model: 32, context: 40, pref_attn_dim: 32 }
train: { steps: 200, batch_size: 16, lr: 3.0e-3, eval_every: 0, log_every: 50, checkpoint_every: 0 }
eval: { dump_token_rewards: 4 }
`,
  );
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts'), 'run', exp, '--out', join(dir, 'g')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(dir, 'g/base/seed-0/eval.json'), 'utf8')) as EvalSummary;
  assert.equal(summary.reward_acc!.n, 200);
  assert.ok(Math.abs(summary.best_possible_acc! - 0.9) < 1e-9, String(summary.best_possible_acc));
  assert.ok(summary.reward_acc!.lo > 0.55, `reward accuracy ${summary.reward_acc!.value} [${summary.reward_acc!.lo}, ${summary.reward_acc!.hi}]`);
  assert.ok(summary.gold_acc!.value > 0.6, `gold accuracy ${summary.gold_acc!.value}`);
});
