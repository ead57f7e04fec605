/**
 * Follows one run directory while a panel shows it. Three sources, so nothing is missed:
 *   - live protocol events of the run (when this window supervises it): lowest latency;
 *   - a FileSystemWatcher on the run's files: runs started elsewhere, or before a reload;
 *   - polling (metrics.jsonl tail + file stamps): watchers can miss events outside the workspace.
 * Consumers deduplicate (the same metric record arrives from an event and from the file).
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { BackendEvent } from '../../protocol/events.js';
import { RUN_EVAL, RUN_EVALS, RUN_METRICS, RUN_STATUS, RUN_TOKEN_REWARDS } from '../../core/run/layout.js';
import { FileFollower } from '../backend/fileFollower.js';
import type { DisposableStore } from './disposables.js';

/** Run files other than metrics.jsonl whose changes matter to most panels. */
export const STATUS_AND_EVALS = [RUN_STATUS, RUN_EVAL, RUN_EVALS];
export const TOKEN_DUMP = [RUN_TOKEN_REWARDS];

export interface RunWatcherHandlers {
  /** Files (names in the run directory, not metrics.jsonl) whose changes call `filesChanged`. */
  files: readonly string[];
  /** New complete lines of metrics.jsonl (omit to not follow it). */
  metricLines?(lines: string[]): void;
  /** One of `files` changed. */
  filesChanged(): void;
  /** A live protocol event about this run. */
  event(e: BackendEvent): void;
}

type RunEvent = Extract<BackendEvent, { run_dir: string }>;

export function eventRunDir(e: BackendEvent): string | undefined {
  return 'run_dir' in e ? (e as RunEvent).run_dir : undefined;
}

export class RunWatcher {
  private readonly runDir: string;
  private readonly follower: FileFollower | undefined;
  private stamps: string;

  constructor(runDir: string, onEvent: vscode.Event<BackendEvent>, private readonly handlers: RunWatcherHandlers, disposables: DisposableStore, pollMs: number) {
    this.runDir = resolve(runDir);
    this.stamps = this.fileStamps();
    if (handlers.metricLines) {
      const follower = new FileFollower(join(this.runDir, RUN_METRICS), (lines) => handlers.metricLines?.(lines));
      this.follower = follower;
      follower.poll();
      disposables.add({ dispose: () => follower.stop() });
    }
    const pattern = new vscode.RelativePattern(vscode.Uri.file(this.runDir), `{${[RUN_METRICS, ...handlers.files].join(',')}}`);
    const watcher = disposables.add(vscode.workspace.createFileSystemWatcher(pattern));
    const changed = (): void => this.check();
    disposables.add(watcher.onDidCreate(changed));
    disposables.add(watcher.onDidChange(changed));
    disposables.add(watcher.onDidDelete(changed));
    disposables.add(onEvent((e) => {
      const dir = eventRunDir(e);
      if (dir !== undefined && resolve(dir) === this.runDir) handlers.event(e);
    }));
    disposables.interval(changed, pollMs);
  }

  /** Read what changed now (also called by the poll timer). */
  check(): void {
    this.follower?.poll();
    const stamps = this.fileStamps();
    if (stamps !== this.stamps) {
      this.stamps = stamps;
      this.handlers.filesChanged();
    }
  }

  private fileStamps(): string {
    return this.handlers.files.map((f) => {
      try {
        const s = statSync(join(this.runDir, f));
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return '-';
      }
    }).join('|');
  }
}
