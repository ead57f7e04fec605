/**
 * The runs on disk, read from their directories alone (so a window reload, or a run started
 * from a terminal, shows up the same): `<runs root>/<experiment>/<grid>/grid.json` lists the
 * cells, each cell's status.json says how it is doing (a `running` run whose pid is dead was
 * killed), eval.json holds its final metrics; the PPO runs of a grid's win-rate stage are read
 * the same way from `winrates/seed-<n>/ppo-<variant>/`. No `vscode` import.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EvalSummary, RunAlarm, RunStatus } from '../../protocol/events.js';
import { readJsonFile } from '../../core/run/files.js';
import { CHECKPOINTS_DIR, GRID_MANIFEST, LATEST_CHECKPOINT, RUN_EVAL, type GridManifest } from '../../core/run/layout.js';
import { listPpoRuns, type PpoRunRef } from '../../core/winrates/layout.js';
import { readMetrics } from '../panels/runFiles.js';
import { effectiveStatus, readStatus } from '../../core/run/status.js';
import { cellStates, hasOpenSlurmCells } from '../../core/cluster/gridState.js';
import type { ClusterCellView } from '../../core/cluster/slurm.js';

/** `queued` and `cancelled` come from Slurm (a submitted grid's cells). */
export type ShownStatus = RunStatus | 'missing' | 'queued' | 'cancelled';

export interface RunEntry {
  dir: string;
  variant: string;
  seed: number;
  status: ShownStatus;
  /** `running` in status.json but its process is gone. */
  interrupted: boolean;
  step: number;
  totalSteps: number;
  error?: string;
  /** ISO time of the last status update. */
  updated?: string;
  summary: EvalSummary | null;
  /** A complete checkpoint exists (the run can serve rewards and be resumed). */
  hasCheckpoint: boolean;
  /** Collapse alarms raised while training (status.json). */
  alarms: RunAlarm[];
  /** The cell's Slurm array task and state, when the grid was submitted (`ava-lab submit`). */
  slurm?: ClusterCellView;
  /** A PPO run of the grid's win-rate stage (`<grid>/winrates/seed-<n>/ppo-<variant>/`), not a grid cell. */
  ppo?: { rewardVariant: string; lastGold?: number; lastScore?: number };
}

export interface GridEntry {
  dir: string;
  experiment: string;
  /** Absolute path of the experiment YAML that made the grid. */
  experimentFile: string;
  created: string;
  runs: RunEntry[];
  /** The PPO runs of its win-rate stage, by seed (the dashboard charts them like a cell). */
  ppoRuns: RunEntry[];
  /** Submitted to Slurm: its array job ids, oldest first. */
  slurmJobs?: string[];
  /** A Slurm cell of the grid may still be queued or running (the Runs view keeps asking Slurm). */
  slurmOpen?: boolean;
}

export interface ExperimentEntry {
  name: string;
  /** Newest first. */
  grids: GridEntry[];
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(dir, d.name));
  } catch {
    return [];
  }
}

function readRun(dir: string, variant: string, seed: number): RunEntry {
  const file = readStatus(dir);
  const { status, interrupted } = effectiveStatus(file);
  return {
    dir,
    variant,
    seed,
    status,
    interrupted,
    step: file?.step ?? 0,
    totalSteps: file?.total_steps ?? 0,
    error: interrupted ? (file?.error ?? 'The backend process is gone (killed or the machine restarted).') : file?.error,
    updated: file?.updated,
    summary: readJsonFile<EvalSummary>(join(dir, RUN_EVAL)),
    hasCheckpoint: existsSync(join(dir, CHECKPOINTS_DIR, LATEST_CHECKPOINT)),
    alarms: file?.alarms ?? [],
  };
}

export function readGrid(dir: string): GridEntry | null {
  const manifest = readJsonFile<GridManifest>(join(dir, GRID_MANIFEST));
  if (!manifest || !Array.isArray(manifest.cells)) return null;
  return {
    dir,
    experiment: manifest.experiment,
    experimentFile: manifest.experiment_file,
    created: manifest.created,
    runs: manifest.slurm ? slurmRuns(dir, manifest) : manifest.cells.map((c) => readRun(join(dir, c.dir), c.variant, c.seed)),
    ppoRuns: listPpoRuns(dir).map(readPpoRun),
    ...(manifest.slurm ? { slurmJobs: manifest.slurm.submissions.map((s) => s.job_id), slurmOpen: hasOpenSlurmCells(manifest) } : {}),
  };
}

/** A PPO run: its status like a cell's, its last score and gold from metrics.jsonl. */
function readPpoRun(ref: PpoRunRef): RunEntry {
  const run = readRun(ref.dir, `ppo:${ref.rewardVariant}`, ref.seed);
  const last = readMetrics(ref.dir).at(-1)?.values; // a torn last line is skipped
  return { ...run, ppo: { rewardVariant: ref.rewardVariant, lastGold: last?.['objective/gold'], lastScore: last?.['objective/scores'] } };
}

/** Slurm's word (kept in grid.json) over what each cell's status.json says. */
const SLURM_SHOWN: Record<ClusterCellView['state'], ShownStatus> = {
  unsubmitted: 'pending',
  queued: 'queued',
  running: 'running',
  finished: 'finished',
  stopped: 'stopped',
  failed: 'failed',
  cancelled: 'cancelled',
  lost: 'failed',
};

function slurmRuns(dir: string, manifest: GridManifest): RunEntry[] {
  return cellStates(dir, manifest).map((cell) => {
    const run = readRun(cell.dir, cell.variant, cell.seed);
    const { index: _i, variant: _v, seed: _s, dir: _d, step: _st, totalSteps: _t, ...view } = cell;
    return { ...run, status: SLURM_SHOWN[cell.state], interrupted: false, error: cell.state === 'failed' || cell.state === 'cancelled' || cell.state === 'lost' ? cell.reason || run.error : run.error, slurm: view };
  });
}

/** Every grid under `root`, grouped by experiment name (sorted), newest grid first. */
export function scanRuns(root: string): ExperimentEntry[] {
  const byName = new Map<string, GridEntry[]>();
  for (const experimentDir of subdirectories(root)) {
    for (const gridDir of subdirectories(experimentDir)) {
      const grid = readGrid(gridDir);
      if (!grid) continue;
      const name = grid.experiment || basename(experimentDir);
      byName.set(name, [...(byName.get(name) ?? []), grid]);
    }
  }
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, grids]) => ({ name, grids: grids.sort((a, b) => gridTime(b) - gridTime(a)) }));
}

function gridTime(g: GridEntry): number {
  const t = Date.parse(g.created);
  if (Number.isFinite(t)) return t;
  try {
    return statSync(g.dir).mtimeMs;
  } catch {
    return 0;
  }
}

/** A grid's status: running if any run is, else failed > stopped > pending > finished. */
export function gridStatus(grid: GridEntry): ShownStatus {
  const statuses = new Set(grid.runs.map((r) => r.status));
  for (const s of ['running', 'queued', 'failed', 'cancelled', 'stopped', 'pending', 'missing'] as const) if (statuses.has(s)) return s;
  return 'finished';
}

/** The newest finished run with a checkpoint: the default model for hovers. */
export function latestTrainedRun(experiments: ExperimentEntry[]): RunEntry | null {
  let best: RunEntry | null = null;
  for (const run of experiments.flatMap((e) => e.grids.flatMap((g) => g.runs))) {
    if (run.status !== 'finished' || !run.hasCheckpoint) continue;
    if (!best || (run.updated ?? '') > (best.updated ?? '')) best = run;
  }
  return best;
}

/** The reward accuracy to show for a run, e.g. `acc 0.84 [0.79, 0.88]`, or null. */
export function formatAccuracy(summary: EvalSummary | null): string | null {
  const acc = summary?.reward_acc;
  if (!acc) return null;
  return `acc ${acc.value.toFixed(3)} [${acc.lo.toFixed(2)}, ${acc.hi.toFixed(2)}]`;
}
