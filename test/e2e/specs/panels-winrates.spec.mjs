// Win rates: train an SFT generator and a Bradley-Terry reward model from the CodeLens; the run
// ends with the win-rate stage (Best-of-N and a short PPO); the Runs view lists the PPO run and
// its dashboard charts TRL's metrics; the Win rates panel shows its bars, a win rate equal to the
// report's, the judged prompts of a comparison and both answers of one prompt side by side,
// coloured by the AVA reward model's per-token rewards or by the gold.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test } from '../harness.mjs';
import { chartPoints, choose, panel, readJson, readJsonl, runDirOf, waitUntil } from './panels-common.mjs';

const EXPERIMENT = `# Best-of-N by a Bradley-Terry reward model and by the gold, against one SFT sample (e2e test).
name: winrates
seeds: [0]
data:
  task: harmless
  task_options: { n_train: 400, n_eval: 40, noise: 0.1, seed: 0 }
tokenizer: { kind: word }
model: { n_layer: 1, n_head: 2, d_model: 32, context: 24, pref_attn_dim: 16 }
train: { steps: 120, batch_size: 16, lr: 3.0e-3, log_every: 20, eval_every: 120, checkpoint_every: 120 }
eval: { dump_token_rewards: 0 }
ablations:
  sft: { objective: { kind: sft } }
  bt: { objective: { kind: bt } }
  ava: { objective: { kind: ava-p } }
winrates:
  generator: sft
  prompts: 30
  bon_n: 8
  max_new_tokens: 10
  ppo: { steps: 4, batch_size: 8, mini_batches: 2 }
  compare: [bon:bt vs stochastic, bon:gold vs stochastic, ppo:bt vs stochastic]
`;

test('Win rates panel: bars from the report, judged prompts, both answers side by side', async (vs) => {
  writeFileSync(join(vs.workspace, 'winrates.ava.yaml'), EXPERIMENT);
  await vs.openFile('winrates.ava.yaml');
  // The CodeLens above `winrates:` runs the grid (there is none yet), which ends with the stage.
  const lens = vs.page.locator('.codelens-decoration a').filter({ hasText: 'Compute Win Rates' });
  await lens.first().waitFor({ timeout: 30_000 });
  await lens.first().click();
  const grid = await waitUntil('the grid folder', () => dirname(dirname(runDirOf(vs, 'winrates', join('sft', 'seed-0')))), { timeoutMs: 60_000 });
  const reportFile = join(grid, 'winrates', 'winrates.json');
  await waitUntil('the win-rate report', () => existsSync(reportFile), { timeoutMs: 240_000 });
  const report = readJson(reportFile);

  // The PPO run of the stage is a row of the grid in the Runs view; a click opens its dashboard.
  await vs.openRunsView();
  const ppoRow = await vs.waitForRunsRow('ppo:bt/seed-0', /PPO · gold -?\d/, { timeoutMs: 30_000 });
  const ppoMetrics = readJsonl(join(grid, 'winrates', 'seed-0', 'ppo-bt', 'metrics.jsonl'));
  expect(ppoRow.includes(`gold ${ppoMetrics.at(-1).values['objective/gold'].toFixed(3)}`), `the row shows the last iteration's gold (${ppoRow})`);
  await vs.runsRow('ppo:bt/seed-0').click();
  const dash = await panel(vs, 'chart-ppo-rewards');
  expect((await vs.page.locator('.tabs-container .tab', { hasText: 'Run: ppo:bt/seed-0' }).count()) === 1, 'the dashboard tab names the PPO run');
  const points = await waitUntil('the PPO reward curve', async () => {
    const p = await chartPoints(dash, 'chart-ppo-rewards');
    return (p['objective/scores'] ?? []).length === 4 ? p : undefined;
  });
  expect(points['objective/scores'][3][1] === ppoMetrics[3].values['objective/scores'], 'the chart plots metrics.jsonl');
  expect((await dash.getByTestId('chart-metric-train-objective/kl').count()) === 1, 'KL has a chart of its own');

  await vs.command('AVA Lab: Show Win Rates');
  await vs.pick('winrates');
  const web = await panel(vs, 'winrates-table');
  const row = web.locator('[data-testid="winrate-row"][data-comparison="bon:gold vs stochastic"]');
  await row.waitFor();
  const gold = report.comparisons.find((c) => c.text === 'bon:gold vs stochastic');
  const shown = await row.getByTestId('winrate-win').textContent();
  expect(shown === `win ${(100 * gold.mean.win).toFixed(1)}`, `the panel's win rate (${shown}) is the report's (${gold.mean.win})`);
  expect(gold.mean.lose === 0, 'the best of 8 by the gold never loses to one of the 8');
  const widths = await row.locator('.wtl-bar').evaluate((bar) => [...bar.children].map((c) => c.getBoundingClientRect().width / bar.getBoundingClientRect().width));
  expect(Math.abs(widths[0] - gold.mean.win) < 0.02, `the win segment spans the win share of the bar (${widths[0].toFixed(3)} vs ${gold.mean.win})`);

  await row.click();
  const prompts = web.getByTestId('judged-prompt');
  await waitUntil('the judged prompts', async () => (await prompts.count()) === 30);
  const verdicts = readJsonl(join(grid, 'winrates', 'seed-0', 'verdicts.jsonl')).filter((v) => v.comparison === 'bon:gold vs stochastic');
  const first = await prompts.first().getAttribute('data-verdict');
  expect(first === verdicts[0].verdict, `prompt 1's verdict is the file's (${first} vs ${verdicts[0].verdict})`);
  await prompts.first().click();
  const a = web.getByTestId('answer-a');
  await a.waitFor();
  // Coloured by the per-token rewards of the grid's AVA reward model, read from verdicts.jsonl.
  await web.locator('[data-testid="answer-a"][data-colour="model"]').waitFor();
  const means = await a.getByTestId('token').evaluateAll((ts) => ts.map((t) => Number(t.getAttribute('data-mean'))));
  expect(verdicts[0].rewards_by === 'ava/seed-0', `the AVA cell colours the answers (${verdicts[0].rewards_by})`);
  expect(JSON.stringify(means) === JSON.stringify(verdicts[0].a_rewards.tokens.map((t) => t.mean)), `the tokens carry the model's μ̃ (${means})`);
  await choose(web, 'colour-by', 'gold');
  await web.locator('[data-testid="answer-a"][data-colour="gold"]').waitFor();
  const words = await a.locator('.token').evaluateAll((ts) => ts.map((t) => t.textContent).join(' '));
  expect(words === verdicts[0].a.split(/\s+/).filter((w) => w).join(' '), `answer A is bon:gold's answer (${words})`);
  expect((await web.getByTestId('answer-b').locator('.token').count()) > 0 || verdicts[0].b === '', 'answer B is shown beside it');
  // The screenshot shows the model's per-token rewards.
  await choose(web, 'colour-by', 'model');
  await web.locator('[data-testid="answer-a"][data-colour="model"]').waitFor();
  await vs.command('Notifications: Clear All Notifications');
  await vs.screenshot('winrates');
}, { timeoutMs: 400_000 });
