/**
 * Built-in tasks with an exact gold reward (`data.task`): generated offline from a seed,
 * shaped like the paper's three datasets (spec §7). See task.ts for pairs, label noise and
 * the best possible accuracy, and each task's file for its gold reward.
 *
 * Files (`writeTaskFiles`): train.jsonl and eval.jsonl (preference rows: prompt, chosen,
 * rejected, gold), demos.jsonl (demonstration rows from the exact solver: prompt, response,
 * gold) and task.json (TaskInfo). The same options give byte-identical files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AvaError } from '../errors.js';
import { harmless } from './harmless.js';
import { helpful } from './helpful.js';
import { moby } from './moby.js';
import { makeRng, round6 } from './random.js';
import { summary } from './summary.js';
import { bestPossibleAccuracy, demoRows, goldAccuracy, preferenceRows, type DemoRow, type PrefRow, type TaskDefinition, type TaskOptions } from './task.js';

export { bestPossibleAccuracy, type DemoRow, type PrefRow, type TaskDefinition, type TaskInstance, type TaskOptions } from './task.js';

export const TASKS: Readonly<Record<string, TaskDefinition>> = { harmless, helpful, summary, moby };

export const TASK_FILES = { train: 'train.jsonl', eval: 'eval.jsonl', demos: 'demos.jsonl', info: 'task.json' } as const;

export interface TaskInfo {
  name: string;
  description: string;
  goldDescription: string;
  /** mean(max(p, 1 − p)) over the eval pairs, p = p_label_correct: the best expected reward accuracy (6 decimals). */
  bestPossibleAccuracy: number;
  /** Fraction of eval pairs whose label agrees with the gold: the realised accuracy of the gold reward. */
  goldAccuracy: number;
  options: TaskOptions;
  counts: { train: number; eval: number; demos: number };
  vocabularySize: number;
  wordSplit: string;
}

export interface GeneratedTask {
  train: PrefRow[];
  eval: PrefRow[];
  demos: DemoRow[];
  info: TaskInfo;
}

export function getTask(name: string): TaskDefinition {
  if (!Object.hasOwn(TASKS, name)) {
    throw new AvaError('config', `unknown task "${name}"; the built-in tasks are ${Object.keys(TASKS).join(', ')}`, { key: 'data.task' });
  }
  return TASKS[name];
}

function checkOptions(opts: TaskOptions): void {
  const fail = (key: keyof TaskOptions, what: string) => {
    throw new AvaError('config', `${what}, got ${JSON.stringify(opts[key])}`, { key: `data.task_options.${key}` });
  };
  if (!Number.isInteger(opts.n_train) || opts.n_train < 1) fail('n_train', 'must be a positive integer');
  if (!Number.isInteger(opts.n_eval) || opts.n_eval < 1) fail('n_eval', 'must be a positive integer');
  if (!Number.isInteger(opts.seed)) fail('seed', 'must be an integer');
  if (opts.noise_model !== 'flip' && opts.noise_model !== 'bt') fail('noise_model', 'must be "flip" or "bt"');
  const maxNoise = opts.noise_model === 'flip' ? 1 : Infinity;
  if (!(opts.noise >= 0 && opts.noise <= maxNoise)) fail('noise', opts.noise_model === 'flip' ? 'a flip probability must lie in [0, 1]' : 'a Bradley-Terry temperature must be ≥ 0');
}

/** Train/eval preference rows and demonstrations of a built-in task, from `opts.seed`. */
export function generateTask(name: string, opts: TaskOptions): GeneratedTask {
  const task = getTask(name);
  checkOptions(opts);
  const train = preferenceRows(task, opts, opts.n_train, makeRng(name, opts.seed, 'train'));
  const evalRows = preferenceRows(task, opts, opts.n_eval, makeRng(name, opts.seed, 'eval'));
  const demos = demoRows(task, opts.n_train, makeRng(name, opts.seed, 'demos'));
  const info: TaskInfo = {
    name,
    description: task.description,
    goldDescription: task.goldDescription,
    bestPossibleAccuracy: round6(bestPossibleAccuracy(evalRows)),
    goldAccuracy: round6(goldAccuracy(evalRows)),
    options: { ...opts },
    counts: { train: train.length, eval: evalRows.length, demos: demos.length },
    vocabularySize: task.vocabulary.length,
    wordSplit: 'texts are lower-case words separated by single spaces; gold *_tokens has one entry per word (the word tokenizer split)',
  };
  return { train, eval: evalRows, demos, info };
}

const toJsonl = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

/** Writes train.jsonl, eval.jsonl, demos.jsonl and task.json into `outDir` (created if needed). */
export async function writeTaskFiles(name: string, opts: TaskOptions, outDir: string): Promise<TaskInfo> {
  const { train, eval: evalRows, demos, info } = generateTask(name, opts);
  await mkdir(outDir, { recursive: true });
  await Promise.all([
    writeFile(join(outDir, TASK_FILES.train), toJsonl(train)),
    writeFile(join(outDir, TASK_FILES.eval), toJsonl(evalRows)),
    writeFile(join(outDir, TASK_FILES.demos), toJsonl(demos)),
    writeFile(join(outDir, TASK_FILES.info), JSON.stringify(info, null, 2) + '\n'),
  ]);
  return info;
}
