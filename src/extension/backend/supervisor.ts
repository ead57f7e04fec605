/**
 * The training runs this window watches: it starts `ava-lab run --json` launches, finds the
 * ones still going after a window reload, forwards their protocol events (to the panels, the
 * runs view, the status bar), logs them, and stops runs (SIGTERM: the backend checkpoints and
 * marks the run `stopped`), including runs it did not start, through the pid in status.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackendEvent } from '../../protocol/events.js';
import { isProcessAlive, readStatus } from '../../core/run/status.js';
import { readSettings } from '../settings.js';
import type { Backend } from './backend.js';
import { Launch } from './launch.js';
import { runArgs, runTitle, type RunRequest } from './runArgs.js';

export class RunSupervisor implements vscode.Disposable {
  private readonly launches = new Set<Launch>();
  private readonly eventEmitter = new vscode.EventEmitter<BackendEvent>();
  private readonly launchEmitter = new vscode.EventEmitter<Launch>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** Every protocol event of every watched launch. */
  readonly onEvent = this.eventEmitter.event;
  /** A launch was started or found again after a reload. */
  readonly onDidAddLaunch = this.launchEmitter.event;
  /** A launch started, ended or changed state (for views that summarise them). */
  readonly onDidChange = this.changeEmitter.event;

  constructor(
    private readonly backend: Backend,
    private readonly launchesDir: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Finds the launches a previous extension host left running (call once on activation). */
  restore(): void {
    for (const launch of Launch.reattachAll(this.launchesDir)) {
      this.log.info(`found running backend again: ${launch.record.title} (pid ${launch.record.pid})`);
      this.watch(launch);
    }
  }

  start(req: RunRequest, experimentName: string): Launch {
    fs.mkdirSync(this.launchesDir, { recursive: true });
    const args = runArgs(req, readSettings(vscode.Uri.file(req.experimentFile)).backend);
    const launch = Launch.start(this.launchesDir, {
      runtime: this.backend.runtime(),
      cliPath: this.backend.cliPath,
      args,
      cwd: req.cwd,
      experimentFile: req.experimentFile,
      title: runTitle(experimentName, req),
    });
    this.log.info(`started backend pid ${launch.record.pid}: ${launch.record.args.join(' ')}`);
    this.watch(launch);
    return launch;
  }

  active(): Launch[] {
    return [...this.launches].filter((l) => l.running);
  }

  /** The running launch that trains `dir` (a run or a grid directory). */
  launchFor(dir: string): Launch | undefined {
    const key = path.resolve(dir);
    return this.active().find((l) => l.owns(key));
  }

  /**
   * Stops the run or grid in `dir`. Returns false when nothing there is running. A run this
   * window does not watch is signalled through the pid in its status.json.
   */
  stop(dir: string): boolean {
    const launch = this.launchFor(dir);
    if (launch) {
      launch.stop();
      this.changeEmitter.fire();
      return true;
    }
    const status = readStatus(dir);
    if (status?.status !== 'running' || !isProcessAlive(status.pid)) return false;
    try {
      process.kill(status.pid, 'SIGTERM');
      this.log.info(`sent SIGTERM to backend pid ${status.pid} (${dir})`);
      return true;
    } catch (e) {
      this.log.warn(`could not stop pid ${status.pid}: ${(e as Error).message}`);
      return false;
    }
  }

  dispose(): void {
    // Launches keep running on purpose (they outlive a window reload); only stop reading them.
    for (const launch of this.launches) launch.dispose();
    this.launches.clear();
    this.eventEmitter.dispose();
    this.launchEmitter.dispose();
    this.changeEmitter.dispose();
  }

  private watch(launch: Launch): void {
    this.launches.add(launch);
    launch.onEvent.on((e) => {
      this.logEvent(e);
      this.eventEmitter.fire(e);
      if (e.type !== 'metrics') this.changeEmitter.fire();
    });
    launch.onStderr.on((lines) => {
      for (const line of lines) this.log.info(`[backend] ${line}`);
    });
    launch.onExit.on((exit) => {
      this.log.info(`backend pid ${launch.record.pid} ended (${exit.signal ?? `exit ${exit.code ?? 'unknown'}`})`);
      this.launches.delete(launch);
      this.changeEmitter.fire();
    });
    this.launchEmitter.fire(launch);
    this.changeEmitter.fire();
  }

  private logEvent(e: BackendEvent): void {
    switch (e.type) {
      case 'hello':
        this.log.info(`backend ${e.version} on ${e.backend} (${e.device}), node ${e.node}`);
        break;
      case 'grid_start':
        this.log.info(`grid ${e.experiment}: ${e.cells.length} cell(s) in ${e.grid_dir}`);
        break;
      case 'run_start':
        this.log.info(`run ${e.run_dir} started (${e.total_steps} steps${e.resumed_from !== undefined ? `, resumed from ${e.resumed_from}` : ''})`);
        break;
      case 'run_end':
        (e.status === 'failed' ? this.log.error : this.log.info).call(this.log, `run ${e.run_dir} ${e.status}${e.error ? `: ${e.error}` : ''}`);
        break;
      case 'grid_end':
        this.log.info(`grid ${e.grid_dir} ${e.status}`);
        break;
      case 'error':
        this.log.error(e.message);
        break;
      case 'log':
        this.log[e.level === 'warn' ? 'warn' : e.level === 'error' ? 'error' : e.level === 'debug' ? 'debug' : 'info'](e.message);
        break;
      case 'metrics':
        this.log.trace(`${e.run_dir} step ${e.record.step}: ${JSON.stringify(e.record.values)}`);
        break;
      default:
        break;
    }
  }
}
