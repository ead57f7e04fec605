/**
 * `ava-lab status <grid_dir>`: every cell of a grid (queued, running, finished, failed,
 * cancelled, …) with its step and, for a grid submitted to Slurm, its array task, node and
 * Slurm's reason. `ava-lab cancel <grid_dir>` stops the grid's Slurm jobs, or some cells.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { gridState, type CellState } from '../../core/cluster/gridState.js';
import { scancel } from '../../core/cluster/slurmTools.js';
import type { Reporter } from '../reporter.js';
import { formatTable } from '../table.js';

function progress(c: CellState): string {
  return c.totalSteps > 0 ? `${c.step}/${c.totalSteps}` : '—';
}

export function statusTable(cells: readonly CellState[]): string {
  return formatTable(
    ['cell', 'variant', 'seed', 'state', 'step', 'slurm task', 'node', 'reason'],
    cells.map((c) => [String(c.index), c.variant || 'base', String(c.seed), c.state, progress(c), c.job ?? '—', c.node || '—', c.reason.split('\n')[0]]),
  );
}

export async function statusCommand(argv: string[], rep: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new AvaError('usage', 'usage: ava-lab status <grid_dir> [--json]');
  const state = await gridState(resolve(positionals[0]));
  if (values.json) {
    process.stdout.write(JSON.stringify({ grid_dir: state.dir, experiment: state.manifest.experiment, slurm: state.manifest.slurm ?? null, cells: state.cells, warning: state.warning ?? null }) + '\n');
    return EXIT.ok;
  }
  if (state.warning) rep.log('warn', `${state.warning}; showing the last states seen`);
  const counts = new Map<string, number>();
  for (const c of state.cells) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  rep.print(`${state.manifest.experiment}: ${state.dir}`);
  rep.print([...counts].map(([s, n]) => `${n} ${s}`).join(', '));
  rep.print(statusTable(state.cells));
  return EXIT.ok;
}

export async function cancelCommand(argv: string[], rep: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { only: { type: 'string', multiple: true }, seed: { type: 'string', multiple: true }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new AvaError('usage', 'usage: ava-lab cancel <grid_dir> [--only VARIANT] [--seed N]');
  const state = await gridState(resolve(positionals[0]));
  if (!state.manifest.slurm) throw new AvaError('usage', `${state.dir} was not submitted to Slurm (stop a local run with Ctrl-C, or from the Runs view)`);
  const seeds = values.seed?.map(Number);
  const live = state.cells.filter((c) => c.job && (c.state === 'queued' || c.state === 'running') && (!values.only || values.only.includes(c.variant)) && (!seeds || seeds.includes(c.seed)));
  if (live.length === 0) {
    rep.print('Nothing to cancel: no selected cell is queued or running.');
    return EXIT.ok;
  }
  await scancel(live.map((c) => c.job!));
  rep.print(`Cancelled ${live.map((c) => `${c.job} (${c.variant || 'base'}/seed-${c.seed})`).join(', ')}`);
  rep.print(`Continue them later with: ava-lab submit ${state.manifest.experiment_file} --resume ${state.dir}`);
  return EXIT.ok;
}
