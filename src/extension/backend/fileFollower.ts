/**
 * Follows a file that another process appends to (like `tail -f`): each poll reads the bytes
 * added since the last one and hands over the complete lines. Polling, not fs.watch: it behaves
 * the same on every file system, and a poll of an unchanged file is one fstat.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from './lines.js';

const CHUNK = 1 << 16;

export class FileFollower {
  private fd: number | null = null;
  private offset = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private readonly splitter = new LineSplitter();

  constructor(
    readonly path: string,
    private readonly onLines: (lines: string[]) => void,
  ) {}

  /** Starts polling every `intervalMs`; reads what is already there first. */
  start(intervalMs: number): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  /** Reads and delivers whatever was appended since the last poll. */
  poll(): void {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.path, 'r');
      } catch {
        return; // not created yet
      }
    }
    const size = fstatSync(this.fd).size;
    if (size < this.offset) this.offset = 0; // truncated: start over
    const buffer = Buffer.alloc(CHUNK);
    const lines: string[] = [];
    while (this.offset < size) {
      const n = readSync(this.fd, buffer, 0, Math.min(CHUNK, size - this.offset), this.offset);
      if (n <= 0) break;
      this.offset += n;
      lines.push(...this.splitter.push(this.decoder.write(buffer.subarray(0, n))));
    }
    if (lines.length) this.onLines(lines);
  }

  /** Final read, including an unterminated last line, then stops. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
    const rest = this.splitter.flush();
    if (rest.length) this.onLines(rest);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
