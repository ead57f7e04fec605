// The extension's backend processes against stand-in scripts that speak the protocol:
// a training launch (events from its output file, exit, crash bookkeeping, reattach after a
// "reload", stop = SIGTERM) and the rewards server client (ids, timeouts, crash, restart).
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BackendEvent } from '../src/protocol/events.js';
import { isBackendAlive, Launch, type LaunchExit } from '../src/extension/backend/launch.js';
import { RequestCancelledError, ServeClient } from '../src/extension/backend/serveClient.js';

const FAKE_CLI = `
const fs = require('node:fs');
const path = require('node:path');
const [mode, root] = process.argv.slice(2);
const runDir = path.join(root, 'base', 'seed-0');
fs.mkdirSync(runDir, { recursive: true });
const emit = (e) => process.stdout.write(JSON.stringify({ v: 1, ts: Date.now(), ...e }) + '\\n');
const status = (s, step) => fs.writeFileSync(path.join(runDir, 'status.json'), JSON.stringify({ status: s, pid: process.pid, started: 'x', updated: 'y', step, total_steps: 100 }));
emit({ type: 'hello', pid: process.pid, version: 't', backend: 'cpu', device: 'cpu', node: process.version });
emit({ type: 'grid_start', experiment: 'fake', grid_dir: root, cells: [{ variant: '', seed: 0, run_dir: runDir }] });
emit({ type: 'run_start', run_dir: runDir, name: 'fake', variant: '', seed: 0, total_steps: 100 });
status('running', 0);
if (mode === 'ok') {
  for (let s = 1; s <= 3; s++) emit({ type: 'progress', run_dir: runDir, phase: 'train', step: s, total: 100 });
  status('finished', 100);
  emit({ type: 'run_end', run_dir: runDir, status: 'finished' });
  emit({ type: 'grid_end', grid_dir: root, status: 'finished' });
} else if (mode === 'crash') {
  emit({ type: 'progress', run_dir: runDir, phase: 'train', step: 7, total: 100 });
  process.stderr.write('loading\\nRangeError: out of memory\\n');
  process.exit(1);
} else if (mode === 'slow') {
  let step = 0;
  const timer = setInterval(() => { step++; emit({ type: 'progress', run_dir: runDir, phase: 'train', step, total: 100 }); }, 40);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    status('stopped', step);
    emit({ type: 'run_end', run_dir: runDir, status: 'stopped' });
    emit({ type: 'grid_end', grid_dir: root, status: 'stopped' });
    process.exit(130);
  });
}
`;

function setup(): { cli: string; launches: string; runs: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ava-launch-'));
  const cli = join(dir, 'fake-cli.cjs');
  writeFileSync(cli, FAKE_CLI);
  return { cli, launches: join(dir, 'launches'), runs: join(dir, 'runs') };
}

function start(mode: string, env = setup()): { launch: Launch; env: ReturnType<typeof setup>; events: BackendEvent[]; exited: Promise<LaunchExit> } {
  const launch = Launch.start(env.launches, {
    runtime: { command: process.execPath, env: {}, source: 'PATH' },
    cliPath: env.cli,
    args: [mode, env.runs],
    cwd: tmpdir(),
    experimentFile: '/x/fake.ava.yaml',
    title: 'fake',
  });
  const events: BackendEvent[] = [];
  launch.onEvent.on((e) => events.push(e));
  const exited = new Promise<LaunchExit>((resolve) => launch.onExit.on(resolve));
  return { launch, env, events, exited };
}

function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = setInterval(() => {
      if (check()) {
        clearInterval(tick);
        resolve();
      } else if (Date.now() - t0 > timeoutMs) {
        clearInterval(tick);
        reject(new Error('timed out waiting'));
      }
    }, 20);
  });
}

test('a launch streams every event of its output file and cleans its folder up on exit', async () => {
  const { launch, events, exited } = start('ok');
  const exit = await exited;
  assert.equal(exit.code, 0);
  assert.deepEqual(events.map((e) => e.type), ['hello', 'grid_start', 'run_start', 'progress', 'progress', 'progress', 'run_end', 'grid_end']);
  assert.equal(launch.state.ended, 'finished');
  assert.equal(launch.running, false);
  assert.equal(existsSync(launch.dir), false);
});

test('a crashed backend marks its run failed with its last stderr lines (status.json + synthetic run_end)', async () => {
  const { launch, events, env, exited } = start('crash');
  const exit = await exited;
  assert.equal(exit.code, 1);
  const end = events.find((e) => e.type === 'run_end');
  assert.ok(end && end.type === 'run_end');
  assert.equal(end.status, 'failed');
  assert.match(end.error ?? '', /exited with code 1[\s\S]*RangeError: out of memory/);
  const runDir = join(env.runs, 'base', 'seed-0');
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
  assert.equal(status.status, 'failed');
  assert.equal(status.step, 7);
  assert.match(readFileSync(join(runDir, 'stderr.log'), 'utf8'), /RangeError/);
  assert.deepEqual(launch.stderrLines(), ['loading', 'RangeError: out of memory']);
  assert.equal(events.at(-1)?.type, 'grid_end');
});

test('after a "reload" a launch is found again from its folder, and Stop ends it as stopped', async () => {
  const first = start('slow');
  await waitFor(() => first.events.filter((e) => e.type === 'progress').length >= 2);
  first.launch.dispose(); // the old extension host stops reading; the process goes on

  const [again] = Launch.reattachAll(first.env.launches);
  assert.ok(again, 'the launch is found again');
  assert.equal(again.record.pid, first.launch.record.pid);
  const runDir = join(first.env.runs, 'base', 'seed-0');
  assert.equal(again.state.cells.get(runDir)?.status, 'running', 'state rebuilt from the replayed events');
  assert.ok(again.owns(runDir) && again.owns(first.env.runs));
  assert.ok(isBackendAlive(again.record));
  assert.ok(!isBackendAlive({ pid: process.pid, args: ['/not/the/backend.cjs'] }), 'a reused pid running something else is not the backend');
  const live: BackendEvent[] = [];
  again.onEvent.on((e) => live.push(e));
  await waitFor(() => live.some((e) => e.type === 'progress'));
  assert.ok(!live.some((e) => e.type === 'grid_start'), 'replayed events are not emitted twice');

  const exited = new Promise<LaunchExit>((resolve) => again.onExit.on(resolve));
  again.stop();
  const exit = await exited;
  assert.equal(exit.code, null, 'a reattached launch learns of the exit through pid liveness');
  assert.equal(again.state.cells.get(runDir)?.status, 'stopped');
  assert.equal(again.state.ended, 'stopped');
  await first.exited;
});

// ── rewards server client ──────────────────────────────────────────────────

const FAKE_SERVE = `
const rl = require('node:readline').createInterface({ input: process.stdin });
const out = (e) => process.stdout.write(JSON.stringify({ v: 1, ts: 0, ...e }) + '\\n');
rl.on('line', (l) => {
  const r = JSON.parse(l);
  if (r.method === 'shutdown') { out({ type: 'response', id: r.id, ok: true }); process.exit(0); }
  if (r.line === 13) { process.stderr.write('oops\\n'); process.exit(3); }
  if (r.line === 99) return; // never answers
  if (r.line === 7) return out({ type: 'response', id: r.id, ok: false, error: 'line is not valid JSON' });
  setTimeout(() => out({ type: 'response', id: r.id, ok: true, result: { line: r.line, kind: 'demonstration' } }), r.line === 2 ? 30 : 0);
});
`;

function serveClient(options: { timeoutMs?: number } = {}): { client: ServeClient; spawned: () => number; logs: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ava-serve-'));
  const script = join(dir, 'serve.cjs');
  writeFileSync(script, FAKE_SERVE);
  let count = 0;
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
  const client = new ServeClient({
    spawnServer: () => {
      count++;
      return spawn(process.execPath, [script], { stdio: 'pipe' }) as ChildProcessWithoutNullStreams;
    },
    log,
    maxCrashes: 2,
    ...options,
  });
  return { client, spawned: () => count, logs };
}

const call = (line: number) => ({ run_dir: '/r', data: '/d.jsonl', line });

test('ServeClient matches responses to requests by id, out of order, on one server', async () => {
  const { client, spawned } = serveClient();
  const [slow, fast] = await Promise.all([client.rewards(call(2)), client.rewards(call(3))]);
  assert.equal(slow.line, 2);
  assert.equal(fast.line, 3);
  await assert.rejects(client.rewards(call(7)), /line is not valid JSON/);
  assert.equal(spawned(), 1);
  client.dispose();
});

test('ServeClient times out and honours cancellation', async () => {
  const { client } = serveClient({ timeoutMs: 300 });
  await assert.rejects(client.rewards(call(99)), /did not answer within 0.3 s/);
  let cancel: () => void = () => undefined;
  const token = {
    isCancellationRequested: false,
    onCancellationRequested: (l: () => void) => ((cancel = l), { dispose: () => undefined }),
  };
  const pending = client.rewards(call(99), token);
  cancel();
  await assert.rejects(pending, RequestCancelledError);
  client.dispose();
});

test('ServeClient restarts the server after a crash and gives up after repeated crashes', async () => {
  const { client, spawned, logs } = serveClient();
  await assert.rejects(client.rewards(call(13)), /exited with code 3: oops/);
  assert.equal((await client.rewards(call(1))).line, 1, 'a new server answers after the crash');
  assert.equal(spawned(), 2);
  await assert.rejects(client.rewards(call(13)), /exited with code 3/);
  await assert.rejects(client.rewards(call(1)), /crashed 2 times/);
  assert.ok(logs.some((l) => l.includes('rewards server exited with code 3')));
  client.resetCrashes();
  assert.equal((await client.rewards(call(5))).line, 5);
  client.dispose();
});
