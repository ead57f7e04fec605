// Reload the window while a run trains: the run goes on, and the new window finds it again
// (Runs view, status bar, end-of-run notification).
import { expect, readRunStatus, test } from '../harness.mjs';

function stepOf(text) {
  const m = /step (\d+)\//.exec(text);
  return m ? Number(m[1]) : -1;
}

test('reload the window during a run and see it tracked again', async (vs) => {
  await vs.openFile('medium.ava.yaml');
  await vs.command('AVA Lab: Run Experiment');
  await vs.openRunsView();
  const before = stepOf(await vs.waitForRunsRow('base/seed-0', /running · step [1-9]\d*\//));
  const pid = readRunStatus(vs, 'medium')?.pid;

  await vs.reload();
  await vs.openRunsView();
  const after = await vs.waitForRunsRow('base/seed-0', new RegExp(`running · step (\\d+)/`), { timeoutMs: 60_000 });
  expect(readRunStatus(vs, 'medium')?.pid === pid, 'the same backend process goes on after the reload');
  expect(stepOf(after) >= before, `training went on (${before} → ${stepOf(after)})`);
  expect((await vs.statusBarText()).includes('AVA medium'), 'the status-bar item is back after the reload');
  await vs.screenshot('runs-view-after-reload');

  await vs.waitForRunsRow('base/seed-0', /acc \d\.\d{3}/, { timeoutMs: 120_000 });
  await vs.waitForNotification(/medium finished/);
  expect(readRunStatus(vs, 'medium')?.status === 'finished', 'status.json says finished');
}, { timeoutMs: 240_000 });
