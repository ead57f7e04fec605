// Pure parts of the extension's backend layer: line splitting, the launch-state reducer,
// the run command line, the Node runtime choice, terminal text and crash bookkeeping.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeEvent, decodeEvent, type BackendEvent, type EventBody } from '../src/protocol/events.js';
import { LineSplitter, TailBuffer } from '../src/extension/backend/lines.js';
import { describeProgress, emptyLaunchState, launchFraction, reduceLaunch, unfinishedCells } from '../src/extension/backend/launchState.js';
import { runArgs, runTitle } from '../src/extension/backend/runArgs.js';
import { findOnPath, NodeNotFoundError, resolveNodeRuntime } from '../src/extension/backend/nodeRuntime.js';
import { eventLine, metricsLine, toTerminalText } from '../src/extension/backend/eventText.js';
import { crashReason, recordCrash } from '../src/extension/backend/crash.js';
import { writeStatus } from '../src/core/run/status.js';

const ev = (body: EventBody): BackendEvent => decodeEvent(encodeEvent(body, 0)) as BackendEvent;

test('LineSplitter keeps a partial line until its newline and strips CR', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('a\nb'), ['a']);
  assert.deepEqual(s.push('c\r\nd\n'), ['bc', 'd']);
  assert.deepEqual(s.push('tail'), []);
  assert.deepEqual(s.flush(), ['tail']);
  assert.deepEqual(s.flush(), []);
});

test('TailBuffer keeps only the last lines', () => {
  const t = new TailBuffer(2);
  t.push('1', '2', '3');
  t.push('4');
  assert.deepEqual(t.get(), ['3', '4']);
  assert.equal(t.text(), '3\n4');
});

test('reduceLaunch folds a two-cell grid: progress, fraction, description, end', () => {
  const s = emptyLaunchState();
  const cells = [
    { variant: 'a', seed: 0, run_dir: '/g/a/seed-0' },
    { variant: 'b', seed: 0, run_dir: '/g/b/seed-0' },
  ];
  reduceLaunch(s, ev({ type: 'grid_start', experiment: 'x', grid_dir: '/g', cells }));
  assert.equal(s.gridDir, '/g');
  assert.equal(launchFraction(s), 0);
  assert.equal(describeProgress(s), 'starting…');
  reduceLaunch(s, ev({ type: 'run_start', run_dir: '/g/a/seed-0', name: 'x', variant: 'a', seed: 0, total_steps: 10 }));
  reduceLaunch(s, ev({ type: 'progress', run_dir: '/g/a/seed-0', phase: 'train', step: 5, total: 10 }));
  assert.equal(launchFraction(s), 0.25);
  assert.equal(describeProgress(s), 'a/seed-0 · train 5/10 · cell 1 of 2');
  assert.deepEqual(unfinishedCells(s).map((c) => c.runDir), ['/g/a/seed-0']);
  reduceLaunch(s, ev({ type: 'run_end', run_dir: '/g/a/seed-0', status: 'finished', summary: { step: 10, reward_acc: { value: 0.8, n: 10, lo: 0.5, hi: 0.9 } } }));
  assert.equal(launchFraction(s), 0.5);
  assert.equal(s.cells.get('/g/a/seed-0')?.summary?.reward_acc?.value, 0.8);
  assert.deepEqual(unfinishedCells(s), []);
  reduceLaunch(s, ev({ type: 'grid_end', grid_dir: '/g', status: 'finished' }));
  assert.equal(s.ended, 'finished');
});

test('reduceLaunch: a resumed run starts at its checkpoint step; errors are kept', () => {
  const s = emptyLaunchState();
  reduceLaunch(s, ev({ type: 'run_start', run_dir: '/r', name: 'x', variant: '', seed: 1, total_steps: 40, resumed_from: 20 }));
  assert.equal(s.cells.get('/r')?.step, 20);
  assert.equal(describeProgress(s), 'base/seed-1 · train 20/40');
  reduceLaunch(s, ev({ type: 'error', message: 'bad key' }));
  assert.equal(s.error, 'bad key');
});

test('runArgs builds the CLI command line for grid, cell and resume', () => {
  const base = { experimentFile: '/w/e.ava.yaml', cwd: '/w', runsRoot: '/w/runs' };
  assert.deepEqual(runArgs(base, 'auto'), ['run', '/w/e.ava.yaml', '--json', '--runs-root', '/w/runs']);
  assert.deepEqual(runArgs({ ...base, variant: 'bt', seed: 2 }, 'wasm'), ['run', '/w/e.ava.yaml', '--json', '--runs-root', '/w/runs', '--only', 'bt', '--seed', '2', '--backend', 'wasm']);
  assert.deepEqual(runArgs({ ...base, resumeGridDir: '/w/runs/e/1', variant: '' }, 'auto'), ['run', '/w/e.ava.yaml', '--json', '--runs-root', '/w/runs', '--resume', '/w/runs/e/1']);
  assert.equal(runTitle('demo', { ...base, variant: 'bt', seed: 0 }), 'demo · bt/seed-0');
  assert.equal(runTitle('demo', { ...base, resumeGridDir: '/g' }), 'demo (resume)');
});

test('resolveNodeRuntime: setting, then PATH, then the editor runtime with ELECTRON_RUN_AS_NODE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-node-'));
  const fakeNode = join(dir, 'node');
  writeFileSync(fakeNode, '#!/bin/sh\n');
  chmodSync(fakeNode, 0o755);
  assert.equal(findOnPath(`/nonexistent:${dir}`), fakeNode);
  assert.deepEqual(resolveNodeRuntime('', { PATH: dir }, '/editor'), { command: fakeNode, env: {}, source: 'PATH' });
  assert.deepEqual(resolveNodeRuntime('', { PATH: '/nonexistent' }, '/editor'), { command: '/editor', env: { ELECTRON_RUN_AS_NODE: '1' }, source: 'editor' });
  assert.deepEqual(resolveNodeRuntime(fakeNode, { PATH: '' }, '/editor'), { command: fakeNode, env: {}, source: 'setting' });
  assert.throws(() => resolveNodeRuntime('/no/such/node', { PATH: dir }, '/editor'), NodeNotFoundError);
});

test('eventLine and metricsLine: one readable line per event, loss terms first', () => {
  assert.equal(eventLine(ev({ type: 'run_start', run_dir: '/g/base/seed-0', name: 'x', variant: '', seed: 0, total_steps: 50 })), '▶ base/seed-0: 50 steps');
  assert.equal(eventLine(ev({ type: 'progress', run_dir: '/r', phase: 'train', step: 1, total: 2 })), null);
  assert.equal(metricsLine({ step: 5, phase: 'train', time: 1, values: { lr: 0.001, kl: 0.5, loss: 2 } }), '  train step 5  loss 2  kl 0.5  lr 0.001');
  assert.equal(toTerminalText(['a', 'b\nc']), 'a\r\nb\r\nc\r\n');
});

test('recordCrash marks runs left running as failed with the stderr tail, and leaves ended runs alone', () => {
  const root = mkdtempSync(join(tmpdir(), 'ava-crash-'));
  const running = join(root, 'a');
  const ended = join(root, 'b');
  mkdirSync(running);
  mkdirSync(ended);
  writeStatus(running, { status: 'running', pid: 999999, started: 's', updated: 'u', step: 3, total_steps: 10 });
  writeStatus(ended, { status: 'finished', pid: 999999, started: 's', updated: 'u', step: 10, total_steps: 10 });
  const reason = crashReason({ code: 1, signal: null }, ['', 'RangeError: boom']);
  assert.equal(reason, 'The backend exited with code 1. Last output:\nRangeError: boom');
  const cell = (runDir: string) => ({ runDir, variant: '', seed: 0, status: 'running' as const, step: 4, total: 10 });
  const reports = recordCrash([cell(running), cell(ended)], 'failed', reason, ['RangeError: boom']);
  assert.deepEqual(reports.map((r) => r.runDir), [running]);
  const status = JSON.parse(readFileSync(join(running, 'status.json'), 'utf8'));
  assert.equal(status.status, 'failed');
  assert.equal(status.step, 4);
  assert.match(status.error, /RangeError: boom/);
  assert.equal(readFileSync(join(running, 'stderr.log'), 'utf8'), 'RangeError: boom\n');
  assert.equal(JSON.parse(readFileSync(join(ended, 'status.json'), 'utf8')).status, 'finished');
  assert.equal(crashReason({ code: null, signal: 'SIGKILL' }, []), 'The backend was killed by SIGKILL without output.');
});
