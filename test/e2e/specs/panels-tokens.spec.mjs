// Token rewards: open the panel on a JSONL line, read its coloured tokens, browse the run's
// evaluation samples and jump back to a sample's line in the editor.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '../harness.mjs';
import { choose, panel, readJsonl, runDirOf, waitUntil } from './panels-common.mjs';

test('open token rewards for a JSONL line and read its tokens', async (vs) => {
  const lines = readFileSync(join(vs.workspace, 'data', 'eval.jsonl'), 'utf8').split('\n');
  const second = JSON.parse(lines[1]);
  await vs.openFile('data/eval.jsonl');
  await vs.page.keyboard.press('Control+G');
  await vs.page.keyboard.type('2');
  await vs.page.keyboard.press('Enter');
  await vs.command('AVA Lab: Show Token Rewards for Line');

  const web = await panel(vs, 'tokens-header', { timeoutMs: 60_000 });
  const sample = web.locator('[data-testid="sample"][data-line="2"]');
  await sample.waitFor({ timeout: 120_000 });
  const chosen = web.locator('[data-testid="sequence"][data-side="chosen"] [data-testid="token"]');
  const tokens = await chosen.evaluateAll((ts) => ts.map((t) => ({ token: t.dataset.token, mean: Number(t.dataset.mean), std: Number(t.dataset.std) })));
  expect(tokens.length > 0, 'the chosen response has tokens');
  expect(tokens.every((t) => Number.isFinite(t.mean) && t.std >= 0), 'each token has a reward mean and a std');
  const firstWord = String(second.chosen).trim().split(/\s+/)[0].toLowerCase();
  expect(tokens.some((t) => t.token.trim().toLowerCase() === firstWord), `the tokens are line 2's chosen text (${firstWord})`);
  expect((await web.locator('[data-testid="sequence"][data-side="rejected"] [data-testid="token"]').count()) > 0, 'rejected shown beside it');
  await vs.screenshot('token-rewards');

  // The run's evaluation samples, with the pairs it ranks wrongly listed.
  await choose(web, 'source', 'dump');
  await waitUntil('the first sample', async () => /^Sample 1 \/ \d+$/.test((await web.getByTestId('sample-position').textContent()) ?? ''));
  await web.getByTestId('next-sample').click();
  await waitUntil('the second sample', async () => /^Sample 2 \//.test((await web.getByTestId('sample-position').textContent()) ?? ''));
  const dump = readJsonl(join(runDirOf(vs, 'harmless'), 'token_rewards.jsonl'));
  expect((await web.getByTestId('sample-position').textContent()) === `Sample 2 / ${dump.length}`, 'every dumped sample can be browsed');
  const misranked = dump.filter((d) => d.correct === false).length;
  expect((await web.getByTestId('misranked-item').count()) === misranked, `the ${misranked} misranked pair(s) are listed`);

  // Click → the sample's line in the editor.
  const line = Number(await web.getByTestId('sample').getAttribute('data-line'));
  await web.getByTestId('open-line').click();
  await waitUntil(`the editor at line ${line}`, async () => (await vs.statusBarText()).includes(`Ln ${line},`), { timeoutMs: 20_000 });
}, { trainedRun: true, timeoutMs: 240_000 });
