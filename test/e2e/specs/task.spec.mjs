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
  await rows.filter({ hasText: 'run tiny.ava.yaml' }).first().click();
  // VS Code may ask which problem matcher to use for a task that has none.
  await sleep(1000);
  const scan = vs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Continue without scanning the task output' });
  if (await scan.isVisible().catch(() => false)) await scan.click();

  // The task trains the experiment like the Run command does: the Runs view shows it finish.
  const text = await vs.waitForRunsRow('base/seed-0', /acc \d\.\d{3} \[/, { timeoutMs: 120_000 });
  expect(/acc/.test(text), 'the finished run shows its reward accuracy');
  const status = readRunStatus(vs, 'tiny');
  expect(status?.status === 'finished', `status.json says finished (got ${status?.status})`);
});
