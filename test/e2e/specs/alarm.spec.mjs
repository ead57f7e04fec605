// A collapsing run raises its alarm in the workbench: the Runs view marks the row and the
// dashboard shows the banner with the diagnosis and the switch to try, as status.json says.
import { join } from 'node:path';
import { expect, test } from '../harness.mjs';
import { panel, readJson, runDirOf } from './panels-common.mjs';

test('a collapsing run is marked in the Runs view and its dashboard shows the alarm', async (vs) => {
  await vs.openFile('collapse.ava.yaml');
  await vs.command('AVA Lab: Run Experiment');
  await vs.openRunsView();
  const row = await vs.waitForRunsRow('base/seed-3', /reward flat/, { timeoutMs: 150_000 });
  expect(row.includes('⚠'), `the row is marked (${row})`);
  await vs.command('AVA Lab: Open Run Dashboard');
  await vs.pick('collapse');
  const web = await panel(vs, 'run-header');
  const banner = web.locator('[data-testid="run-alarm"][data-kind="reward_flat"]');
  await banner.waitFor({ timeout: 60_000 });
  const text = await banner.innerText();
  const [alarm] = readJson(join(runDirOf(vs, 'collapse', join('base', 'seed-3')), 'status.json')).alarms;
  expect(alarm.kind === 'reward_flat', 'status.json holds the alarm');
  expect(text.includes(alarm.title) && text.includes('recipe: robust'), `the banner says what and what to try: ${text}`);
  await vs.command('Notifications: Clear All Notifications');
  await vs.screenshot('dashboard-alarm');
}, { timeoutMs: 240_000 });
