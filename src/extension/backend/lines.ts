/**
 * Byte streams to text lines: a splitter that keeps a partial last line until its newline
 * arrives, and a bounded tail of the most recent lines (the backend's last stderr lines are
 * what a user needs when it crashes). Pure: no Node streams, no `vscode`.
 */

/** Splits chunks of text into complete lines; the unterminated rest waits for the next chunk. */
export class LineSplitter {
  private rest = '';

  /** Feeds a chunk and returns the lines it completed (without their `\n` or `\r\n`). */
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map(stripCarriageReturn);
  }

  /** The unterminated last line, if any (call once the stream has ended). */
  flush(): string[] {
    const last = this.rest;
    this.rest = '';
    return last === '' ? [] : [stripCarriageReturn(last)];
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** The last `capacity` lines pushed, oldest first. */
export class TailBuffer {
  private readonly lines: string[] = [];

  constructor(readonly capacity: number) {}

  push(...lines: string[]): void {
    this.lines.push(...lines);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  get(): string[] {
    return [...this.lines];
  }

  text(): string {
    return this.lines.join('\n');
  }
}
