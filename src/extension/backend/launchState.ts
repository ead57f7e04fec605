/**
 * What one `ava-lab run --json` process has reported so far, folded from its protocol events:
 * the grid, each cell's status and progress, and whether the grid ended. Pure: the same
 * reducer rebuilds the state after a window reload by replaying the process's event log.
 */
import type { BackendEvent, EvalSummary, Phase, RunStatus } from '../../protocol/events.js';

export interface CellProgress {
  runDir: string;
  variant: string;
  seed: number;
  status: RunStatus;
  phase?: Phase;
  step: number;
  total: number;
  error?: string;
  summary?: EvalSummary;
}

export interface LaunchState {
  /** Backend process id reported by `hello`. */
  pid?: number;
  backend?: string;
  experiment?: string;
  gridDir?: string;
  /** Cells by run directory, in grid order. */
  cells: Map<string, CellProgress>;
  /** The cell that reported most recently (what a progress bar shows). */
  current?: string;
  /** Set by `grid_end`. */
  ended?: RunStatus;
  /** The last `error` event's message (config or data errors before any run starts). */
  error?: string;
}

export function emptyLaunchState(): LaunchState {
  return { cells: new Map() };
}

function cell(state: LaunchState, runDir: string): CellProgress {
  let c = state.cells.get(runDir);
  if (!c) {
    c = { runDir, variant: '', seed: 0, status: 'pending', step: 0, total: 0 };
    state.cells.set(runDir, c);
  }
  return c;
}

/** Folds one event into the state (mutating it) and returns it. Unknown events change nothing. */
export function reduceLaunch(state: LaunchState, e: BackendEvent): LaunchState {
  switch (e.type) {
    case 'hello':
      state.pid = e.pid;
      state.backend = e.backend;
      break;
    case 'grid_start':
      state.experiment = e.experiment;
      state.gridDir = e.grid_dir;
      for (const c of e.cells) Object.assign(cell(state, c.run_dir), { variant: c.variant, seed: c.seed });
      break;
    case 'run_start':
      Object.assign(cell(state, e.run_dir), { variant: e.variant, seed: e.seed, status: 'running', total: e.total_steps, step: e.resumed_from ?? 0 });
      state.current = e.run_dir;
      break;
    case 'progress': {
      const c = cell(state, e.run_dir);
      Object.assign(c, { phase: e.phase, step: e.step, total: e.total });
      if (c.status === 'pending') c.status = 'running';
      state.current = e.run_dir;
      break;
    }
    case 'eval':
      cell(state, e.run_dir).summary = e.summary;
      break;
    case 'run_end': {
      const c = cell(state, e.run_dir);
      c.status = e.status;
      if (e.error !== undefined) c.error = e.error;
      if (e.summary !== undefined) c.summary = e.summary;
      break;
    }
    case 'grid_end':
      state.ended = e.status;
      break;
    case 'error':
      state.error = e.message;
      break;
    default:
      break;
  }
  return state;
}

/** Cells that started but never reported an end: what a crash leaves behind. */
export function unfinishedCells(state: LaunchState): CellProgress[] {
  return [...state.cells.values()].filter((c) => c.status === 'running');
}

/** Overall fraction done over all cells (0..1), counting ended cells as complete. */
export function launchFraction(state: LaunchState): number {
  const cells = [...state.cells.values()];
  if (!cells.length) return 0;
  const done = cells.reduce((sum, c) => sum + (c.status === 'running' || c.status === 'pending' ? (c.total > 0 ? Math.min(1, c.step / c.total) : 0) : 1), 0);
  return done / cells.length;
}

/** One line for a progress bar or status bar: `base/seed-0 · train 30/60 · cell 1 of 2`. */
export function describeProgress(state: LaunchState): string {
  const cells = [...state.cells.values()];
  const current = state.current ? state.cells.get(state.current) : undefined;
  if (!current) return state.error ? `error: ${state.error}` : 'starting…';
  const index = cells.indexOf(current) + 1;
  const label = `${current.variant || 'base'}/seed-${current.seed}`;
  const where = current.status === 'running' ? `${current.phase ?? 'train'} ${current.step}/${current.total}` : current.status;
  return cells.length > 1 ? `${label} · ${where} · cell ${index} of ${cells.length}` : `${label} · ${where}`;
}
