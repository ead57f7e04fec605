// Stop a run from the Runs view and see it marked stopped (the backend checkpoints first).
import { expect, readRunStatus, sleep, test } from '../harness.mjs';

test('stop a run from the tree and see it marked stopped', async (vs) => {
  await vs.openFile('long.ava.yaml');
  await vs.command('AVA Lab: Run Experiment');
  await vs.openRunsView();
  await vs.waitForRunsRow('base/seed-0', /running · step [1-9]\d*\//);
  await vs.screenshot('runs-view-running');

  await vs.clickRowAction('base/seed-0', 'Stop Run');
  const text = await vs.waitForRunsRow('base/seed-0', /stopped at \d+\/\d+/);
  expect(!/running/.test(text), 'the row no longer says running');
  await vs.waitForNotification(/long stopped/);
  let status = readRunStatus(vs, 'long');
  for (let i = 0; i < 20 && status?.status !== 'stopped'; i++) (await sleep(250), (status = readRunStatus(vs, 'long')));
  expect(status?.status === 'stopped', `status.json says stopped (got ${status?.status})`);
  expect(status.step < 100000, 'it stopped before the end');

  // Resume it from the tree: it continues from its checkpoint, then stop it again.
  await vs.clickRowAction('base/seed-0', 'Resume Run');
  await vs.waitForRunsRow('base/seed-0', /running · step [1-9]\d*\//);
  await vs.waitForNotification(/AVA Lab: long · base\/seed-0 \(resume\)|AVA Lab: long.*resume/);
  await vs.clickRowAction('base/seed-0', 'Stop Run');
  await vs.waitForRunsRow('base/seed-0', /stopped at \d+\/\d+/);
});
