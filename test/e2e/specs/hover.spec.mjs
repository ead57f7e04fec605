// Hover a JSONL line and read its per-token rewards; then colour the tokens in place.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, sleep, test } from '../harness.mjs';

test(
  'hover a JSONL line and read the per-token rewards',
  async (vs) => {
    const first = JSON.parse(readFileSync(join(vs.workspace, 'data', 'eval.jsonl'), 'utf8').split('\n')[0]);
    const word = String(first.chosen).split(/\s+/)[0];
    await vs.openFile('data/eval.jsonl');
    const text = await vs.hoverToken(word, { until: /Rejected\s+R = /, timeoutMs: 90_000 });
    expect(/per-token rewards/.test(text), 'the hover has its title');
    expect(/Chosen\s+R = [+−]\d+\.\d{3}( ± \d+\.\d{3})?/.test(text), `the chosen sequence reward (± std where defined) in: ${text}`);
    expect(text.includes(word), `the hovered line's tokens are listed (${word})`);
    expect(/[+−]\d\.\d+±\d\.\d+/.test(text), 'each token carries its reward mean ± std');
    expect(/ranks chosen above rejected|misranked/.test(text), 'the pair ranking is shown');
    await sleep(800); // the hover fades in
    await vs.screenshot('jsonl-hover');

    await vs.page.mouse.move(0, 0);
    await vs.command('AVA Lab: Toggle Token Reward Highlights');
    // Background decorations are drawn in the editor's overlay layer, one element per token range.
    await vs.page.locator('.monaco-editor .view-overlays [class*="ced-"]').first().waitFor({ timeout: 60_000 });
    const highlighted = await vs.page.locator('.monaco-editor .view-overlays [class*="ced-"]').count();
    expect(highlighted >= 10, `tokens of the visible lines are highlighted (${highlighted})`);
    await vs.screenshot('jsonl-highlights');

    // Pin the hover model to that run: it is written to the workspace settings.
    await vs.command('AVA Lab: Choose Reward Model for Hovers');
    await vs.pick('harmless · base/seed-0');
    const settingsFile = join(vs.workspace, '.vscode', 'settings.json');
    for (let i = 0; i < 40 && !existsSync(settingsFile); i++) await sleep(250);
    const hoverModel = JSON.parse(readFileSync(settingsFile, 'utf8'))['avaLab.hoverModel'];
    expect(/^runs[\\/]harmless[\\/].+[\\/]base[\\/]seed-0$/.test(hoverModel), `avaLab.hoverModel is the run, relative to the workspace (${hoverModel})`);
  },
  { trainedRun: true },
);
