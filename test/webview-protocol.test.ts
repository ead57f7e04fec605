import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHostMessage, isPanelArgs, isWebviewMessage } from '../src/protocol/webview.js';

test('webview → host messages are checked field by field', () => {
  assert.ok(isWebviewMessage({ type: 'ready' }));
  assert.ok(isWebviewMessage({ type: 'export', format: 'png', fileName: 'a.png', data: 'data:image/png;base64,AA' }));
  assert.ok(isWebviewMessage({ type: 'openLine', target: 'evalData', line: 3 }));
  assert.ok(isWebviewMessage({ type: 'requestLine', line: 0 }));
  assert.ok(isWebviewMessage({ type: 'openDashboard', runDir: '/r' }));
  assert.ok(isWebviewMessage({ type: 'openTokenRewards', runDir: '/r' }));
  assert.ok(!isWebviewMessage({ type: 'openTokenRewards' }));
  assert.ok(isWebviewMessage({ type: 'log', level: 'warn', message: 'x' }));
  assert.ok(!isWebviewMessage({ type: 'export', format: 'exe', fileName: 'a', data: '' }), 'unknown format');
  assert.ok(!isWebviewMessage({ type: 'openLine', target: '/etc/passwd', line: 1 }), 'targets are names, not paths');
  assert.ok(!isWebviewMessage({ type: 'openLine', target: 'dump', line: 1.5 }), 'lines are integers');
  assert.ok(!isWebviewMessage({ type: 'requestLine', line: -1 }));
  assert.ok(!isWebviewMessage({ type: 'log', level: 'fatal', message: 'x' }));
  assert.ok(!isWebviewMessage({ type: 'runShell' }));
  assert.ok(!isWebviewMessage(null));
  assert.ok(!isWebviewMessage('ready'));
});

test('host → webview messages need a known type', () => {
  assert.ok(isHostMessage({ type: 'dashboard/records', records: [] }));
  assert.ok(isHostMessage({ type: 'tokens/line', line: 1 }));
  assert.ok(!isHostMessage({ type: 'dashboard/unknown' }));
  assert.ok(!isHostMessage([]));
});

test('saved panel state is recognised per panel kind', () => {
  assert.ok(isPanelArgs({ kind: 'dashboard', runDir: '/r' }, 'dashboard'));
  assert.ok(!isPanelArgs({ kind: 'dashboard', runDir: '/r' }, 'compare'));
  assert.ok(isPanelArgs({ kind: 'compare', runDirs: ['/a', '/b'] }, 'compare'));
  assert.ok(!isPanelArgs({ kind: 'compare', runDirs: ['/a', 2] }, 'compare'));
  assert.ok(isPanelArgs({ kind: 'tokenRewards', runDir: '/r', dataFile: '/d.jsonl', line: 4 }, 'tokenRewards'));
  assert.ok(!isPanelArgs({ kind: 'tokenRewards', runDir: '/r', line: 'x' }, 'tokenRewards'));
  assert.ok(!isPanelArgs(undefined, 'dashboard'));
});
