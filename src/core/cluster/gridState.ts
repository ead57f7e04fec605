/**
 * The state of every cell of a grid, local or submitted to Slurm: each cell's status.json read
 * together with what Slurm says about its array task. What Slurm says is written back to
 * grid.json (`slurm.tasks`), so a cell Slurm killed keeps its reason after Slurm has forgotten
 * the job. Used by `ava-lab status`, `ava-lab submit --resume`, `ava-lab cancel` and the Runs view.
 */
import { join } from 'node:path';
import { AvaError } from '../errors.js';
import { readJsonFile, writeJsonAtomic } from '../run/files.js';
import { GRID_MANIFEST, type GridManifest, type RunStatusFile } from '../run/layout.js';
import { effectiveStatus, readStatus } from '../run/status.js';
import { clusterCellView, currentJobOf, isTerminalSlurmState, type ClusterCellView, type SlurmManifest, type SlurmTaskState } from './slurm.js';
import { querySlurmTasks } from './slurmTools.js';

export interface CellState extends ClusterCellView {
  index: number;
  variant: string;
  seed: number;
  dir: string;
  step: number;
  totalSteps: number;
}

export interface GridState {
  dir: string;
  manifest: GridManifest;
  cells: CellState[];
  /** Why Slurm could not be asked (tools missing, controller down); the states are the last seen. */
  warning?: string;
}

export function readManifest(gridDir: string): GridManifest {
  const manifest = readJsonFile<GridManifest>(join(gridDir, GRID_MANIFEST));
  if (!manifest || !Array.isArray(manifest.cells)) throw new AvaError('usage', `${gridDir}: no ${GRID_MANIFEST} (not a grid folder of ava-lab run or submit)`, { file: join(gridDir, GRID_MANIFEST) });
  return manifest;
}

/** A cell of a grid that never went to Slurm: its status.json alone. */
function localView(status: RunStatusFile | null): ClusterCellView {
  const { status: shown, interrupted } = effectiveStatus(status);
  if (shown === 'missing' || shown === 'pending') return { state: 'unsubmitted', reason: '', job: null, node: '' };
  return { state: shown, reason: interrupted ? 'the backend process is gone (killed or the machine restarted)' : (status?.error ?? ''), job: null, node: status?.host ?? '' };
}

/** Every cell from its status.json and the Slurm states grid.json holds (no Slurm call). */
export function cellStates(gridDir: string, manifest: GridManifest): CellState[] {
  return manifest.cells.map((c, index): CellState => {
    const dir = join(gridDir, c.dir);
    const status = readStatus(dir);
    const job = manifest.slurm ? currentJobOf(manifest.slurm, index) : null;
    const task: SlurmTaskState | undefined = job ? manifest.slurm?.tasks?.[String(index)] : undefined;
    const view = job ? clusterCellView(status, job, task?.job === job ? task : undefined) : localView(status);
    return { ...view, index, variant: c.variant, seed: c.seed, dir, step: status?.step ?? 0, totalSteps: status?.total_steps ?? 0 };
  });
}

/** The cell's current array task, unless Slurm is already known to have ended it (then null). */
function openTask(slurm: SlurmManifest, cell: number): string | null {
  const job = currentJobOf(slurm, cell);
  const last = slurm.tasks?.[String(cell)];
  return job !== null && !(last?.job === job && isTerminalSlurmState(last.state)) ? job : null;
}

/** The grid has a Slurm cell that is not known to have ended (worth asking Slurm about). */
export function hasOpenSlurmCells(manifest: GridManifest): boolean {
  const slurm = manifest.slurm;
  return slurm !== undefined && manifest.cells.some((_, i) => openTask(slurm, i) !== null);
}

/**
 * Reads the grid; with `query`, asks Slurm about its jobs first and records the answers in
 * grid.json. Jobs whose every cell already ended are not asked about again.
 */
export async function gridState(gridDir: string, opts: { query?: boolean } = {}): Promise<GridState> {
  const manifest = readManifest(gridDir);
  const slurm = manifest.slurm;
  let warning: string | undefined;
  if (slurm && opts.query !== false) {
    const tasks = { ...(slurm.tasks ?? {}) };
    const open = slurm.submissions.filter((s) => s.cells.some((c) => openTask(slurm, c) === `${s.job_id}_${c}`));
    if (open.length) {
      try {
        const seen = await querySlurmTasks(open.map((s) => s.job_id));
        manifest.cells.forEach((_, i) => {
          const job = currentJobOf(slurm, i);
          const t = job ? seen.get(job) : undefined;
          if (t) tasks[String(i)] = t;
        });
        // Re-read before writing: a submit may have added a job meanwhile.
        const fresh = readManifest(gridDir);
        if (fresh.slurm) {
          fresh.slurm.tasks = { ...(fresh.slurm.tasks ?? {}), ...tasks };
          writeJsonAtomic(join(gridDir, GRID_MANIFEST), fresh);
          manifest.slurm = fresh.slurm;
        }
      } catch (e) {
        warning = e instanceof AvaError ? e.message : String(e);
      }
    }
  }
  const cells = cellStates(gridDir, manifest);
  return { dir: gridDir, manifest, cells, ...(warning ? { warning } : {}) };
}
