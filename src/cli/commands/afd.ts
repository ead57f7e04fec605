/**
 * `ava-lab afd <demos.jsonl> --init RUN [--sft RUN] [--mode init_sft|init_demo|sft_demo] --out pairs.jsonl`:
 * AfD preference pairs from demonstrations (core/generate/afd.ts), sampled from trained runs
 * (π_init: the initial policy; π_SFT: after SFT on the demonstrations). The file trains any
 * pairwise objective (`data.train: pairs.jsonl`). On a built-in task's prompts (`--task`, else the
 * runs' `data.task`) it also reports how often the constructed label agrees with the gold reward.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { DEFAULT_DATA, DEFAULT_WINRATES, type BackendChoice } from '../../core/experiment/config.js';
import { initBackend } from '../../core/engine/backend.js';
import { configuredBackend, runConfigOf } from '../../core/eval/trained.js';
import { demoText } from '../../core/data/dataset.js';
import { AFD_MODES, afdPolicies, DEFAULT_AFD_MODE, type AfdMode } from '../../core/generate/afd.js';
import { afdGoldAgreement, describeAfdMode, sampleAfdRows } from '../../core/generate/afdSample.js';
import { goldReward } from '../../core/eval/judges.js';
import { getTask } from '../../core/tasks/index.js';
import { writeTextAtomic } from '../../core/run/files.js';
import type { Reporter } from '../reporter.js';

const USAGE = 'usage: ava-lab afd <demos.jsonl> --init RUN_DIR [--sft RUN_DIR] [--mode init_sft|init_demo|sft_demo] [--task NAME] [--seed N] [--temperature T] [--max-new-tokens M] --out pairs.jsonl';

function readDemos(path: string): { prompt: string; response: string }[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AvaError('usage', `cannot read the demonstrations (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: path });
  }
  const data = { ...DEFAULT_DATA, format: 'demonstration' as const };
  return text.split('\n').flatMap((raw, i) => {
    if (raw.trim() === '') return [];
    try {
      const d = demoText(JSON.parse(raw) as Record<string, unknown>, data);
      return [{ prompt: d.prompt, response: d.response }];
    } catch (e) {
      throw new AvaError('data', `not a demonstration row (prompt, response): ${e instanceof Error ? e.message : String(e)}`, { file: path, line: i + 1 });
    }
  });
}

export async function afdCommand(argv: string[], rep: Reporter, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { task: { type: 'string' }, init: { type: 'string' }, sft: { type: 'string' }, mode: { type: 'string' }, seed: { type: 'string' }, temperature: { type: 'string' }, 'max-new-tokens': { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length !== 1 || !values.out) throw new AvaError('usage', USAGE);
  const mode = (values.mode ?? DEFAULT_AFD_MODE) as AfdMode;
  if (!Object.hasOwn(AFD_MODES, mode)) throw new AvaError('usage', `--mode must be ${Object.keys(AFD_MODES).join(', ')}, got '${values.mode}'`);
  const needed = afdPolicies(mode);
  for (const p of needed) if (!values[p]) throw new AvaError('usage', `--mode ${mode} samples from π_${p === 'init' ? 'init' : 'SFT'}: give --${p} RUN_DIR`);
  const demos = readDemos(positionals[0]);
  if (demos.length === 0) throw new AvaError('data', 'the demonstrations file is empty', { file: positionals[0] });
  const firstRun = values[needed[0]]!;
  await initBackend((values.backend as BackendChoice | undefined) ?? configuredBackend(firstRun), (level, msg) => rep.log(level, msg));
  const seed = Number(values.seed ?? 0);
  const temperature = Number(values.temperature ?? DEFAULT_WINRATES.temperature);
  const maxNewTokens = Number(values['max-new-tokens'] ?? DEFAULT_WINRATES.max_new_tokens);
  const runs = Object.fromEntries(needed.map((p) => [p, values[p]!]));
  const taskName = values.task ?? runConfigOf(firstRun)?.data.task ?? null;
  const task = taskName ? getTask(taskName) : null;
  const gold = task && demos.every((d) => task.goldOf(d.prompt)) ? (p: string, r: string) => goldReward(task, p, r) : undefined;
  const rows = await sampleAfdRows(demos, { mode, runs, temperature, maxNewTokens, seed, signal, log: (m) => rep.log('info', m) }, gold);
  writeTextAtomic(values.out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  rep.print(`Written: ${values.out} (${rows.length} AfD pairs, ${describeAfdMode(mode)})`);
  const agreement = afdGoldAgreement(rows);
  if (agreement) {
    rep.print(
      `Gold (${task!.name}): the chosen side is better in ${(100 * agreement.chosen_better).toFixed(1)} % of the pairs, tied in ${(100 * agreement.tied).toFixed(1)} %; mean gold chosen ${agreement.mean_chosen.toFixed(3)}, rejected ${agreement.mean_rejected.toFixed(3)}`,
    );
  }
  return EXIT.ok;
}
