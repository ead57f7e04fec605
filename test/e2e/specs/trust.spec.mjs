// Restricted Mode: the extension stays enabled (limited support), shows existing runs and
// files, and refuses to train or load models with a clear message.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, sleep, test } from '../harness.mjs';

test(
  'in an untrusted workspace runs and model loading are refused with a clear message',
  async (vs) => {
    await vs.openRunsView();
    // Existing runs are still listed (the trained fixture run), under a Restricted Mode note.
    await vs.waitForRunsRow('base/seed-0', /acc \d/);
    await vs.page.locator('#workbench\\.parts\\.sidebar', { hasText: 'Restricted Mode: existing runs are shown' }).waitFor({ timeout: 10_000 });

    await vs.openFile('tiny.ava.yaml');
    await vs.command('AVA Lab: Run Experiment');
    const message = await vs.waitForNotification(/only in a trusted workspace/);
    expect(/Run Experiment/.test(message), `the refused action is named (${message})`);
    await sleep(1500);
    // Only the trained fixture run (experiment `harmless`) is there: `tiny` never started.
    const experiments = readdirSync(join(vs.workspace, 'runs'));
    expect(experiments.join() === 'harmless', `no new run was started (runs/: ${experiments})`);
    expect(readdirSync(join(vs.workspace, 'runs', 'harmless')).length === 1, 'the fixture run is alone');

    const first = JSON.parse(readFileSync(join(vs.workspace, 'data', 'eval.jsonl'), 'utf8').split('\n')[0]);
    await vs.openFile('data/eval.jsonl');
    const hover = await vs.hoverToken(String(first.chosen).split(/\s+/)[0], { until: /trusted workspace/ });
    expect(/Manage Workspace Trust/.test(hover), 'the hover explains why and links to trust management');
    await vs.screenshot('restricted-mode');
  },
  { untrusted: true, trainedRun: true },
);
