/** `ava-lab data make <task> --out DIR`: write a built-in task's JSONL files. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { DEFAULT_DATA } from '../../core/experiment/config.js';
import { TASKS, writeTaskFiles } from '../../core/tasks/index.js';
import type { Reporter } from '../reporter.js';

function numberOption(name: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0) throw new AvaError('usage', `--${name} must be a non-negative ${integer ? 'integer' : 'number'}, got '${value}'`);
  return n;
}

export async function dataCommand(argv: string[], rep: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, seed: { type: 'string' }, 'n-train': { type: 'string' }, 'n-eval': { type: 'string' }, noise: { type: 'string' }, 'noise-model': { type: 'string' }, json: { type: 'boolean' } },
  });
  const [sub, task] = positionals;
  const known = Object.keys(TASKS).join(', ');
  if (sub !== 'make' || !task || !values.out) throw new AvaError('usage', `usage: ava-lab data make <${known}> --out DIR [--seed N] [--n-train N] [--n-eval N] [--noise P] [--noise-model flip|bt]`);
  const d = DEFAULT_DATA.task_options;
  const noiseModel = values['noise-model'] ?? d.noise_model;
  if (noiseModel !== 'flip' && noiseModel !== 'bt') throw new AvaError('usage', `--noise-model must be flip or bt, got '${noiseModel}'`);
  const opts = {
    seed: numberOption('seed', values.seed, d.seed, true),
    n_train: numberOption('n-train', values['n-train'], d.n_train, true),
    n_eval: numberOption('n-eval', values['n-eval'], d.n_eval, true),
    noise: numberOption('noise', values.noise, d.noise, false),
    noise_model: noiseModel as 'flip' | 'bt',
  };
  const out = resolve(values.out);
  await writeTaskFiles(task, opts, out);
  rep.log('info', `wrote task '${task}' (seed ${opts.seed}, ${opts.n_train} train / ${opts.n_eval} eval pairs, noise ${opts.noise_model} ${opts.noise}) to ${out}`);
  rep.print(`${out}/train.jsonl\n${out}/eval.jsonl\n${out}/demos.jsonl\n${out}/task.json`);
  return EXIT.ok;
}
