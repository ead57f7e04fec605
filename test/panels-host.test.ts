import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportBytes, exportFileName } from '../src/extension/panels/exportData.js';
import { OutboundQueue } from '../src/extension/panels/outboundQueue.js';
import { contentSecurityPolicy, makeNonce, renderPage } from '../src/extension/panels/webviewHtml.js';

function queue(visible: boolean, maxPending = 10) {
  const posted: string[] = [];
  const q = new OutboundQueue<string>((m) => posted.push(m), () => 'snapshot', visible, maxPending);
  return { q, posted };
}

test('nothing is posted before the page is ready; ready sends a snapshot that supersedes the queue', () => {
  const { q, posted } = queue(true);
  q.send('a');
  q.send('b');
  assert.deepEqual(posted, []);
  q.ready();
  assert.deepEqual(posted, ['snapshot']);
  q.send('c');
  assert.deepEqual(posted, ['snapshot', 'c']);
});

test('messages sent while hidden are buffered and flushed in order when shown', () => {
  const { q, posted } = queue(true);
  q.ready();
  q.setVisible(false);
  q.send('x');
  q.send('y');
  assert.equal(q.waiting, 2);
  assert.deepEqual(posted, ['snapshot']);
  q.setVisible(true);
  assert.deepEqual(posted, ['snapshot', 'x', 'y']);
  assert.equal(q.waiting, 0);
});

test('a page reloaded after being hidden gets a fresh snapshot, not the stale buffer', () => {
  const { q, posted } = queue(true);
  q.ready();
  q.setVisible(false);
  q.send('x');
  q.ready(); // reloaded while hidden: snapshot waits until shown
  q.setVisible(true);
  assert.deepEqual(posted, ['snapshot', 'snapshot']);
});

test('a buffer that overflows is replaced by one snapshot', () => {
  const { q, posted } = queue(true, 3);
  q.ready();
  q.setVisible(false);
  for (const m of ['1', '2', '3', '4', '5']) q.send(m);
  assert.equal(q.waiting, Number.POSITIVE_INFINITY);
  q.setVisible(true);
  assert.deepEqual(posted, ['snapshot', 'snapshot']);
});

test('the page has a strict CSP: nonce-only scripts, nothing remote, no inline styles', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(makeNonce(), nonce);
  const csp = contentSecurityPolicy('vscode-resource:', nonce);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  const html = renderPage({ kind: 'compare', title: 'A <b>', cspSource: 'vscode-resource:', scriptUri: 'https://file+.vscode-resource/dist/webview.js', nonce });
  assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://file\\+\\.vscode-resource/dist/webview.js">`));
  assert.match(html, /<body data-panel="compare">/);
  assert.match(html, /<title>A &lt;b&gt;<\/title>/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
});

test('export file names are sanitised and get the format extension', () => {
  assert.equal(exportFileName('loss curves.png', 'png'), 'loss-curves.png');
  assert.equal(exportFileName('../../etc/passwd', 'csv'), 'etc-passwd.csv');
  assert.equal(exportFileName('', 'md'), 'export.md');
});

test('export bytes: text as UTF-8, PNG decoded from its data URL, anything else refused', () => {
  assert.deepEqual([...exportBytes('md', 'é')], [0xc3, 0xa9]);
  assert.deepEqual([...exportBytes('png', 'data:image/png;base64,iVBORw==')], [0x89, 0x50, 0x4e, 0x47]);
  assert.throws(() => exportBytes('png', 'data:text/html;base64,AA'), /PNG/);
});
