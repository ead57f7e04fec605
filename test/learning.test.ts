/**
 * The method learns every built-in task: AVA-p trained from scratch ranks held-out pairs well
 * above chance. A small model (1 layer, 32 wide) and 200 steps on 1,000 pairs (about 10-20 s
 * per task on one core) are enough for the lower end of the 95% interval to clear 55%; the
 * best a perfect model can score on these noisy labels (10% flipped) is 90%. These train for
 * real: they can fail, and they fail if the objectives, the model, the data, the tasks or the
 * trainer break in a way that stops learning. Seeds are fixed. Under the default recipe
 * (`robust`) AVA-p scored 82.0 % (harmless), 76.5 % (helpful) and 83.5 % (summary) here; with
 * the `paper` recipe run seeds 0-5 scored 69-80 %, 67-77 % and 68-74 %.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EvalSummary } from '../src/protocol/events.js';

const ROOT = join(import.meta.dirname, '..');
const run = promisify(execFile);

function experimentYaml(task: string, objective: string): string {
  return `name: learn-${task}
engine: { backend: wasm }
data: { task: ${task}, task_options: { n_train: 1000, n_eval: 200, seed: 1 } }
model: { n_layer: 1, n_head: 2, d_model: 32, context: 40, pref_attn_dim: 32 }
objective: { kind: ava-p${objective} }
train: { steps: 200, batch_size: 16, lr: 3.0e-3, eval_every: 0, log_every: 50, checkpoint_every: 0 }
eval: { dump_token_rewards: 4 }
`;
}

/** Trains AVA-p on a built-in task through the CLI and returns its final eval.json. */
async function trainAvaP(task: string, objective = ''): Promise<EvalSummary> {
  const dir = mkdtempSync(join(tmpdir(), `ava-learn-${task}-`));
  try {
    const exp = join(dir, 'learn.ava.yaml');
    writeFileSync(exp, experimentYaml(task, objective));
    const cli = [join(ROOT, 'src/cli/main.ts'), 'run', exp, '--out', join(dir, 'g')];
    await run(process.execPath, ['--import', import.meta.resolve('tsx'), ...cli], { maxBuffer: 16 << 20 });
    return JSON.parse(readFileSync(join(dir, 'g/base/seed-0/eval.json'), 'utf8')) as EvalSummary;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const byTask = new Map<string, Promise<EvalSummary>>();
const defaultRun = (task: string) => byTask.get(task) ?? (byTask.set(task, trainAvaP(task)), byTask.get(task)!);

describe('AVA-p learns each built-in task well above chance', { concurrency: true }, () => {
  for (const task of ['harmless', 'helpful', 'summary']) {
    test(task, async (t) => {
      const summary = await defaultRun(task);
      t.diagnostic(`reward accuracy ${summary.reward_acc!.value} [${summary.reward_acc!.lo.toFixed(3)}, ${summary.reward_acc!.hi.toFixed(3)}], gold accuracy ${summary.gold_acc!.value}`);
      assert.equal(summary.task, task);
      assert.equal(summary.reward_acc!.n, 200);
      assert.ok(Math.abs(summary.best_possible_acc! - 0.9) < 1e-9, String(summary.best_possible_acc));
      assert.ok(summary.reward_acc!.lo > 0.55, `reward accuracy ${summary.reward_acc!.value} [${summary.reward_acc!.lo}, ${summary.reward_acc!.hi}]`);
      assert.ok(summary.gold_acc!.value > 0.6, `gold accuracy ${summary.gold_acc!.value}`);
    });
  }
});

/**
 * Spec §5: under `td_reward_alignment: state` (Eq. 9 literal, the `paper` recipe) the reward
 * paired with a token is computed before the model has seen that token, so per-token rewards
 * can hardly match the gold per-token rewards; `next_state` (the `robust` recipe) lets them.
 * The same runs as above for `next_state` (the default recipe); two more with `state`. Measured:
 * r 0.82 (next_state) against 0.05 (state) on harmless, 0.57 against 0.17 on helpful.
 */
describe('per-token rewards match the gold token rewards only with next_state alignment', { concurrency: true }, () => {
  for (const task of ['harmless', 'helpful']) {
    test(task, async (t) => {
      const [state, next] = await Promise.all([trainAvaP(task, ', td_reward_alignment: state'), defaultRun(task)]);
      const [rs, rn] = [state.token_attribution!, next.token_attribution!];
      t.diagnostic(`Pearson r of token rewards with gold: state ${rs.pearson}, next_state ${rn.pearson} (${rn.tokens} tokens)`);
      assert.ok(rs.tokens > 1000 && rs.tokens === rn.tokens, `${rs.tokens} / ${rn.tokens} tokens`);
      assert.ok(rn.pearson! > 0.35, `next_state r = ${rn.pearson}`);
      assert.ok(rn.pearson! > rs.pearson! + 0.2, `next_state r = ${rn.pearson} against state r = ${rs.pearson}`);
    });
  }
});
