/**
 * One `ava-lab run --json` backend process, started so that it outlives the window.
 *
 * The child runs detached with its stdout (protocol lines) and stderr (human log) written to
 * files in a launch folder, never to pipes: a window reload restarts the extension host, and
 * the backend must keep training (a pipe to a dead reader would break it). The extension reads
 * both files as they grow. After a reload, `Launch.reattach` rebuilds the state by replaying the
 * event file and keeps following it while the process lives. No `vscode` import.
 *
 *   <launches>/<id>/launch.json    LaunchRecord (pid, command line, experiment)
 *                   events.jsonl   the child's stdout
 *                   stderr.log     the child's stderr
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeEvent, encodeEvent, type BackendEvent } from '../../protocol/events.js';
import { readJsonFile, writeJsonAtomic } from '../../core/run/files.js';
import { isProcessAlive } from '../../core/run/status.js';
import { crashReason, recordCrash } from './crash.js';
import { Emitter } from './emitter.js';
import { FileFollower } from './fileFollower.js';
import { emptyLaunchState, reduceLaunch, unfinishedCells, type LaunchState } from './launchState.js';
import { TailBuffer } from './lines.js';
import type { NodeRuntime } from './nodeRuntime.js';

const LAUNCH_RECORD = 'launch.json';
const EVENTS_FILE = 'events.jsonl';
const STDERR_FILE = 'stderr.log';
const POLL_MS = 200;
const LIVENESS_MS = 1000;

export interface LaunchSpec {
  runtime: NodeRuntime;
  /** The bundled backend, `<extension>/dist/cli.cjs`. */
  cliPath: string;
  /** Arguments after the script, e.g. `['run', 'exp.ava.yaml', '--json']`. */
  args: string[];
  cwd: string;
  experimentFile: string;
  /** Short label for notifications and the terminal, e.g. `demo (grid)`. */
  title: string;
}

export interface LaunchRecord {
  id: string;
  pid: number;
  command: string;
  args: string[];
  cwd: string;
  experimentFile: string;
  title: string;
  started: string;
}

export interface LaunchExit {
  /** null when the process ended while nobody was watching (after a reload). */
  code: number | null;
  signal: string | null;
}

/**
 * Is the launch's process still the backend? A pid can be reused after the machine restarts,
 * so where the command line can be read (Linux) it must still name the backend script.
 */
export function isBackendAlive(record: Pick<LaunchRecord, 'pid' | 'args'>): boolean {
  if (!isProcessAlive(record.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    return record.args[0] === undefined || cmdline.includes(record.args[0]);
  } catch {
    return true; // no /proc here: trust the pid
  }
}

export class Launch {
  readonly state: LaunchState = emptyLaunchState();
  readonly onEvent = new Emitter<BackendEvent>();
  readonly onStderr = new Emitter<string[]>();
  readonly onExit = new Emitter<LaunchExit>();
  private readonly stderrTail = new TailBuffer(60);
  private readonly events: FileFollower;
  private readonly stderr: FileFollower;
  private replaying = false;
  private stopRequested = false;
  private exit: LaunchExit | undefined;
  private liveness: ReturnType<typeof setInterval> | undefined;

  private constructor(
    readonly dir: string,
    readonly record: LaunchRecord,
  ) {
    this.events = new FileFollower(join(dir, EVENTS_FILE), (lines) => this.onEventLines(lines));
    this.stderr = new FileFollower(join(dir, STDERR_FILE), (lines) => this.onStderrLines(lines));
  }

  /** Spawns the backend detached, its output going to files in a new folder under `launchesDir`. */
  static start(launchesDir: string, spec: LaunchSpec): Launch {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const dir = join(launchesDir, id);
    mkdirSync(dir, { recursive: true });
    const out = openSync(join(dir, EVENTS_FILE), 'a');
    const err = openSync(join(dir, STDERR_FILE), 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.runtime.command, [spec.cliPath, ...spec.args], {
        cwd: spec.cwd,
        detached: true,
        stdio: ['ignore', out, err],
        env: { ...process.env, ...spec.runtime.env },
        windowsHide: true,
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    const record: LaunchRecord = {
      id,
      pid: child.pid ?? -1,
      command: spec.runtime.command,
      args: [spec.cliPath, ...spec.args],
      cwd: spec.cwd,
      experimentFile: spec.experimentFile,
      title: spec.title,
      started: new Date().toISOString(),
    };
    writeJsonAtomic(join(dir, LAUNCH_RECORD), record);
    const launch = new Launch(dir, record);
    child.once('error', (e) => {
      launch.stderrTail.push(`could not start ${spec.runtime.command}: ${e.message}`);
      launch.finish({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => launch.finish({ code, signal }));
    child.unref();
    launch.follow();
    return launch;
  }

  /** Launches left by an earlier extension host (before a window reload), oldest first. */
  static reattachAll(launchesDir: string): Launch[] {
    let ids: string[];
    try {
      ids = readdirSync(launchesDir).sort();
    } catch {
      return [];
    }
    return ids.flatMap((id) => {
      const launch = Launch.reattach(join(launchesDir, id));
      return launch ? [launch] : [];
    });
  }

  /** Rebuilds a launch from its folder (silently replaying what it already logged) and follows it. */
  static reattach(dir: string): Launch | null {
    const record = readJsonFile<LaunchRecord>(join(dir, LAUNCH_RECORD));
    if (!record || !(record.pid > 0)) {
      rmSync(dir, { recursive: true, force: true });
      return null;
    }
    const launch = new Launch(dir, record);
    launch.replaying = true;
    launch.events.poll();
    launch.stderr.poll();
    launch.replaying = false;
    launch.follow();
    launch.liveness = setInterval(() => {
      if (!isBackendAlive(record)) launch.finish({ code: null, signal: null });
    }, LIVENESS_MS);
    return launch;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get stopping(): boolean {
    return this.stopRequested && this.running;
  }

  /** The backend's last stderr lines. */
  stderrLines(): string[] {
    return this.stderrTail.get();
  }

  /** Does this launch train `runDir` (or the grid `runDir`)? */
  owns(dir: string): boolean {
    const key = resolve(dir);
    if (this.state.gridDir && resolve(this.state.gridDir) === key) return true;
    return [...this.state.cells.keys()].some((runDir) => resolve(runDir) === key);
  }

  /**
   * Asks the backend to stop: SIGTERM, on which it checkpoints, marks its run `stopped` and
   * exits. Asking again while it is still stopping kills its whole process group.
   */
  stop(): void {
    if (!this.running) return;
    const force = this.stopRequested;
    this.stopRequested = true;
    try {
      if (force) process.kill(-this.record.pid, 'SIGKILL');
      else process.kill(this.record.pid, 'SIGTERM');
    } catch {
      // already gone: the exit handler or the liveness check finishes the launch
    }
  }

  /** Stops following the files without touching the process (extension shutdown). */
  dispose(): void {
    if (this.liveness) clearInterval(this.liveness);
    this.liveness = undefined;
    this.events.stop();
    this.stderr.stop();
  }

  private follow(): void {
    this.events.start(POLL_MS);
    this.stderr.start(POLL_MS);
  }

  private onEventLines(lines: string[]): void {
    for (const line of lines) {
      const event = decodeEvent(line);
      if (!event) continue;
      reduceLaunch(this.state, event);
      if (!this.replaying) this.onEvent.fire(event);
    }
  }

  private onStderrLines(lines: string[]): void {
    this.stderrTail.push(...lines);
    if (!this.replaying) this.onStderr.fire(lines);
  }

  /** Once: last reads, crash bookkeeping for runs left `running`, exit event, folder removed. */
  private finish(exit: LaunchExit): void {
    if (this.exit) return;
    this.exit = exit;
    this.dispose();
    const stranded = unfinishedCells(this.state);
    if (stranded.length) {
      const status = this.stopRequested ? 'stopped' : 'failed';
      const error = crashReason(exit, this.stderrTail.get());
      for (const report of recordCrash(stranded, status, error, this.stderrTail.get())) {
        this.synthesize({ type: 'run_end', run_dir: report.runDir, status: report.status, error: report.error });
      }
    }
    if (this.state.gridDir && this.state.ended === undefined) {
      this.synthesize({ type: 'grid_end', grid_dir: this.state.gridDir, status: this.stopRequested ? 'stopped' : 'failed' });
    }
    this.onExit.fire(exit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** An event the backend could not send itself (it died): folded and emitted like a real one. */
  private synthesize(body: Parameters<typeof encodeEvent>[0]): void {
    const event = decodeEvent(encodeEvent(body));
    if (!event) return;
    reduceLaunch(this.state, event);
    this.onEvent.fire(event);
  }
}
