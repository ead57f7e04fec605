/**
 * `ava-lab run <exp.ava.yaml>`: expand the ablations × seeds grid, train every cell, print
 * (or emit) the results. Cells run in this process one after another, or in `--jobs N`
 * child processes at once (TF.js wasm uses one core per process, so a grid on two cores
 * runs two cells at a time).
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { appendFileSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeEvent, type EvalSummary, type RunStatus } from '../../protocol/events.js';
import { AvaError, EXIT } from '../../core/errors.js';
import type { BackendChoice, RunConfig } from '../../core/experiment/config.js';
import { loadExperiment, throwIfErrors } from '../../core/experiment/load.js';
import { dependencyIndexes, expandGrid } from '../../core/experiment/grid.js';
import { initBackend } from '../../core/engine/backend.js';
import { trainRun } from '../../core/train/trainer.js';
import { GRID_MANIFEST, RUN_EVAL, RUN_STDERR, cellDirName, type GridManifest } from '../../core/run/layout.js';
import { readJsonFile, writeJsonAtomic } from '../../core/run/files.js';
import { readStatus, writeStatus } from '../../core/run/status.js';
import { schedule } from '../../core/run/schedule.js';
import type { Reporter } from '../reporter.js';
import { resultsTable } from '../table.js';
import { readReportCell, writeGridReport } from './report.js';
import { worthReporting } from '../../core/eval/report.js';
import { winratesStage } from './winrates.js';

interface Cell {
  index: number;
  run: RunConfig;
  dir: string;
}

/** A new grid folder: its grid.json (every cell, in grid order) and a copy of the experiment file. */
export function writeNewGrid(gridDir: string, experiment: string, expFile: string, runs: readonly RunConfig[], extra: Partial<GridManifest> = {}): GridManifest {
  mkdirSync(gridDir, { recursive: true });
  const manifest: GridManifest = { experiment, experiment_file: expFile, created: new Date().toISOString(), cells: runs.map((r) => ({ variant: r.variant, seed: r.seed, dir: cellDirName(r.variant, r.seed) })), ...extra };
  writeJsonAtomic(join(gridDir, GRID_MANIFEST), manifest);
  copyFileSync(expFile, join(gridDir, 'experiment.ava.yaml'));
  return manifest;
}

/** The default grid folder of an experiment: `<runs root>/<name>/<timestamp>`. */
export function newGridDir(expFile: string, name: string, values: { out?: string; 'runs-root'?: string }): string {
  return resolve(values.out ?? join(values['runs-root'] ?? join(dirname(expFile), 'runs'), name, timestamp()));
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** `auto`: one cell per core, counting each cell's data-parallel workers (train.workers) as cores it uses. */
function parseJobs(value: string | undefined, cells: number, backend: string, workersPerCell: number): number {
  if (value === undefined || value === 'auto') return backend === 'tensorflow' ? 1 : Math.max(1, Math.min(cells, Math.floor(availableParallelism() / Math.max(1, workersPerCell))));
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new AvaError('usage', `--jobs must be a positive integer or 'auto', got '${value}'`);
  return n;
}

function cellFailure(cell: Cell, error: unknown): string {
  return error instanceof AvaError ? error.format() : error instanceof Error ? error.message : String(error);
}

/** A cell a resumed grid finished before: reported as finished (with its eval.json), not trained again. */
function skipFinished(cell: Cell, rep: Reporter): RunStatus {
  rep.log('info', `${cell.dir}: already finished, skipped`);
  const summary = readJsonFile<EvalSummary>(join(cell.dir, RUN_EVAL));
  rep.emit({ type: 'run_end', run_dir: cell.dir, status: 'finished', ...(summary ? { summary } : {}) });
  return 'finished';
}

/** Train one cell in this process. */
async function runCellHere(cell: Cell, gridDir: string, resume: boolean, rep: Reporter, signal: AbortSignal): Promise<RunStatus> {
  const engine = await initBackend(cell.run.engine.backend, (level, msg) => rep.log(level, msg));
  if (resume && readStatus(cell.dir)?.status === 'finished') return skipFinished(cell, rep);
  mkdirSync(cell.dir, { recursive: true });
  try {
    const result = await trainRun({ run: cell.run, runDir: cell.dir, dataRoot: join(gridDir, 'data'), gridDir, engine, resume, hooks: { emit: (e) => rep.emit(e), log: (l, m) => rep.log(l, m), signal } });
    rep.emit({ type: 'run_end', run_dir: cell.dir, status: result.status, ...(result.summary ? { summary: result.summary } : {}) });
    return result.status;
  } catch (e) {
    const message = cellFailure(cell, e);
    appendFileSync(join(cell.dir, RUN_STDERR), message + '\n');
    rep.emit({ type: 'run_end', run_dir: cell.dir, status: 'failed', error: message });
    if (!(e instanceof AvaError)) rep.log('error', (e as Error).stack ?? message);
    return 'failed';
  }
}

/** Train one cell in a child `ava-lab run --cell` process and relay its events. */
function runCellInChild(cell: Cell, expFile: string, gridDir: string, resume: boolean, backend: string | undefined, rep: Reporter, signal: AbortSignal): Promise<RunStatus> {
  if (resume && readStatus(cell.dir)?.status === 'finished') return Promise.resolve(skipFinished(cell, rep));
  return new Promise((done) => {
    const args = [...process.execArgv, process.argv[1], 'run', expFile, '--out', gridDir, '--cell', String(cell.index), '--json', ...(resume ? ['--resume', gridDir] : []), ...(backend ? ['--backend', backend] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onAbort = () => child.kill('SIGTERM');
    signal.addEventListener('abort', onAbort, { once: true });
    let status: RunStatus | null = null;
    let buffer = '';
    const stderrTail: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const l of lines) {
        const ev = decodeEvent(l);
        if (!ev || ev.type === 'hello' || ev.type === 'grid_start' || ev.type === 'grid_end') continue;
        if (ev.type === 'run_end') status = ev.status;
        const { v: _v, ts: _ts, ...body } = ev;
        rep.emit(body);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail.push(chunk);
      if (stderrTail.length > 50) stderrTail.shift();
    });
    child.on('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (status === null) {
        // The child died before reporting: record why, and make sure the run does not look alive or complete.
        const tail = stderrTail.join('').trim().split('\n').slice(-20).join('\n');
        mkdirSync(cell.dir, { recursive: true });
        appendFileSync(join(cell.dir, RUN_STDERR), tail + '\n');
        const prev = readStatus(cell.dir);
        writeStatus(cell.dir, { status: 'failed', pid: child.pid ?? 0, started: prev?.started ?? new Date().toISOString(), updated: '', step: prev?.step ?? 0, total_steps: prev?.total_steps ?? 0, error: `backend exited with code ${code}: ${tail.split('\n').pop() ?? ''}` });
        rep.emit({ type: 'run_end', run_dir: cell.dir, status: 'failed', error: `exited with code ${code}${tail ? `: ${tail.split('\n').pop()}` : ''}` });
        status = 'failed';
      }
      done(status);
    });
  });
}

export async function runCommand(argv: string[], rep: Reporter, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'runs-root': { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string', multiple: true },
      seed: { type: 'string', multiple: true },
      resume: { type: 'string' },
      jobs: { type: 'string' },
      backend: { type: 'string' },
      cell: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new AvaError('usage', 'usage: ava-lab run <experiment.ava.yaml> [--out DIR] [--resume GRID_DIR] [--only VARIANT] [--seed N] [--jobs N|auto] [--backend auto|tensorflow|wasm|cpu] [--json]');
  const expFile = resolve(positionals[0]);
  const loaded = await loadExperiment(expFile);
  throwIfErrors(loaded);
  for (const d of loaded.diagnostics) rep.log('warn', `${d.file}:${d.line}:${d.column}: ${d.key}: ${d.message}`);
  const backend = values.backend;
  if (backend && !['auto', 'tensorflow', 'wasm', 'cpu'].includes(backend)) throw new AvaError('usage', `--backend must be auto, tensorflow, wasm or cpu, got '${backend}'`);

  const exp = loaded.config;
  const gridDir = values.resume ? resolve(values.resume) : newGridDir(expFile, exp.name, values);
  const resume = values.resume !== undefined;
  if (resume && !existsSync(join(gridDir, GRID_MANIFEST))) throw new AvaError('usage', `--resume ${gridDir}: no ${GRID_MANIFEST} there (not a grid directory of ava-lab run)`);

  const all: Cell[] = expandGrid(exp).map((run, index) => ({
    index,
    run: backend ? { ...run, engine: { ...run.engine, backend: backend as RunConfig['engine']['backend'] } } : run,
    dir: join(gridDir, cellDirName(run.variant, run.seed)),
  }));

  // A child process trains exactly one cell of the grid its parent set up.
  if (values.cell !== undefined) {
    const cell = all[Number(values.cell)];
    if (!cell) throw new AvaError('usage', `--cell ${values.cell}: the grid has ${all.length} cells`);
    const status = await runCellHere(cell, gridDir, resume, rep, signal);
    return status === 'finished' ? EXIT.ok : status === 'stopped' ? EXIT.interrupted : EXIT.failure;
  }

  const seeds = values.seed?.map(Number);
  const cells = all.filter((c) => (!values.only || values.only.includes(c.run.variant)) && (!seeds || seeds.includes(c.run.seed)));
  if (cells.length === 0) throw new AvaError('usage', `no grid cell matches --only ${values.only?.join(',') ?? '*'} --seed ${values.seed?.join(',') ?? '*'}; variants: ${[...new Set(all.map((c) => c.run.variant || "''"))].join(', ')}`);

  mkdirSync(gridDir, { recursive: true });
  if (!resume) writeNewGrid(gridDir, exp.name, expFile, all.map((c) => c.run));
  rep.emit({ type: 'grid_start', experiment: exp.name, grid_dir: gridDir, cells: cells.map((c) => ({ variant: c.run.variant, seed: c.run.seed, run_dir: c.dir })) });

  // Dependencies (same seed) of each cell; those outside the selection must have finished already.
  const runs = all.map((c) => c.run);
  const depsOf = (cell: Cell): Cell[] => dependencyIndexes(runs, cell.index).map((k) => all[k]);
  const before = new Map<Cell, RunStatus>();
  const missing: string[] = [];
  for (const dep of new Set(cells.flatMap(depsOf))) {
    if (cells.includes(dep)) continue;
    const st = readStatus(dep.dir)?.status;
    if (st === 'finished') before.set(dep, st);
    else missing.push(`${dep.run.variant || "''"}/seed-${dep.run.seed} (${st ?? 'not started'})`);
  }
  if (missing.length) {
    const variants = [...new Set(cells.flatMap((c) => depsOf(c).filter((d) => !cells.includes(d) && !before.has(d)).map((d) => JSON.stringify(d.run.variant))))];
    throw new AvaError('usage', `the selected cells need ${missing.length === 1 ? 'this cell' : 'these cells'} finished first: ${missing.join(', ')}; add ${variants.map((v) => `--only ${v}`).join(' ')}, or run ${missing.length === 1 ? 'it' : 'them'} first`);
  }

  const jobs = parseJobs(values.jobs, cells.length, backend ?? exp.engine.backend, Math.max(...cells.map((c) => c.run.train.workers)));
  if (jobs > 1) rep.log('info', `training ${cells.length} cells, ${jobs} at a time (one process each)`);
  const blocked = (cell: Cell, dep: Cell, status: RunStatus) => {
    const error = `not started: it needs the cell ${dep.run.variant || "''"}/seed-${dep.run.seed}, which ${status === 'stopped' ? 'stopped' : 'failed'}`;
    rep.log('error', `${cell.dir}: ${error}`);
    rep.emit({ type: 'run_end', run_dir: cell.dir, status: 'failed', error });
  };
  const statuses = await schedule(cells, {
    depsOf,
    done: before,
    limit: jobs,
    run: (cell) => (jobs === 1 ? runCellHere(cell, gridDir, resume, rep, signal) : runCellInChild(cell, expFile, gridDir, resume, backend, rep, signal)),
    blocked,
    signal,
  });

  const all_ = [...statuses.values()];
  const gridStatus: RunStatus = all_.includes('failed') ? 'failed' : signal.aborted || all_.includes('stopped') || all_.length < cells.length ? 'stopped' : 'finished';
  rep.print(resultsTable(cells.map((c) => ({ variant: c.run.variant, seed: c.run.seed, kind: c.run.objective.kind, status: statuses.get(c) ?? 'pending', summary: readJsonFile<EvalSummary>(join(c.dir, RUN_EVAL)) }))));
  const reportCells = cells.flatMap((c) => readReportCell(c.dir, c.run.variant, c.run.seed) ?? []);
  if (worthReporting(reportCells)) {
    rep.print('\n' + writeGridReport(gridDir, reportCells, 'bt'));
  }
  if (gridStatus === 'finished' && exp.winrates.compare.length > 0) {
    if (cells.length === all.length) {
      await initBackend((backend as BackendChoice | undefined) ?? exp.engine.backend, (level, msg) => rep.log(level, msg));
      await winratesStage(gridDir, exp, expFile, rep, signal);
    } else rep.log('info', `win rates need every cell; once the grid is complete: ava-lab winrates ${gridDir}`);
  }
  rep.print(`\nRuns: ${gridDir}`);
  if (gridStatus !== 'finished') rep.print(`Continue with: ava-lab run ${positionals[0]} --resume ${gridDir}`);
  rep.emit({ type: 'grid_end', grid_dir: gridDir, status: gridStatus });
  return gridStatus === 'finished' ? EXIT.ok : gridStatus === 'stopped' ? EXIT.interrupted : EXIT.failure;
}
