/**
 * The long-lived `ava-lab serve --json` child that answers per-token reward requests for hovers,
 * decorations and the token-rewards panel. Requests carry ids (ServeRequest in
 * src/protocol/events.ts) and are answered by one `response` event each; the client matches
 * them, times them out, and restarts the server on the next request after a crash (giving up
 * after repeated crashes in a short time, so a broken setup does not spawn processes forever).
 * Pipes are fine here: the server holds no state worth keeping across a window reload.
 * No `vscode` import.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { decodeEvent, type LineRewards, type ServeRequest } from '../../protocol/events.js';
import { LineSplitter, TailBuffer } from './lines.js';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ServeClientOptions {
  /** Spawns `node dist/cli.cjs serve --json` (or a stand-in in tests). */
  spawnServer: () => ChildProcessWithoutNullStreams;
  log: Logger;
  /** Per request; the first one also waits for the model to load. */
  timeoutMs?: number;
  /** Crashes within `crashWindowMs` after which the client stops restarting the server. */
  maxCrashes?: number;
  crashWindowMs?: number;
}

export interface Cancellation {
  isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

export class RequestCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'RequestCancelledError';
  }
}

interface Pending {
  resolve: (r: LineRewards) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  unsubscribe?: () => void;
}

type ServeCall = Omit<Extract<ServeRequest, { method: 'rewards' }>, 'id' | 'method'>;

export class ServeClient {
  private child: ChildProcessWithoutNullStreams | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly stderrTail = new TailBuffer(20);
  private crashTimes: number[] = [];
  private disposed = false;

  constructor(private readonly options: ServeClientOptions) {}

  /** Per-token rewards of one line of `data` from the model of run `run_dir`. */
  rewards(call: ServeCall, cancel?: Cancellation): Promise<LineRewards> {
    if (this.disposed) return Promise.reject(new Error('the rewards server has been shut down'));
    if (cancel?.isCancellationRequested) return Promise.reject(new RequestCancelledError());
    let child: ChildProcessWithoutNullStreams;
    try {
      child = this.ensureServer();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const id = this.nextId++;
    const request: ServeRequest = { id, method: 'rewards', ...call };
    return new Promise<LineRewards>((resolve, reject) => {
      const timeoutMs = this.options.timeoutMs ?? 60_000;
      const timer = setTimeout(() => this.settle(id, new Error(`the rewards server did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const subscription = cancel?.onCancellationRequested(() => this.settle(id, new RequestCancelledError()));
      if (subscription) this.pending.get(id)!.unsubscribe = () => subscription.dispose();
      child.stdin.write(JSON.stringify(request) + '\n');
    });
  }

  /** Asks the server to exit and forgets it; a later request would start a new one. */
  shutdown(): void {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    try {
      child.stdin.end(JSON.stringify({ id: this.nextId++, method: 'shutdown' } satisfies ServeRequest) + '\n');
    } catch {
      // stdin already closed
    }
    setTimeout(() => child.kill('SIGTERM'), 2000).unref();
  }

  /** Restarts are allowed again (after the user changed a setting or rebuilt the backend). */
  resetCrashes(): void {
    this.crashTimes = [];
  }

  dispose(): void {
    this.disposed = true;
    this.shutdown();
    for (const id of [...this.pending.keys()]) this.settle(id, new Error('the rewards server has been shut down'));
  }

  private ensureServer(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const window = this.options.crashWindowMs ?? 60_000;
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < window);
    if (this.crashTimes.length >= (this.options.maxCrashes ?? 3)) {
      throw new Error(`the rewards server crashed ${this.crashTimes.length} times in a row; last output: ${this.stderrTail.get().slice(-3).join(' | ') || '(none)'}`);
    }
    const child = this.options.spawnServer();
    this.child = child;
    this.options.log.info(`rewards server started (pid ${child.pid})`);
    const stdout = new LineSplitter();
    const stderr = new LineSplitter();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(stdout.push(chunk)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = stderr.push(chunk);
      this.stderrTail.push(...lines);
      for (const l of lines) this.options.log.info(`[serve] ${l}`);
    });
    child.stdin.on('error', () => undefined); // reported through 'exit'
    child.once('error', (e) => this.onServerGone(child, `could not start: ${e.message}`));
    child.once('exit', (code, signal) => this.onServerGone(child, signal ? `killed by ${signal}` : `exited with code ${code}`));
    return child;
  }

  private onStdout(lines: string[]): void {
    for (const line of lines) {
      const event = decodeEvent(line);
      if (event?.type === 'response') {
        if (event.ok && event.result) this.settle(event.id, null, event.result);
        else this.settle(event.id, new Error(event.error ?? 'the rewards server could not compute this line'));
      } else if (event?.type === 'log') {
        this.options.log.info(`[serve] ${event.message}`);
      }
    }
  }

  private onServerGone(child: ChildProcessWithoutNullStreams, how: string): void {
    if (this.child !== child) return; // an old server we already replaced or shut down
    this.child = undefined;
    this.crashTimes.push(Date.now());
    const tail = this.stderrTail.get().slice(-3).join(' | ');
    this.options.log.warn(`rewards server ${how}${tail ? `: ${tail}` : ''}`);
    for (const id of [...this.pending.keys()]) this.settle(id, new Error(`the rewards server ${how}${tail ? `: ${tail}` : ''}`));
  }

  private settle(id: number, error: Error | null, result?: LineRewards): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.unsubscribe?.();
    if (error) p.reject(error);
    else p.resolve(result as LineRewards);
  }
}
