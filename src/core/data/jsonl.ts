/**
 * JSON Lines, read as a stream: files can be far larger than memory.
 *
 * Lines are split on `\n` (a `\r` before it is dropped, the last line may lack a newline) and
 * numbered from 1 like an editor numbers them, blank lines included. Each line is decoded
 * as strict UTF-8 (a leading byte-order mark on line 1 is dropped); a file that is not UTF-8
 * always fails, naming the first bad line. Blank lines are passed over silently. A line
 * that is not a JSON object is a *bad line*: with `onBadLine: 'fail'` it throws an AvaError
 * naming file:line, with `'skip'` it is counted in `reader.stats`.
 *
 *   const reader = readJsonl(path, { onBadLine: 'skip' });
 *   for await (const { line, value } of reader) { ... reader.reject(line, 'field "x" is missing', 'x') ... }
 *   reader.stats.skipped;
 *
 * `JsonlIndex` finds line n of a file without reading further than line n (editor hovers).
 */
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { AvaError } from '../errors.js';

export type BadLinePolicy = 'fail' | 'skip';

export interface JsonlOptions {
  onBadLine: BadLinePolicy;
  signal?: AbortSignal;
}

export interface JsonlRow {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  value: Record<string, unknown>;
}

export interface BadLine {
  line: number;
  message: string;
  /** The field concerned, when the row was rejected because of one. */
  key?: string;
}

export interface JsonlStats {
  /** Lines read so far (blank ones included). */
  lines: number;
  /** Rows handed to the caller (whether or not the caller then rejected them). */
  rows: number;
  blank: number;
  /** Bad lines skipped (only with `onBadLine: 'skip'`). */
  skipped: number;
  /** The first `MAX_REPORTED_BAD_LINES` skipped lines, for the log. */
  badLines: BadLine[];
}

export const MAX_REPORTED_BAD_LINES = 20;
const CHUNK_BYTES = 1 << 16;
const NEWLINE = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];

/** One raw line: its bytes without the line break. */
interface RawLine {
  line: number;
  offset: number;
  bytes: Uint8Array;
}

export function readJsonl(path: string, opts: JsonlOptions): JsonlReader {
  return new JsonlReader(path, opts);
}

export class JsonlReader implements AsyncIterable<JsonlRow> {
  readonly stats: JsonlStats = { lines: 0, rows: 0, blank: 0, skipped: 0, badLines: [] };
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(
    readonly path: string,
    private readonly opts: JsonlOptions,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<JsonlRow> {
    await assertReadableFile(this.path);
    for await (const raw of readRawLines(this.path, this.opts.signal)) {
      this.opts.signal?.throwIfAborted();
      this.stats.lines = raw.line;
      const text = this.decode(raw);
      if (text.trim() === '') {
        this.stats.blank++;
        continue;
      }
      const value = this.parse(text, raw.line);
      if (value === undefined) continue;
      this.stats.rows++;
      yield { line: raw.line, offset: raw.offset, value };
    }
    if (this.stats.rows + this.stats.skipped === 0) throw new AvaError('data', 'the file is empty (no JSON lines)', { file: this.path });
  }

  /**
   * Applies the bad-line policy to a line the caller cannot use (e.g. a required field is
   * missing): throws with `file:line` under `fail`, counts it under `skip`.
   */
  reject(line: number, message: string, key?: string): void {
    if (this.opts.onBadLine === 'fail') throw new AvaError('data', message, { file: this.path, line, key });
    this.stats.skipped++;
    if (this.stats.badLines.length < MAX_REPORTED_BAD_LINES) this.stats.badLines.push(key === undefined ? { line, message } : { line, message, key });
  }

  private decode(raw: RawLine): string {
    let bytes = raw.bytes;
    if (raw.line === 1 && BOM.every((b, i) => bytes[i] === b)) bytes = bytes.subarray(BOM.length);
    try {
      return this.utf8.decode(bytes);
    } catch {
      throw new AvaError('data', 'the line is not valid UTF-8 (save the file as UTF-8)', { file: this.path, line: raw.line });
    }
  }

  private parse(text: string, line: number): Record<string, unknown> | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.reject(line, `malformed JSON: ${(e as Error).message}`);
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.reject(line, `expected a JSON object, found ${describeJson(value)}`);
      return undefined;
    }
    return value as Record<string, unknown>;
  }
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A clear AvaError for a path that is missing, a directory or unreadable. */
async function assertReadableFile(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new AvaError('data', 'expected a JSONL file, found a directory', { file: path });
  } catch (e) {
    if (e instanceof AvaError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new AvaError('data', code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? (e as Error).message})`, { file: path });
  }
}

/** Streams the lines of a file in chunks; a line is only joined from chunks when it spans them. */
async function* readRawLines(path: string, signal?: AbortSignal): AsyncGenerator<RawLine> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES, signal });
  let carry: Buffer[] = [];
  let line = 1;
  let offset = 0;
  const emit = (bytes: Uint8Array): RawLine => {
    const raw = { line, offset, bytes: stripCR(bytes) };
    line++;
    offset += bytes.length + 1;
    return raw;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      yield emit(carry.length > 0 ? Buffer.concat([...carry, piece]) : piece);
      carry = [];
      start = nl + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length > 0) yield emit(Buffer.concat(carry));
}

function stripCR(bytes: Uint8Array): Uint8Array {
  return bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
}

// ---------------------------------------------------------------------------------------------

/**
 * Byte offsets of line starts, found lazily: asking for line n scans the file only up to the
 * end of line n. The index notices when the file's size or mtime changes and starts over.
 * Lines are numbered as in `readJsonl`; text is decoded leniently (bad bytes ⇒ U+FFFD).
 */
export class JsonlIndex {
  /** starts[k] = byte offset where line k+1 starts. */
  private starts: number[] = [0];
  private scanned = 0;
  private readonly lenient = new TextDecoder('utf-8');
  /** Calls run one at a time (a hover may ask again before the last answer came). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private size: number,
    private mtimeMs: number,
  ) {}

  static async open(path: string): Promise<JsonlIndex> {
    await assertReadableFile(path);
    const handle = await open(path, 'r');
    const info = await handle.stat();
    return new JsonlIndex(path, handle, info.size, info.mtimeMs);
  }

  /** How far the index has read into the file (bytes). */
  get bytesScanned(): number {
    return this.scanned;
  }

  /** The text of 1-based line n, without its line break. */
  readLine(n: number): Promise<string> {
    return this.serialized(() => this.readLineNow(n));
  }

  /** The 1-based line holding byte `offset`. */
  lineAtOffset(offset: number): Promise<number> {
    return this.serialized(() => this.lineAtOffsetNow(offset));
  }

  async close(): Promise<void> {
    await this.serialized(() => this.handle.close());
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async readLineNow(n: number): Promise<string> {
    if (!Number.isInteger(n) || n < 1) throw new AvaError('data', `line ${n} does not exist (lines start at 1)`, { file: this.path });
    await this.refreshIfChanged();
    await this.scanUntil(() => this.starts.length > n);
    const start = this.starts[n - 1];
    if (start === undefined || start >= this.size) throw new AvaError('data', `line ${n} is past the end of the file`, { file: this.path, line: n });
    const end = n < this.starts.length ? this.starts[n] - 1 : this.size;
    const bytes = Buffer.alloc(end - start);
    await this.handle.read(bytes, 0, bytes.length, start);
    return this.lenient.decode(stripCR(bytes));
  }

  private async lineAtOffsetNow(offset: number): Promise<number> {
    await this.refreshIfChanged();
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.size) throw new AvaError('data', `byte offset ${offset} is outside the file`, { file: this.path });
    await this.scanUntil(() => this.scanned > offset);
    return upperBound(this.starts, offset);
  }

  private async refreshIfChanged(): Promise<void> {
    const info = await this.handle.stat();
    if (info.size === this.size && info.mtimeMs === this.mtimeMs) return;
    [this.size, this.mtimeMs, this.starts, this.scanned] = [info.size, info.mtimeMs, [0], 0];
  }

  private async scanUntil(enough: () => boolean): Promise<void> {
    const chunk = Buffer.alloc(CHUNK_BYTES);
    while (!enough() && this.scanned < this.size) {
      const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, this.scanned);
      if (bytesRead === 0) break;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1 && nl < bytesRead; nl = chunk.indexOf(NEWLINE, nl + 1)) {
        this.starts.push(this.scanned + nl + 1);
      }
      this.scanned += bytesRead;
    }
  }
}

/** Number of elements of ascending `xs` that are <= x. */
function upperBound(xs: number[], x: number): number {
  let [lo, hi] = [0, xs.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
