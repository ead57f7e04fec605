// Experiment files: New Experiment from a template (with its grid CodeLenses), and the
// backend's validation shown as diagnostics at the right line and column.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '../harness.mjs';

test('new experiment from a template, with Run / Run grid / Validate lenses', async (vs) => {
  await vs.openRunsView();
  await vs.page.locator('.welcome-view-content', { hasText: 'No runs yet' }).waitFor({ timeout: 30_000 });
  await vs.screenshot('runs-view-welcome');

  await vs.command('AVA Lab: New Experiment');
  await vs.pick('demo');
  await vs.page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await vs.page.keyboard.press('Enter'); // accept the proposed file name
  await vs.page.locator('.tab.active', { hasText: 'demo.ava.yaml' }).waitFor();
  const file = join(vs.workspace, 'demo.ava.yaml');
  expect(existsSync(file), 'the experiment file was created in the workspace');
  expect(/^name: "demo"$/m.test(readFileSync(file, 'utf8')), 'its name follows the file name');
  const lenses = vs.page.locator('.codelens-decoration');
  await lenses.filter({ hasText: 'Run grid (2 runs)' }).first().waitFor({ timeout: 30_000 });
  const text = (await lenses.allInnerTexts()).join(' | ');
  expect(/Run\b/.test(text) && /Validate/.test(text), `Run and Validate lenses (${text})`);
  expect(/Run ava-p/.test(text) && /Run bt/.test(text), `a lens above each variant (${text})`);
  await vs.screenshot('experiment-template');
});

test('the walkthrough lists its steps and its button creates a first experiment', async (vs) => {
  await vs.command('Welcome: Open Walkthrough...');
  await vs.pick('Get started with AVA Lab');
  const page = vs.page.locator('.gettingStartedContainer');
  await page.locator('text=Create an experiment').first().waitFor({ timeout: 30_000 });
  for (const title of ['Run it', 'Watch it learn', 'Read per-token rewards', 'Compare ablations']) {
    expect(await page.locator(`text=${title}`).count() > 0, `step "${title}" is listed`);
  }
  // The step's media (media/walkthrough/create.md) renders in a webview of the workbench.
  const media = vs.page.frameLocator('iframe.webview.ready').first().frameLocator('iframe#active-frame');
  await media.locator('text=An experiment is one YAML file').waitFor({ timeout: 30_000 });
  await vs.screenshot('walkthrough');

  await page.locator('.button-link, a.monaco-button, .monaco-button', { hasText: 'New Experiment' }).first().click();
  await vs.pick('demo');
  await vs.page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await vs.page.keyboard.press('Enter');
  await vs.page.locator('.tab.active', { hasText: 'demo.ava.yaml' }).waitFor();
  expect(existsSync(join(vs.workspace, 'demo.ava.yaml')), 'the walkthrough button created the experiment');
});

test('validation errors appear at their line and column', async (vs) => {
  await vs.openFile('broken.ava.yaml');
  await vs.page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
  await vs.page.locator('.monaco-editor .view-lines').first().click();
  await vs.page.keyboard.press('Control+Home');
  await vs.page.keyboard.press('F8'); // Go to Next Problem: the cursor moves to the marker's start
  const widget = vs.page.locator('.marker-widget, .zone-widget .message').first();
  await widget.waitFor({ timeout: 10_000 });
  const message = await widget.innerText();
  expect(/must be one of ava-p/.test(message), `the backend's message is shown (${message})`);
  expect(/AVA Lab/.test(message), 'with its source');
  const status = await vs.statusBarText();
  expect(/Ln 4, Col 20/.test(status), `the cursor is at the reported line and column (${status})`);
  await vs.screenshot('experiment-diagnostics');
});
