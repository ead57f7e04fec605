/** `ava-lab eval <run_dir> <data.jsonl>`: reward accuracy of a trained run on a preference file, with n and a 95% interval. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { loadPairs } from '../../core/data/dataset.js';
import { bestPossibleAccuracy, evaluate } from '../../core/eval/evaluate.js';
import { tokenAttribution } from '../../core/eval/attribution.js';
import { readPairs } from '../../core/eval/readout.js';
import { hasTokenRewards } from '../../core/objectives/table.js';
import type { EvalSummary } from '../../protocol/events.js';
import { formatR } from '../table.js';
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
    const best = bestPossibleAccuracy(examples);
    const summary: EvalSummary = { ...evaluate(trained.models, examples, run, trained.step, best), eval_file: dataFile, skipped };
    // Gold per-token rewards in the file (built-in tasks): how well the token rewards match them.
    if (hasTokenRewards(run.objective.kind) && examples.some((p) => p.goldTokens)) {
      const attribution = tokenAttribution(readPairs(trained.models, examples, run, tokenizer));
      if (attribution) summary.token_attribution = attribution;
    }
    rep.emit({ type: 'eval', run_dir: runDir, summary });
    const acc = summary.reward_acc!;
    const pct = (v: number) => (v * 100).toFixed(2);
    const lines = [`reward accuracy ${pct(acc.value)}%  95% CI [${pct(acc.lo)}, ${pct(acc.hi)}]  n=${acc.n}`];
    if (summary.gold_acc) lines.push(`gold accuracy   ${pct(summary.gold_acc.value)}%`);
    if (best !== undefined) lines.push(`best possible   ${pct(best)}%`);
    const ta = summary.token_attribution;
    if (ta) {
      lines.push(`token rewards vs gold: centred r ${formatR(ta.pearson_centred)} (pooled ${formatR(ta.pearson)}, weighted ${formatR(ta.pearson_weighted)}), Spearman ${formatR(ta.spearman)}, within-sequence Spearman ${formatR(ta.spearman_within)} over ${ta.tokens} tokens`);
      lines.push(`                       one token late: centred r ${formatR(ta.pearson_centred_late)}; σ calibration (Spearman of σ with |error|) ${formatR(ta.sigma_calibration)}`);
    }
    if (skipped.badLines || skipped.tooLong) lines.push(`skipped: ${skipped.badLines} malformed, ${skipped.tooLong} too long`);
    rep.print(lines.join('\n'));
    return EXIT.ok;
  } finally {
    trained.dispose();
  }
}
