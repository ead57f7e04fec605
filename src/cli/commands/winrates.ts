/**
 * `ava-lab winrates <grid_dir> [--experiment FILE]`: the win-rate stage (core/winrates/run.ts) on
 * a trained grid, from the experiment's `winrates:` section (the grid's own experiment file, or
 * FILE, e.g. the same grid judged another way). `ava-lab run` runs it after a full grid.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import type { BackendChoice, ExperimentConfig } from '../../core/experiment/config.js';
import { loadExperiment, throwIfErrors } from '../../core/experiment/load.js';
import { initBackend } from '../../core/engine/backend.js';
import { readJsonFile } from '../../core/run/files.js';
import { GRID_MANIFEST, type GridManifest } from '../../core/run/layout.js';
import { runWinrates, WINRATES_DIR, WINRATES_MARKDOWN } from '../../core/winrates/run.js';
import { winratesMarkdown } from '../../core/winrates/report.js';
import type { Reporter } from '../reporter.js';

const USAGE = 'usage: ava-lab winrates <grid_dir> [--experiment FILE] [--backend auto|tensorflow|wasm|cpu]';

/** Runs the stage and prints its tables; used by `ava-lab run` at the end of a grid too. */
export async function winratesStage(gridDir: string, exp: ExperimentConfig, expFile: string, rep: Reporter, signal: AbortSignal): Promise<void> {
  const report = await runWinrates(gridDir, exp, expFile, { log: (level, message) => rep.log(level, message), signal });
  rep.print('\n' + winratesMarkdown(report));
  rep.print(`Written: ${join(gridDir, WINRATES_DIR, WINRATES_MARKDOWN)}`);
}

export async function winratesCommand(argv: string[], rep: Reporter, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { experiment: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new AvaError('usage', USAGE);
  const gridDir = resolve(positionals[0]);
  const manifest = readJsonFile<GridManifest>(join(gridDir, GRID_MANIFEST));
  if (!manifest) throw new AvaError('usage', `${gridDir}: no ${GRID_MANIFEST} (not a grid directory of ava-lab run)`);
  const expFile = resolve(values.experiment ?? (existsSync(manifest.experiment_file) ? manifest.experiment_file : join(gridDir, 'experiment.ava.yaml')));
  const exp = throwIfErrors(await loadExperiment(expFile));
  if (exp.winrates.compare.length === 0) throw new AvaError('config', 'the experiment has no winrates.compare lines: nothing to compare', { file: expFile, key: 'winrates.compare' });
  await initBackend((values.backend as BackendChoice | undefined) ?? exp.engine.backend, (level, msg) => rep.log(level, msg));
  await winratesStage(gridDir, exp, expFile, rep, signal);
  return EXIT.ok;
}
