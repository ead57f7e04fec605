// Compare: train a two-variant grid from the palette, compare its runs and read both rows.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, readRunStatus, test } from '../harness.mjs';
import { choose, panel, readJson, runDirOf, waitUntil } from './panels-common.mjs';

const EXPERIMENT = `# Two variants of a tiny AVA-p run (the Compare panel's e2e test).
name: ablate
seeds: [0]
data:
  task: helpful
  task_options: { n_train: 200, n_eval: 64, noise: 0.1, seed: 0 }
tokenizer: { kind: word }
model: { n_layer: 1, n_head: 2, d_model: 32, context: 40 }
objective: { kind: ava-p }
train: { steps: 20, pretrain_steps: 10, batch_size: 8, log_every: 5, eval_every: 10, checkpoint_every: 30 }
eval: { dump_token_rewards: 4 }
ablations:
  base: {}
  no-kl: { objective: { use_kl: false } }
`;

test('open Compare for a two-variant grid and read both rows', async (vs) => {
  writeFileSync(join(vs.workspace, 'ablate.ava.yaml'), EXPERIMENT);
  await vs.openFile('ablate.ava.yaml');
  await vs.command('AVA Lab: Run Experiment');
  await vs.pick('Whole grid');
  for (const cell of ['base/seed-0', 'no-kl/seed-0']) {
    await waitUntil(`${cell} finished`, () => readRunStatus(vs, 'ablate', cell)?.status === 'finished', { timeoutMs: 180_000 });
  }
  await vs.openRunsView();
  await vs.waitForRunsRow('no-kl/seed-0', /acc \d/);

  // The grid's inline action in the Runs view compares all its cells.
  const gridRow = vs.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row[aria-level="2"]').first();
  await gridRow.hover();
  await gridRow.locator('.action-label[aria-label^="Compare Runs"], .action-label[title^="Compare Runs"]').first().click();

  const web = await panel(vs, 'compare-table');
  const rows = web.getByTestId('compare-row');
  await waitUntil('two rows', async () => (await rows.count()) === 2);
  const labels = await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-label')));
  expect(JSON.stringify(labels) === '["base","no-kl"]', `one row per variant (${labels})`);
  for (const variant of ['base', 'no-kl']) {
    const cell = web.locator(`[data-testid="compare-row"][data-key="${variant}"] td[data-metric="reward_acc"]`);
    const value = readJson(join(runDirOf(vs, 'ablate', join(variant, 'seed-0')), 'eval.json')).reward_acc.value;
    expect(Math.abs(Number(await cell.getAttribute('data-mean')) - value) < 1e-12, `${variant}: reward accuracy is its eval.json's`);
    expect((await cell.textContent()).startsWith((value * 100).toFixed(1)), `${variant}: shown as a percentage`);
  }
  const diff = await web.locator('[data-testid="config-diff"] tbody tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-key')));
  expect(diff.includes('objective.use_kl'), `the config diff shows the ablated key (${diff})`);

  await choose(web, 'baseline', 'base');
  const delta = web.locator('[data-testid="compare-row"][data-key="no-kl"] td[data-metric="reward_acc"] [data-testid="delta"]');
  await delta.waitFor();
  expect(Number.isFinite(Number(await delta.getAttribute('data-delta'))), 'no-kl shows its difference to the baseline');
  const significance = web.locator('[data-testid="compare-row"][data-key="no-kl"] td[data-metric="reward_acc"] [data-testid="significance"]');
  const p = Number(await significance.getAttribute('data-p'));
  expect(p >= 0 && p <= 1, `no-kl shows McNemar's p against the baseline (${p})`);
  await vs.command('Notifications: Clear All Notifications');
  await vs.screenshot('compare');
}, { timeoutMs: 300_000 });
