/**
 * Per-token rewards on demand, for hovers, decorations and the token-rewards panel: requests
 * go to the long-lived `ava-lab serve` process and results are kept in an LRU cache keyed by
 * (model, file, file version on disk, line). The version is the file's mtime and size: the
 * backend reads the saved file, so that is what a cached answer depends on. Concurrent asks
 * for the same key share one request, and a cancelled hover does not cancel the request:
 * its answer still fills the cache for the next hover.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LineRewards } from '../../protocol/events.js';
import type { Backend } from '../backend/backend.js';
import { ServeClient } from '../backend/serveClient.js';
import type { ExperimentEntry } from '../runs/runIndex.js';
import { latestTrainedRun } from '../runs/runIndex.js';
import { folderFor, readSettings, resolveWorkspacePath } from '../settings.js';
import { UNTRUSTED_MESSAGE } from '../trust.js';
import { LruCache } from '../../core/util/lru.js';

export interface RewardModel {
  runDir: string;
  /** `demo · base/seed-0`. */
  label: string;
  /** Chosen in the settings, or the newest finished run. */
  source: 'setting' | 'latest';
}

function fileVersion(file: string): string {
  const st = fs.statSync(file);
  return `${st.mtimeMs}:${st.size}`;
}

/** Waits for `promise` unless `token` is cancelled first (the promise itself goes on). */
function raceCancellation<T>(promise: Promise<T>, token?: vscode.CancellationToken): Promise<T> {
  if (!token) return promise;
  return new Promise<T>((resolve, reject) => {
    if (token.isCancellationRequested) return reject(new vscode.CancellationError());
    const sub = token.onCancellationRequested(() => {
      sub.dispose();
      reject(new vscode.CancellationError());
    });
    promise.then(
      (v) => (sub.dispose(), resolve(v)),
      (e) => (sub.dispose(), reject(e)),
    );
  });
}

export class RewardService implements vscode.Disposable {
  private readonly cache = new LruCache<string, Promise<LineRewards>>(500);
  private readonly client: ServeClient;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    backend: Backend,
    log: vscode.LogOutputChannel,
    private readonly runs: () => ExperimentEntry[],
  ) {
    this.client = new ServeClient({
      spawnServer: () => backend.spawnPiped(['serve', '--json'], folderFor()?.uri.fsPath ?? process.cwd(), { AVA_BACKEND: readSettings().backend }),
      log,
    });
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('avaLab.nodePath') || e.affectsConfiguration('avaLab.backend')) {
          this.client.shutdown();
          this.client.resetCrashes();
        }
      }),
    );
  }

  /** The model hovers use: `avaLab.hoverModel`, else the newest finished run with a checkpoint. */
  hoverModel(): RewardModel | null {
    const setting = readSettings().hoverModel.trim();
    if (setting) {
      const runDir = resolveWorkspacePath(setting);
      return { runDir, label: modelLabel(runDir), source: 'setting' };
    }
    const latest = latestTrainedRun(this.runs());
    return latest ? { runDir: latest.dir, label: modelLabel(latest.dir), source: 'latest' } : null;
  }

  /** Per-token rewards of 1-based `line` of `dataFile` under the model of `runDir`. */
  async lineRewards(runDir: string, dataFile: string, line: number, token?: vscode.CancellationToken): Promise<LineRewards> {
    if (!vscode.workspace.isTrusted) throw new Error(UNTRUSTED_MESSAGE);
    const key = [path.resolve(runDir), path.resolve(dataFile), fileVersion(dataFile), line].join('\0');
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.client.rewards({ run_dir: path.resolve(runDir), data: path.resolve(dataFile), line });
      this.cache.set(key, pending);
      pending.catch(() => this.cache.delete(key));
    }
    return raceCancellation(pending, token);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.client.dispose();
    this.cache.clear();
  }
}

/** `demo · base/seed-0` from `<runs>/demo/<stamp>/base/seed-0`. */
export function modelLabel(runDir: string): string {
  const parts = path.resolve(runDir).split(path.sep);
  const [experiment, , variant, seed] = parts.slice(-4);
  return experiment && variant && seed ? `${experiment} · ${variant}/${seed}` : path.basename(runDir);
}
