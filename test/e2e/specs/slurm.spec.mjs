// Slurm from the workbench: "AVA Lab: Submit Experiment to Slurm" from the palette sends a
// 2-cell grid to a real one-node Slurm (test/slurm/cluster.mjs, started for this test) and the
// Runs view follows its rows until both finish, marked with their Slurm array tasks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '../harness.mjs';
import { runDirOf } from './panels-common.mjs';
import { slurmUnavailable, startCluster } from '../../slurm/cluster.mjs';

const missing = slurmUnavailable();
if (missing && process.env.CI) throw new Error(`CI must test against a real Slurm: ${missing}`);
if (missing) console.log(`E2E: Slurm test skipped: ${missing}`);
else {
  // Started when the suite loads, before any VS Code: code-server (and so the extension host
  // and the ava-lab processes it starts) inherits SLURM_CONF. Stopped when the suite exits.
  const cluster = await startCluster();
  process.env.SLURM_CONF = cluster.conf;
  test('a grid submitted to Slurm from the palette finishes in the Runs view', async (vs) => {
    await vs.openFile('cluster.ava.yaml');
    await vs.command('AVA Lab: Submit Experiment to Slurm');
    await vs.page.locator('.notifications-toasts', { hasText: /submitted Slurm job \d+ \(2 cells\)/ }).first().waitFor({ timeout: 60_000 });
    await vs.openRunsView();
    const rows = [];
    for (const seed of [0, 1]) rows.push(await vs.waitForRunsRow(`base/seed-${seed}`, /acc \d\.\d+.*Slurm \d+_\d/, { timeoutMs: 150_000 }));
    const gridDir = runDirOf(vs, 'cluster', '');
    const manifest = JSON.parse(readFileSync(join(gridDir, 'grid.json'), 'utf8'));
    const job = manifest.slurm.submissions[0].job_id;
    expect(rows[0].includes(`Slurm ${job}_0`) && rows[1].includes(`Slurm ${job}_1`), `rows name their array tasks: ${rows.join(' | ')}`);
    const env = JSON.parse(readFileSync(join(gridDir, 'base', 'seed-1', 'env.json'), 'utf8'));
    expect(env.slurm?.array_job_id === job, 'the run was trained inside the Slurm job');
    await vs.command('Notifications: Clear All Notifications');
    await vs.screenshot('runs-slurm');
  }, { timeoutMs: 240_000 });
}
