// Reload the window while a run trains: the run goes on, and the new window finds it again
// (Runs view, status bar) and can still stop it. The run is endless (long.ava.yaml), so no
// machine is fast enough to finish it before the reload.
import { expect, readRunStatus, test } from '../harness.mjs';

function stepOf(text) {
  const m = /step (\d+)\//.exec(text);
  return m ? Number(m[1]) : -1;
}

test('reload the window during a run and see it tracked again', async (vs) => {
  await vs.openFile('long.ava.yaml');
  await vs.command('AVA Lab: Run Experiment');
  await vs.openRunsView();
  const before = stepOf(await vs.waitForRunsRow('base/seed-0', /running · step [1-9]\d*\//));
  const pid = readRunStatus(vs, 'long')?.pid;

  await vs.reload();
  await vs.openRunsView();
  const after = await vs.waitForRunsRow('base/seed-0', new RegExp(`running · step (\\d+)/`), { timeoutMs: 60_000 });
  expect(readRunStatus(vs, 'long')?.pid === pid, 'the same backend process goes on after the reload');
  expect(stepOf(after) >= before, `training went on (${before} → ${stepOf(after)})`);
  expect((await vs.statusBarText()).includes('AVA long'), 'the status-bar item is back after the reload');
  await vs.screenshot('runs-view-after-reload');

  // The re-attached launch still controls the process: stop it and see the end reported.
  await vs.clickRowAction('base/seed-0', 'Stop Run');
  await vs.waitForRunsRow('base/seed-0', /stopped at \d+\/\d+/);
  await vs.waitForNotification(/long stopped/);
  expect(readRunStatus(vs, 'long')?.status === 'stopped', 'status.json says stopped');
}, { timeoutMs: 240_000 });
