/** `ava-lab eval <run_dir> <data.jsonl>`: reward accuracy of a trained run on a preference file, with n and a 95% interval. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { loadPairs } from '../../core/data/dataset.js';
import { evaluate } from '../../core/eval/evaluate.js';
import { configuredBackend, loadTrainedRun } from '../../core/eval/trained.js';
import { initBackend } from '../../core/engine/backend.js';
import type { BackendChoice } from '../../core/experiment/config.js';
import type { Reporter } from '../reporter.js';

export async function evalCommand(argv: string[], rep: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, backend: { type: 'string' } } });
  if (positionals.length !== 2) throw new AvaError('usage', 'usage: ava-lab eval <run_dir> <data.jsonl> [--json]');
  const [runDir, dataFile] = positionals.map((p) => resolve(p));
  await initBackend((values.backend as BackendChoice | undefined) ?? configuredBackend(runDir), (level, msg) => rep.log(level, msg));
  const trained = await loadTrainedRun(runDir);
  try {
    const { run, tokenizer } = trained;
    const { examples, skipped } = await loadPairs(dataFile, { ...run.data, format: 'preference' }, tokenizer, run.model.context);
    if (examples.length === 0) throw new AvaError('data', `no usable preference pairs in ${dataFile}`, { file: dataFile });
    const ps = examples.map((p) => p.gold?.pLabelCorrect);
    const best = ps.every((p) => p !== undefined) ? ps.reduce((a, b) => a! + b!, 0)! / ps.length : undefined;
    const summary = { ...evaluate(trained.models, examples, run, trained.step, best), eval_file: dataFile, skipped };
    rep.emit({ type: 'eval', run_dir: runDir, summary });
    const acc = summary.reward_acc!;
    const pct = (v: number) => (v * 100).toFixed(2);
    rep.print(`reward accuracy ${pct(acc.value)}%  95% CI [${pct(acc.lo)}, ${pct(acc.hi)}]  n=${acc.n}` + (summary.gold_acc ? `\ngold accuracy   ${pct(summary.gold_acc.value)}%` : '') + (best !== undefined ? `\nbest possible   ${pct(best)}%` : '') + (skipped.badLines || skipped.tooLong ? `\nskipped: ${skipped.badLines} malformed, ${skipped.tooLong} too long` : ''));
    return EXIT.ok;
  } finally {
    trained.dispose();
  }
}
