// The run dashboard: run an experiment from the palette and read its curve points and final
// metrics; reload the window during a run and see the dashboard come back and go on until the
// run is stopped, with no logged point missing.
import { join } from 'node:path';
import { expect, test } from '../harness.mjs';
import { chartPoints, metricPoints, panel, readJson, readJsonl, runDirOf, sameNumbers, startLongRunWithDashboard, waitUntil } from './panels-common.mjs';

test('run an experiment and read its curve points and final metrics in the dashboard', async (vs) => {
  await vs.openFile('tiny.ava.yaml');
  await vs.command('AVA Lab: Run Experiment');
  await vs.openRunsView();
  await vs.waitForRunsRow('base/seed-0', /running|finished|acc/);
  await vs.command('AVA Lab: Open Run Dashboard');
  await vs.pick('tiny');
  const web = await panel(vs, 'run-header');
  expect((await web.getByTestId('run-title').textContent()) === 'tiny / base / seed 0', 'the dashboard names the run');

  // Live until the run ends, then the final evaluation appears.
  await web.locator('[data-testid="run-status"][data-status="finished"]').waitFor({ timeout: 120_000 });
  const card = web.locator('[data-testid="final-metric"][data-key="reward_acc"]');
  await card.waitFor({ timeout: 30_000 });
  const run = runDirOf(vs, 'tiny');
  const final = readJson(join(run, 'eval.json'));
  expect(Number(await card.getAttribute('data-value')) === final.reward_acc.value, 'the final reward accuracy is eval.json\'s');

  // Every logged loss point is on the chart, exactly.
  const records = readJsonl(join(run, 'metrics.jsonl'));
  const expected = metricPoints(records, 'loss');
  expect(expected.length > 0, 'the run logged training losses');
  const shown = await waitUntil('all loss points', async () => {
    const p = (await chartPoints(web, 'chart-losses')).loss ?? [];
    return p.length === expected.length ? p : undefined;
  });
  expect(sameNumbers(shown, expected), 'the loss curve has the logged points');
  const acc = (await chartPoints(web, 'chart-accuracy'))['eval reward_acc'] ?? [];
  expect(acc.length >= 2 && acc.every(([, y]) => y >= 0 && y <= 1), `reward accuracy over training (${acc.length} points)`);

  await vs.command('Notifications: Clear All Notifications');
  await vs.screenshot('dashboard');
  await web.getByTestId('log-scale').click();
  await waitUntil('the log-scale toggle', async () => (await web.getByTestId('log-scale').evaluate((e) => e.checked)) === true);
  expect(sameNumbers((await chartPoints(web, 'chart-losses')).loss, expected), 'the raw points do not depend on the view');
}, { timeoutMs: 200_000 });

test('reload the window during a run and see the dashboard resume', async (vs) => {
  let web = await startLongRunWithDashboard(vs);
  const before = await waitUntil('some loss points', async () => ((await chartPoints(web, 'chart-losses')).loss ?? []).length || undefined);

  await vs.reload();
  // The serializer reopens the panel on the same run; its page resumes from the run directory.
  web = await panel(vs, 'run-header', { timeoutMs: 90_000 });
  expect((await web.getByTestId('run-title').textContent()) === 'long / base / seed 0', 'the restored dashboard shows the same run');
  const after = await waitUntil('more loss points than before the reload', async () => {
    const n = ((await chartPoints(web, 'chart-losses')).loss ?? []).length;
    return n > before ? n : undefined;
  }, { timeoutMs: 120_000 });
  expect(after > before, `the curves went on growing after the reload (${before} → ${after})`);
  // The run is endless (long.ava.yaml): stop it from the palette; the dashboard sees the end.
  await vs.command('AVA Lab: Stop Run');
  await vs.pick('long');
  await web.locator('[data-testid="run-status"][data-status="stopped"]').waitFor({ timeout: 60_000 });
  const expected = metricPoints(readJsonl(join(runDirOf(vs, 'long'), 'metrics.jsonl')), 'loss');
  const shown = await waitUntil('all loss points', async () => {
    const p = (await chartPoints(web, 'chart-losses')).loss ?? [];
    return p.length === expected.length ? p : undefined;
  });
  expect(sameNumbers(shown, expected), 'no logged point is missing after the reload');
  await vs.command('Notifications: Clear All Notifications');
  await vs.screenshot('dashboard-after-reload');
}, { timeoutMs: 330_000 });
