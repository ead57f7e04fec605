/**
 * Reading run directories for the panels: a run's identity and status, its metrics, evaluations,
 * resolved config and token-reward dump, and the cells of a grid directory. Node only, no
 * `vscode`, so tests call it directly on fixture directories.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { EvalSummary, LineRewards, MetricRecord, Phase } from '../../protocol/events.js';
import type { CompareRun, RunSummary } from '../../protocol/webview.js';
import { readJsonFile, readJsonlFile } from '../../core/run/files.js';
import { GRID_MANIFEST, RUN_CONFIG, RUN_EVAL, RUN_EVAL_PAIRS, RUN_EVALS, RUN_METRICS, RUN_STATUS, RUN_TOKEN_REWARDS, type EvalPairRow, type GridManifest } from '../../core/run/layout.js';
import { effectiveStatus, readStatus } from '../../core/run/status.js';
import { downsampleRecords } from '../../ui-common/metrics.js';

const PHASES: ReadonlySet<string> = new Set<Phase>(['pretrain', 'train', 'eval']);

/** A metrics.jsonl line as a MetricRecord, or null when it is not one (a torn or foreign line). */
export function parseMetricLine(line: string): MetricRecord | null {
  if (!line.trim()) return null;
  try {
    const o = JSON.parse(line) as Partial<MetricRecord>;
    if (typeof o?.step !== 'number' || typeof o.phase !== 'string' || !PHASES.has(o.phase)) return null;
    if (typeof o.values !== 'object' || o.values === null) return null;
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(o.values)) if (typeof v === 'number') values[k] = v;
    return { step: o.step, phase: o.phase, time: typeof o.time === 'number' ? o.time : 0, values };
  } catch {
    return null;
  }
}

export function readMetrics(runDir: string): MetricRecord[] {
  const path = join(runDir, RUN_METRICS);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').flatMap((l) => parseMetricLine(l) ?? []);
}

export function readFinalEval(runDir: string): EvalSummary | null {
  return readJsonFile<EvalSummary>(join(runDir, RUN_EVAL));
}

export function readEvals(runDir: string): EvalSummary[] {
  return readJsonlFile<EvalSummary>(join(runDir, RUN_EVALS)).filter((e) => typeof e?.step === 'number');
}

export function readTokenRewards(runDir: string): LineRewards[] {
  return readJsonlFile<LineRewards>(join(runDir, RUN_TOKEN_REWARDS)).filter((r) => typeof r?.line === 'number');
}

/** The resolved config.yaml as a plain object; null when missing or not a YAML mapping. */
export function readRunConfig(runDir: string): Record<string, unknown> | null {
  const path = join(runDir, RUN_CONFIG);
  if (!existsSync(path)) return null;
  try {
    const value: unknown = parseYaml(readFileSync(path, 'utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Does the directory look like a run (any of its files present)? */
export function isRunDir(dir: string): boolean {
  return [RUN_STATUS, RUN_CONFIG, RUN_METRICS].some((f) => existsSync(join(dir, f)));
}

export function isGridDir(dir: string): boolean {
  return existsSync(join(dir, GRID_MANIFEST));
}

export function readGridManifest(gridDir: string): GridManifest | null {
  return readJsonFile<GridManifest>(join(gridDir, GRID_MANIFEST));
}

/** The grid directory a run belongs to (`<grid>/<variant>/seed-<n>`), if it has a grid.json. */
export function gridDirOf(runDir: string): string | null {
  const grid = dirname(dirname(resolve(runDir)));
  return isGridDir(grid) ? grid : null;
}

/** Run directories for a selection that may contain grid directories (expanded to their cells). */
export function expandRunDirs(paths: readonly string[]): { runDirs: string[]; missing: string[] } {
  const runDirs: string[] = [];
  const missing: string[] = [];
  const add = (d: string): void => {
    if (!runDirs.includes(d)) runDirs.push(d);
  };
  for (const p of paths.map((x) => resolve(x))) {
    const grid = isGridDir(p) ? readGridManifest(p) : null;
    if (grid) for (const cell of grid.cells) add(resolve(p, cell.dir));
    else if (isRunDir(p)) add(p);
    else missing.push(p);
  }
  return { runDirs, missing };
}

const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);

/**
 * A run's identity, status and progress from its files. The experiment, variant and seed come
 * from config.yaml, falling back to the directory names (`<experiment>/<stamp>/<variant>/seed-<n>`).
 */
export function readRunSummary(runDir: string, records: readonly MetricRecord[] = [], config = readRunConfig(runDir)): RunSummary {
  const dir = resolve(runDir);
  const file = readStatus(dir);
  const { status, interrupted } = effectiveStatus(file);
  const seedMatch = /^seed-(\d+)$/.exec(basename(dir));
  const variant = str(config?.variant);
  const last = records.at(-1);
  return {
    runDir: dir,
    experiment: str(config?.name) ?? basename(dirname(dirname(dirname(dir)))),
    variant: variant === undefined ? (seedMatch ? basename(dirname(dir)) : basename(dir)) : variant || 'base',
    seed: num(config?.seed) ?? (seedMatch ? Number(seedMatch[1]) : null),
    status: status === 'missing' ? 'pending' : status,
    interrupted,
    phase: last?.phase,
    step: Math.max(file?.step ?? 0, lastTrainStep(records)),
    totalSteps: file?.total_steps ?? num((config?.train as Record<string, unknown> | undefined)?.steps) ?? 0,
    elapsed: last?.time,
    error: file?.error,
    alarms: file?.alarms ?? [],
  };
}

function lastTrainStep(records: readonly MetricRecord[]): number {
  for (let i = records.length - 1; i >= 0; i--) if (records[i].phase === 'train') return records[i].step;
  return 0;
}

/** Everything the Compare panel shows of one run; curves downsampled to `maxPoints` per phase. */
export function readCompareRun(runDir: string, maxPoints = 400): CompareRun {
  const config = readRunConfig(runDir);
  const records = readMetrics(runDir);
  return {
    run: readRunSummary(runDir, records, config),
    final: readFinalEval(runDir),
    evals: readEvals(runDir),
    records: downsampleRecords(records, maxPoints),
    config,
    ...pairResults(runDir),
  };
}

function pairResults(runDir: string): { pairCorrect?: boolean[] } {
  const rows = readJsonlFile<EvalPairRow>(join(runDir, RUN_EVAL_PAIRS));
  return rows.length ? { pairCorrect: rows.map((r) => r.correct === true) } : {};
}

/**
 * The eval data file whose lines the token-reward dump refers to: `data.eval` of the resolved
 * config (relative paths are relative to the experiment file named in grid.json), else the
 * `eval_file` recorded in eval.json. Null for built-in tasks or when the file is not on disk.
 */
export function resolveEvalDataFile(runDir: string, config: Record<string, unknown> | null): string | null {
  const data = config?.data as Record<string, unknown> | undefined;
  const evalPath = str(data?.eval);
  const candidates = !evalPath ? [] : isAbsolute(evalPath) ? [evalPath] : experimentDirs(runDir).map((d) => resolve(d, evalPath));
  const recorded = str(readFinalEval(runDir)?.eval_file);
  if (recorded) candidates.push(...movedGridPath(runDir, recorded), recorded);
  return candidates.find(isFile) ?? null;
}

/**
 * A recorded absolute path inside the run's grid directory, re-rooted at where the grid is now
 * (runs folders get moved or copied; built-in tasks write their data under `<grid>/data/`).
 */
function movedGridPath(runDir: string, recorded: string): string[] {
  const grid = gridDirOf(runDir);
  if (!grid) return [];
  const marker = `${sep}${basename(grid)}${sep}`;
  const at = recorded.lastIndexOf(marker);
  return at < 0 ? [] : [join(grid, recorded.slice(at + marker.length))];
}

/** Directories a relative data path may be relative to: the experiment file's, then the grid's. */
function experimentDirs(runDir: string): string[] {
  const grid = gridDirOf(runDir);
  const manifest = grid ? readGridManifest(grid) : null;
  const dirs: string[] = [];
  const expFile = manifest?.experiment_file;
  if (grid && expFile) dirs.push(dirname(isAbsolute(expFile) ? expFile : resolve(grid, expFile)), dirname(resolve(expFile)));
  if (grid) dirs.push(grid);
  return dirs;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
