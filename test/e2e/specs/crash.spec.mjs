// A backend that dies without a word (SIGKILL: no checkpoint, no status written) is noticed by
// the extension: its run is marked failed with the reason, the user is told, and every metric
// it logged is still on disk and on the dashboard.
import { join } from 'node:path';
import { expect, killGroup, readRunStatus, test } from '../harness.mjs';
import { chartPoints, metricPoints, readJsonl, runDirOf, sameNumbers, startLongRunWithDashboard, waitUntil } from './panels-common.mjs';

test('a killed backend marks its run failed and loses no logged metric', async (vs) => {
  const web = await startLongRunWithDashboard(vs);
  await waitUntil('a few loss points', async () => (((await chartPoints(web, 'chart-losses')).loss ?? []).length >= 3) || undefined);

  const pids = vs.startedBackendPids();
  expect(pids.length > 0, 'the backend process is known from its launch record and status.json');
  for (const pid of pids) killGroup(pid);

  const row = await vs.waitForRunsRow('base/seed-0', /failed: The backend was killed by SIGKILL/);
  expect(!/running/.test(row), 'the row no longer says running');
  await vs.waitForNotification(/long.*failed: The backend was killed by SIGKILL/);
  const status = readRunStatus(vs, 'long');
  expect(status?.status === 'failed', `status.json says failed (got ${status?.status})`);
  expect(/killed by SIGKILL/.test(status.error ?? ''), 'status.json gives the reason');

  // Every line the backend appended is whole, and the dashboard shows each of them.
  const records = readJsonl(join(runDirOf(vs, 'long'), 'metrics.jsonl'));
  const expected = metricPoints(records, 'loss');
  expect(expected.length >= 3, `the logged metrics survived (${expected.length} loss points)`);
  await web.locator('[data-testid="run-status"][data-status="failed"]').waitFor({ timeout: 30_000 });
  const shown = await waitUntil('all loss points', async () => {
    const p = (await chartPoints(web, 'chart-losses')).loss ?? [];
    return p.length === expected.length ? p : undefined;
  });
  expect(sameNumbers(shown, expected), 'the dashboard shows every logged point');
});
