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
import { configuredBackend, loadTrainedRun, type TrainedRun } from '../../core/eval/trained.js';
import { demoText } from '../../core/data/dataset.js';
import { generate } from '../../core/generate/generate.js';
import { AFD_MODES, afdPolicies, afdRows, DEFAULT_AFD_MODE, type AfdMode } from '../../core/generate/afd.js';
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
  const samples: Partial<Record<'init' | 'sft', string[]>> = {};
  let taskName: string | null = values.task ?? null;
  for (const policy of needed) {
    const trained: TrainedRun = await loadTrainedRun(values[policy]!);
    try {
      taskName ??= trained.run.data.task;
      const tok = trained.tokenizer;
      const gens = generate(trained.models.policy, tok, demos.map((d) => tok.encode(d.prompt)), 1, {
        temperature,
        topK: 0,
        topP: 1,
        maxNewTokens,
        seed,
        policy: 'lm',
        beta: trained.run.objective.beta,
        batchSize: 64,
        useCache: true,
        signal,
      });
      samples[policy] = gens.map((g) => tok.decode(g.ids).trim());
      rep.log('info', `sampled ${gens.length} answers from π_${policy} (${values[policy]})`);
    } finally {
      trained.dispose();
    }
  }
  const task = taskName ? getTask(taskName) : null;
  const gold = task && demos.every((d) => task.goldOf(d.prompt)) ? (p: string, r: string) => goldReward(task, p, r) : undefined;
  const rows = afdRows(demos, samples, mode, gold);
  writeTextAtomic(values.out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  rep.print(`Written: ${values.out} (${rows.length} AfD pairs, mode ${mode}: chosen = ${AFD_MODES[mode].chosen}, rejected = ${AFD_MODES[mode].rejected})`);
  if (gold) {
    const agree = rows.filter((r) => r.afd.gold!.chosen > r.afd.gold!.rejected).length;
    const ties = rows.filter((r) => r.afd.gold!.chosen === r.afd.gold!.rejected).length;
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    rep.print(
      `Gold (${task!.name}): the chosen side is better in ${((100 * agree) / rows.length).toFixed(1)} % of the pairs, tied in ${((100 * ties) / rows.length).toFixed(1)} %; mean gold chosen ${mean(rows.map((r) => r.afd.gold!.chosen)).toFixed(3)}, rejected ${mean(rows.map((r) => r.afd.gold!.rejected)).toFixed(3)}`,
    );
  }
  return EXIT.ok;
}
