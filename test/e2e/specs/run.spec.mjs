// Run an experiment from the palette and see it finish in the Runs view.
import { expect, readRunStatus, sleep, test } from '../harness.mjs';

test('run an experiment from the palette and see it finish in the Runs view', async (vs) => {
  await vs.openFile('tiny.ava.yaml');
  // The CodeLens above the experiment offers Run and Validate.
  await vs.page.locator('.contentWidgets .codelens-decoration, .codelens-decoration').filter({ hasText: 'Run' }).first().waitFor({ timeout: 30_000 });
  await vs.screenshot('experiment-codelens');

  await vs.command('AVA Lab: Run Experiment');
  await vs.openRunsView();
  await vs.waitForRunsRow('base/seed-0', /running|finished|acc/);
  const text = await vs.waitForRunsRow('base/seed-0', /acc \d\.\d{3} \[/);
  expect(/acc/.test(text), 'the finished run shows its reward accuracy');
  await vs.waitForNotification(/tiny finished/);
  const status = readRunStatus(vs, 'tiny');
  expect(status?.status === 'finished', `status.json says finished (got ${status?.status})`);
  await vs.screenshot('runs-view');
  // The status-bar item disappears once nothing runs.
  for (let i = 0; i < 40 && (await vs.statusBarText()).includes('AVA tiny'); i++) await sleep(250);
  expect(!(await vs.statusBarText()).includes('AVA tiny'), 'the status-bar item is hidden after the run');
});
