/**
 * How the extension starts the bundled `ava-lab` backend (`<extension>/dist/cli.cjs`): with
 * the Node chosen by `avaLab.nodePath` (see nodeRuntime.ts), for one-shot commands
 * (`validate --json`), the long-lived rewards server (`serve --json`) and training runs
 * (through Launch, which outlives the window). Nothing listens on a network port.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as vscode from 'vscode';
import { decodeEvent, type BackendEvent } from '../../protocol/events.js';
import { readSettings } from '../settings.js';
import { LineSplitter, TailBuffer } from './lines.js';
import { resolveNodeRuntime, type NodeRuntime } from './nodeRuntime.js';

export interface OneShotResult {
  events: BackendEvent[];
  code: number | null;
  stderr: string[];
}

export class Backend {
  readonly cliPath: string;
  private lastRuntimeKey = '';

  constructor(
    extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.cliPath = vscode.Uri.joinPath(extensionUri, 'dist', 'cli.cjs').fsPath;
  }

  /** The Node to run the backend with; throws NodeNotFoundError for a wrong `avaLab.nodePath`. */
  runtime(): NodeRuntime {
    const runtime = resolveNodeRuntime(readSettings().nodePath);
    const key = `${runtime.source}:${runtime.command}`;
    if (key !== this.lastRuntimeKey) {
      this.lastRuntimeKey = key;
      const note = runtime.source === 'editor' ? ' (no `node` found on PATH: using the editor runtime; set avaLab.nodePath for the native TensorFlow backend)' : '';
      this.log.info(`backend node: ${runtime.command} [${runtime.source}]${note}`);
    }
    return runtime;
  }

  /** Runs `ava-lab <args>` to completion and collects its protocol events. */
  runOnce(args: string[], options: { cwd: string; timeoutMs: number; token?: vscode.CancellationToken }): Promise<OneShotResult> {
    const child = this.spawnPiped(args, options.cwd);
    const events: BackendEvent[] = [];
    const stdout = new LineSplitter();
    const stderr = new TailBuffer(40);
    const stderrLines = new LineSplitter();
    child.stdin.end();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of stdout.push(chunk)) {
        const e = decodeEvent(line);
        if (e) events.push(e);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(...stderrLines.push(chunk)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
      const cancel = options.token?.onCancellationRequested(() => child.kill('SIGTERM'));
      child.once('error', (e) => {
        clearTimeout(timer);
        cancel?.dispose();
        reject(e);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        cancel?.dispose();
        for (const line of stdout.flush()) {
          const e = decodeEvent(line);
          if (e) events.push(e);
        }
        stderr.push(...stderrLines.flush());
        resolve({ events, code, stderr: stderr.get() });
      });
    });
  }

  /** `ava-lab <args>` with pipes (for `serve --json`). */
  spawnPiped(args: string[], cwd: string, env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
    const runtime = this.runtime();
    this.log.debug(`spawn ${runtime.command} ${[this.cliPath, ...args].join(' ')}`);
    return spawn(runtime.command, [this.cliPath, ...args], {
      cwd,
      env: { ...process.env, ...runtime.env, ...env },
      stdio: 'pipe',
      windowsHide: true,
    });
  }
}
