/**
 * Per-token rewards of one dataset line from a trained run, on demand: the service behind
 * `ava-lab rewards --line N` and the hover of the VS Code extension (through `ava-lab serve`).
 * Trained runs stay loaded in a small LRU cache; dataset files are indexed lazily (a huge
 * file is never read whole), and results are cached per (run, file, line).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LineRewards } from '../../protocol/events.js';
import { AvaError } from '../errors.js';
import { JsonlIndex } from '../data/jsonl.js';
import { demoExample, fieldValue, pairExample, type RowContext } from '../data/dataset.js';
import type { DemoExample, PairExample } from '../data/types.js';
import { LruCache } from '../util/lru.js';
import { loadTrainedRun, type TrainedRun } from './trained.js';
import { readDemos, readPairs } from './readout.js';

export class LineRewardService {
  private readonly runs = new LruCache<string, Promise<TrainedRun>>(2, (p) => void p.then((r) => r.dispose(), () => {}));
  private readonly indexes = new LruCache<string, { mtime: number; index: JsonlIndex }>(8, (e) => void e.index.close());
  private readonly results = new LruCache<string, LineRewards>(512);

  private run(runDir: string): Promise<TrainedRun> {
    let p = this.runs.get(runDir);
    if (!p) {
      p = loadTrainedRun(runDir);
      // A run that failed to load is tried again next time (it may still be training).
      p.catch(() => this.runs.delete(runDir));
      this.runs.set(runDir, p);
    }
    return p;
  }

  private async index(file: string): Promise<JsonlIndex> {
    const mtime = statSync(file).mtimeMs;
    const hit = this.indexes.get(file);
    if (hit && hit.mtime === mtime) return hit.index;
    const index = await JsonlIndex.open(file);
    this.indexes.set(file, { mtime, index });
    return index;
  }

  /** Per-token rewards of line `line` (1-based) of `dataFile` under the model of `runDir`. */
  async lineRewards(runDirIn: string, dataFileIn: string, line: number): Promise<LineRewards> {
    const runDir = resolve(runDirIn);
    const dataFile = resolve(dataFileIn);
    if (!Number.isInteger(line) || line < 1) throw new AvaError('usage', `--line must be a positive integer, got ${line}`);
    let mtime: number;
    try {
      mtime = statSync(dataFile).mtimeMs;
    } catch {
      throw new AvaError('data', 'file not found', { file: dataFile });
    }
    const key = `${runDir}\0${dataFile}\0${mtime}\0${line}`;
    const cached = this.results.get(key);
    if (cached) return cached;

    const trained = await this.run(runDir);
    const text = await (await this.index(dataFile)).readLine(line);
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (e) {
      throw new AvaError('data', `line is not valid JSON: ${(e as Error).message}`, { file: dataFile, line });
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new AvaError('data', 'line is not a JSON object', { file: dataFile, line });
    const record = row as Record<string, unknown>;
    const { run, tokenizer, models } = trained;
    // A hover shows what fits: an over-long line is left-truncated rather than refused.
    const ctx: RowContext = { file: dataFile, line, data: { ...run.data, truncation: 'prompt_left' }, tokenizer, context: run.model.context };
    const isPair = [run.data.fields.chosen, run.data.fields.rejected].every((f) => fieldValue(record, f) !== undefined);
    let example: PairExample | DemoExample | null;
    try {
      example = isPair ? pairExample(record, ctx) : demoExample(record, { ...ctx, data: { ...ctx.data, format: 'demonstration' } });
    } catch (e) {
      // A missing or non-string field: report it as a data error at this line.
      throw e instanceof AvaError ? e : new AvaError('data', (e as Error).message, { file: dataFile, line });
    }
    if (!example) throw new AvaError('data', `the response alone is longer than the model's context (${run.model.context} tokens)`, { file: dataFile, line });
    const result = isPair ? readPairs(models, [example as PairExample], run, tokenizer)[0] : readDemos(models, [example as DemoExample], run, tokenizer)[0];
    this.results.set(key, result);
    return result;
  }

  dispose(): void {
    this.runs.clear();
  }
}
