/**
 * What a cell takes from other cells of its grid (same seed), once they have finished:
 * `model.init_from: cell:<variant>` (that cell's final weights) and the AfD pairs of
 * `data.afd` (spec §6.5), sampled from the π_init / π_SFT cells and kept in the run folder as
 * `afd-pairs.jsonl`, so a resumed or re-evaluated run reads the same pairs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AvaError } from '../errors.js';
import type { RunConfig } from '../experiment/config.js';
import { CELL_REF, isCellRef } from '../experiment/grid.js';
import { CHECKPOINTS_DIR, LATEST_CHECKPOINT, RUN_AFD_PAIRS, cellDirName } from '../run/layout.js';
import { readJsonFile, writeTextAtomic } from '../run/files.js';
import { readStatus } from '../run/status.js';
import { readJsonl } from '../data/jsonl.js';
import { demoText } from '../data/dataset.js';
import { afdGoldAgreement, describeAfdMode, sampleAfdRows } from '../generate/afdSample.js';
import { goldReward } from '../eval/judges.js';
import { getTask } from '../tasks/index.js';
import type { DataFiles } from './data.js';

/** The run folder of `variant`'s cell with this run's seed, which must have finished. */
export function finishedCellDir(gridDir: string, variant: string, seed: number, key: string): string {
  const dir = join(gridDir, cellDirName(variant, seed));
  const status = readStatus(dir)?.status ?? 'not started';
  if (status !== 'finished') throw new AvaError('config', `this cell needs the finished cell of variant \`${variant}\`, seed ${seed} (${dir}), which is ${status}`, { key });
  return dir;
}

/** `model.init_from` as a checkpoint folder: a `cell:<variant>` reference becomes that cell's last checkpoint. */
export function resolveInitFrom(run: RunConfig, gridDir: string): string | null {
  const from = run.model.init_from;
  if (from === null || !isCellRef(from)) return from;
  const dir = finishedCellDir(gridDir, from.slice(CELL_REF.length), run.seed, 'model.init_from');
  const latest = readJsonFile<{ path: string }>(join(dir, CHECKPOINTS_DIR, LATEST_CHECKPOINT));
  if (!latest) throw new AvaError('checkpoint', `${dir} finished without a checkpoint`, { key: 'model.init_from' });
  return join(dir, CHECKPOINTS_DIR, latest.path);
}

/**
 * The AfD pair file of a cell, built on first use: the demonstrations are the rows of the
 * training file (the chosen halves of a preference file), the samples come from the source
 * cells with this run's seed. On a built-in task each row also records both sides' gold reward.
 */
export async function ensureAfdPairs(run: RunConfig, runDir: string, gridDir: string, files: DataFiles, signal: AbortSignal, log: (message: string) => void): Promise<string> {
  const out = join(runDir, RUN_AFD_PAIRS);
  if (existsSync(out)) return out;
  const afd = run.data.afd;
  const runs: Partial<Record<'init' | 'sft', string>> = {};
  for (const source of ['init', 'sft'] as const) {
    const variant = afd[source];
    if (variant !== null) runs[source] = finishedCellDir(gridDir, variant, run.seed, `data.afd.${source}`);
  }
  const demos: { prompt: string; response: string }[] = [];
  const reader = readJsonl(files.train, { onBadLine: run.data.on_bad_line, signal });
  for await (const row of reader) {
    try {
      const d = demoText(row.value, run.data);
      demos.push({ prompt: d.prompt, response: d.response });
    } catch (e) {
      if (run.data.on_bad_line === 'fail') throw new AvaError('data', `not a demonstration: ${e instanceof Error ? e.message : String(e)}`, { file: files.train, line: row.line });
    }
  }
  if (demos.length === 0) throw new AvaError('data', `no demonstrations in ${files.train} to build AfD pairs from`, { file: files.train });
  const task = files.task ? getTask(files.task.name) : null;
  const gold = task && demos.every((d) => task.goldOf(d.prompt)) ? (p: string, r: string) => goldReward(task, p, r) : undefined;
  const rows = await sampleAfdRows(demos, { mode: afd.pair_mode, runs, temperature: afd.temperature, maxNewTokens: afd.max_new_tokens, seed: run.seed, signal, log }, gold);
  writeTextAtomic(out, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  const agreement = afdGoldAgreement(rows);
  log(
    `${runDir}: ${rows.length} AfD pairs (${describeAfdMode(afd.pair_mode)})` +
      (agreement ? `; by the gold reward the chosen side is better in ${(100 * agreement.chosen_better).toFixed(1)} %, tied in ${(100 * agreement.tied).toFixed(1)} %` : ''),
  );
  return out;
}
