// Runs are VS Code tasks: "Tasks: Run Task" lists one `ava-lab` task per experiment file, and
// running one trains that experiment.
import { expect, readRunStatus, sleep, test } from '../harness.mjs';

test('run an experiment as a VS Code task from "Tasks: Run Task"', async (vs) => {
  // Once the extension is up (its Runs view shows), its task provider answers.
  await vs.openRunsView();
  await vs.command('Tasks: Run Task');
  // The list of task types waits for every task provider of the workbench.
  const type = vs.page.locator('.quick-input-list .monaco-list-row[aria-label="All ava-lab tasks"]');
  await type.waitFor({ timeout: 90_000 });
  await type.click();
  const rows = vs.page.locator('.quick-input-list .monaco-list-row');
  await rows.filter({ hasText: 'run tiny.ava.yaml' }).first().waitFor({ timeout: 30_000 });
  const labels = await rows.allInnerTexts();
  for (const f of ['tiny.ava.yaml', 'long.ava.yaml', 'broken.ava.yaml']) expect(labels.some((l) => l.includes(`run ${f}`)), `a task per experiment file (${f}) in ${JSON.stringify(labels)}`);
  await vs.screenshot('run-task');
  await vs.pick('run tiny.ava.yaml');
  // The task declares no problem matchers (an empty list), so VS Code does not ask for one.
  await sleep(1000);
  expect(!(await vs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Continue without scanning' }).isVisible().catch(() => false)), 'no problem-matcher prompt');

  // The task trains the experiment like the Run command does: the Runs view shows it finish.
  const text = await vs.waitForRunsRow('base/seed-0', /acc \d\.\d{3} \[/, { timeoutMs: 120_000 });
  expect(/acc/.test(text), 'the finished run shows its reward accuracy');
  const status = readRunStatus(vs, 'tiny');
  expect(status?.status === 'finished', `status.json says finished (got ${status?.status})`);
  // A task run reports its end like any other run.
  await vs.waitForNotification(/tiny finished/);
});
