/**
 * Everything a run reads before its first step: the dataset files (a built-in task is
 * generated once per grid into `<grid>/data/`), the tokenizer, and the encoded examples.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AvaError } from '../errors.js';
import { DEFAULT_DATA, type RunConfig } from '../experiment/config.js';
import { isPairwise } from '../objectives/table.js';
import type { DemoExample, PairExample } from '../data/types.js';
import { buildTokenizerAsync, type Tokenizer } from '../data/tokenizer.js';
import { corpusFromJsonl, loadPairs, loadDemos } from '../data/dataset.js';
import { writeTaskFiles } from '../tasks/index.js';
import { readJsonFile } from '../run/files.js';

export interface TaskInfo {
  name: string;
  description: string;
  bestPossibleAccuracy: number;
  goldDescription: string;
}

export interface DataFiles {
  train: string;
  eval: string | null;
  task: TaskInfo | null;
}

export interface PreparedData {
  tokenizer: Tokenizer;
  files: DataFiles;
  /** Pairwise objectives train on pairs; AVA-d and SFT on demonstrations (the chosen halves of a preference file, spec §7). */
  trainPairs: PairExample[];
  trainDemos: DemoExample[];
  /** Held-out pairs for reward accuracy (empty when the eval file holds demonstrations). */
  evalPairs: PairExample[];
  evalDemos: DemoExample[];
  skipped: { badLines: number; tooLong: number };
}

/** The generated files of a built-in task live under the grid, keyed by the task's options. */
export async function ensureTaskFiles(run: RunConfig, dataRoot: string): Promise<DataFiles> {
  const task = run.data.task;
  if (!task) throw new Error('ensureTaskFiles: no built-in task configured');
  const key = createHash('sha256').update(JSON.stringify([task, run.data.task_options])).digest('hex').slice(0, 10);
  const dir = join(dataRoot, `${task}-${key}`);
  if (!existsSync(join(dir, 'task.json'))) {
    // Written aside and renamed: an interrupted generation never leaves half a task behind,
    // and two cells racing to generate the same task both end with a complete one.
    const tmp = `${dir}.tmp-${process.pid}`;
    await writeTaskFiles(task, run.data.task_options, tmp);
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(join(dir, 'task.json'))) throw new AvaError('data', `could not write the task data to ${dir}`, { file: dir });
    }
  }
  return { train: join(dir, 'train.jsonl'), eval: join(dir, 'eval.jsonl'), task: readJsonFile<TaskInfo>(join(dir, 'task.json')) };
}

export async function dataFilesFor(run: RunConfig, dataRoot: string): Promise<DataFiles> {
  if (run.data.task) return ensureTaskFiles(run, dataRoot);
  if (!run.data.train) throw new AvaError('config', 'set data.task or data.train', { key: 'data' });
  return { train: run.data.train, eval: run.data.eval, task: null };
}

function demosFromPairs(pairs: PairExample[]): DemoExample[] {
  return pairs.map((p) => ({ line: p.line, seq: p.chosen, goldTokens: p.goldTokens?.chosen }));
}

async function loadSplit(path: string, run: RunConfig, tok: Tokenizer): Promise<{ pairs: PairExample[]; demos: DemoExample[]; badLines: number; tooLong: number }> {
  if (run.data.format === 'preference') {
    const { examples, skipped } = await loadPairs(path, run.data, tok, run.model.context);
    return { pairs: examples, demos: demosFromPairs(examples), ...skipped };
  }
  const { examples, skipped } = await loadDemos(path, run.data, tok, run.model.context);
  return { pairs: [], demos: examples, ...skipped };
}

/**
 * Load and encode the data of a run. `tokenizer` is given when resuming or evaluating a
 * trained model (its vocabulary is fixed); otherwise it is built from the training text.
 * `afdPairs` (a cell with `data.afd`, see cellInputs.ts) replaces the training examples with
 * that pair file; the tokenizer is still built from the training text, as in every other cell.
 */
export async function prepareData(run: RunConfig, dataRoot: string, tokenizer?: Tokenizer, afdPairs?: (files: DataFiles) => Promise<string>): Promise<PreparedData> {
  const files = await dataFilesFor(run, dataRoot);
  const tok = tokenizer ?? (await buildTokenizerAsync(run.tokenizer, corpusFromJsonl(files.train, run.data)));
  const train = afdPairs
    ? await loadSplit(await afdPairs(files), { ...run, data: { ...run.data, format: 'preference', fields: DEFAULT_DATA.fields, on_bad_line: 'fail' } }, tok)
    : await loadSplit(files.train, run, tok);
  const evalSplit = files.eval ? await loadSplit(files.eval, run, tok) : { pairs: [], demos: [], badLines: 0, tooLong: 0 };
  const pairwise = isPairwise(run.objective.kind);
  if (pairwise && train.pairs.length === 0) throw new AvaError('data', `no usable preference pairs in ${files.train}`, { file: files.train });
  if (!pairwise && train.demos.length === 0) throw new AvaError('data', `no usable demonstrations in ${files.train}`, { file: files.train });
  const max = run.eval.max_examples;
  return {
    tokenizer: tok,
    files,
    trainPairs: train.pairs,
    trainDemos: train.demos,
    evalPairs: max > 0 ? evalSplit.pairs.slice(0, max) : evalSplit.pairs,
    evalDemos: max > 0 ? evalSplit.demos.slice(0, max) : evalSplit.demos,
    skipped: { badLines: train.badLines + evalSplit.badLines, tooLong: train.tooLong + evalSplit.tooLong },
  };
}
