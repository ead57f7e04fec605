/**
 * `ava-lab submit <exp.ava.yaml> --slurm`: the grid as one Slurm job array, one array task per
 * cell, each an ordinary `ava-lab run --resume <grid> --only <variant> --seed <n>` writing an
 * ordinary run directory. The script is written into the grid folder (`slurm/`) before it is
 * submitted, and `--dry-run` prints it without submitting; grid.json records every job.
 * `--resume <grid>` submits again only the cells that did not finish and are not queued or
 * running, each continuing from its last checkpoint.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import type { ClusterConfig } from '../../core/experiment/config.js';
import { loadExperiment, throwIfErrors } from '../../core/experiment/load.js';
import { dependencyIndexes, expandGrid } from '../../core/experiment/grid.js';
import { SLURM_DIR, currentJobOf, sbatchScript, shellQuote, type SlurmSubmission } from '../../core/cluster/slurm.js';
import { sbatch } from '../../core/cluster/slurmTools.js';
import { gridState, readManifest } from '../../core/cluster/gridState.js';
import { readJsonFile, writeJsonAtomic, writeTextAtomic } from '../../core/run/files.js';
import { GRID_MANIFEST, type GridManifest } from '../../core/run/layout.js';
import { AVA_LAB_VERSION } from '../../core/train/environment.js';
import type { Reporter } from '../reporter.js';
import { newGridDir, writeNewGrid } from './run.js';

const USAGE =
  'usage: ava-lab submit <exp.ava.yaml> --slurm [--out DIR | --runs-root DIR | --resume GRID_DIR] [--only VARIANT] [--seed N] [--dry-run]\n' +
  '         [--partition P] [--account A] [--qos Q] [--time T] [--mem M] [--cpus-per-task N] [--gres G] [--max-parallel N]\n' +
  "         [--sbatch=--constraint=a100 ...] [--setup 'module load cuda'] [--command 'npx ava-lab'] [--backend auto|tensorflow|wasm|cpu] [--json]";

/** The flags that override the `cluster:` section, by key. */
const OPTION_FLAGS = {
  partition: 'partition',
  account: 'account',
  qos: 'qos',
  time: 'time',
  mem: 'mem',
  gres: 'gres',
  setup: 'setup',
  command: 'command',
} as const satisfies Record<string, keyof ClusterConfig>;

function positiveInt(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new AvaError('usage', `--${flag} must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

/** How the nodes start ava-lab: `cluster.command`, else this very node binary and CLI script. */
export function nodeCommand(options: ClusterConfig): string {
  if (options.command) return options.command;
  return [process.execPath, ...process.execArgv, resolve(process.argv[1])].map(shellQuote).join(' ');
}

export async function submitCommand(argv: string[], rep: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      slurm: { type: 'boolean' },
      out: { type: 'string' },
      'runs-root': { type: 'string' },
      resume: { type: 'string' },
      only: { type: 'string', multiple: true },
      seed: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      partition: { type: 'string' },
      account: { type: 'string' },
      qos: { type: 'string' },
      time: { type: 'string' },
      mem: { type: 'string' },
      'cpus-per-task': { type: 'string' },
      gres: { type: 'string' },
      'max-parallel': { type: 'string' },
      sbatch: { type: 'string', multiple: true },
      setup: { type: 'string' },
      command: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new AvaError('usage', USAGE);
  const backend = values.backend;
  if (backend && !['auto', 'tensorflow', 'wasm', 'cpu'].includes(backend)) throw new AvaError('usage', `--backend must be auto, tensorflow, wasm or cpu, got '${backend}'`);
  const expFile = resolve(positionals[0]);
  const loaded = await loadExperiment(expFile);
  throwIfErrors(loaded);
  for (const d of loaded.diagnostics) rep.log('warn', `${d.file}:${d.line}:${d.column}: ${d.key}: ${d.message}`);
  const exp = loaded.config;

  const options: ClusterConfig = structuredClone(exp.cluster);
  for (const [flag, key] of Object.entries(OPTION_FLAGS)) {
    const v = values[flag as keyof typeof OPTION_FLAGS];
    if (v !== undefined) (options[key] as string | null) = v;
  }
  if (values['cpus-per-task'] !== undefined) options.cpus_per_task = positiveInt('cpus-per-task', values['cpus-per-task'], 1);
  if (values['max-parallel'] !== undefined) options.max_parallel = positiveInt('max-parallel', values['max-parallel'], 0);
  if (values.sbatch) options.sbatch = [...options.sbatch, ...values.sbatch];

  const runs = expandGrid(exp);
  const resume = values.resume !== undefined;
  const gridDir = resume ? resolve(values.resume!) : newGridDir(expFile, exp.name, values);
  if (resume && !existsSync(join(gridDir, GRID_MANIFEST))) throw new AvaError('usage', `--resume ${gridDir}: no ${GRID_MANIFEST} there (not a grid folder of ava-lab run or submit)`);

  // Which cells: every cell of a new grid; on --resume, those that neither finished nor wait or run in Slurm.
  const seeds = values.seed?.map(Number);
  const wanted = (variant: string, seed: number) => (!values.only || values.only.includes(variant)) && (!seeds || seeds.includes(seed));
  let indexes = runs.map((_, i) => i).filter((i) => wanted(runs[i].variant, runs[i].seed));
  let busyCells: number[] = [];
  let doneCells: number[] = [];
  if (resume) {
    const manifest = readManifest(gridDir);
    if (manifest.cells.length !== runs.length || manifest.cells.some((c, i) => c.variant !== runs[i].variant || c.seed !== runs[i].seed)) {
      throw new AvaError('config', `${expFile} no longer makes the grid of ${gridDir} (its variants or seeds changed); submit it as a new grid`, { file: expFile });
    }
    const state = await gridState(gridDir);
    if (state.warning) throw new AvaError('usage', `cannot tell which cells still run: ${state.warning}`);
    busyCells = state.cells.filter((c) => c.state === 'queued' || c.state === 'running').map((c) => c.index);
    doneCells = state.cells.filter((c) => c.state === 'finished').map((c) => c.index);
    if (busyCells.length) rep.log('info', `${busyCells.length} cell(s) still queued or running in Slurm: not submitted again`);
    indexes = indexes.filter((i) => !busyCells.includes(i) && !doneCells.includes(i));
  }
  if (indexes.length === 0) {
    rep.print(resume ? `Nothing to submit: every selected cell of ${gridDir} finished or is still in Slurm.` : `No grid cell matches --only ${values.only?.join(',') ?? '*'} --seed ${values.seed?.join(',') ?? '*'}.`);
    return resume ? EXIT.ok : EXIT.usage;
  }

  // Cells that depend on other cells go in later stages, each an array job that starts once the
  // stage before it (and any dependency still queued or running from an earlier submit) completed.
  const depsOf = (i: number) => dependencyIndexes(runs, i);
  const manifestBefore = resume ? readManifest(gridDir) : null;
  const stages: number[][] = [];
  const stageOf = new Map<number, number>();
  const outside = new Map<number, string>();
  const place = (i: number): number => {
    const known = stageOf.get(i);
    if (known !== undefined) return known;
    let stage = 0;
    for (const d of depsOf(i)) {
      if (indexes.includes(d)) stage = Math.max(stage, place(d) + 1);
      else if (busyCells.includes(d)) outside.set(i, currentJobOf(manifestBefore?.slurm ?? { submissions: [] }, d) ?? '');
      else if (!doneCells.includes(d)) throw new AvaError('usage', `${runs[i].variant || "''"}/seed-${runs[i].seed} needs the cell ${runs[d].variant || "''"}/seed-${runs[d].seed}, which is neither finished nor selected: add --only ${JSON.stringify(runs[d].variant)}`);
    }
    stageOf.set(i, stage);
    (stages[stage] ??= []).push(i);
    return stage;
  };
  for (const i of indexes) place(i);

  const scriptFor = (submit: number[], after: string[]) =>
    sbatchScript({
      experimentName: exp.name,
      experimentFile: expFile,
      gridDir,
      workdir: process.cwd(),
      cells: runs.map((r) => ({ variant: r.variant, seed: r.seed })),
      submit,
      options,
      command: nodeCommand(options),
      ...(backend ? { backend } : {}),
      ...(after.length ? { after } : {}),
      version: AVA_LAB_VERSION,
    });
  const waitsOutside = (cells: number[]) => [...new Set(cells.flatMap((c) => (outside.get(c) ? [outside.get(c)!] : [])))];
  if (values['dry-run']) {
    stages.forEach((cells, k) => {
      if (stages.length > 1) rep.print(`# stage ${k + 1} of ${stages.length}${k > 0 ? `: starts after stage ${k}` : ''}`);
      rep.print(scriptFor(cells, [...(k > 0 ? [`<job of stage ${k}>`] : []), ...waitsOutside(cells)]));
    });
    rep.print(`# dry run: nothing written or submitted (${indexes.length} cells would go to ${gridDir}${stages.length > 1 ? ` in ${stages.length} dependent array jobs` : ''})`);
    rep.emit({ type: 'submitted', grid_dir: gridDir, job_id: null, cells: indexes.length, script: '' });
    return EXIT.ok;
  }

  if (!resume) writeNewGrid(gridDir, exp.name, expFile, runs, { slurm: { submissions: [] } });
  const slurmDir = join(gridDir, SLURM_DIR);
  mkdirSync(slurmDir, { recursive: true });
  const submitted: SlurmSubmission[] = [];
  for (const [k, cells] of stages.entries()) {
    const n = readdirSync(slurmDir).filter((f) => f.endsWith('.sbatch')).length + 1;
    const scriptName = `${SLURM_DIR}/submit-${n}.sbatch`;
    writeTextAtomic(join(gridDir, scriptName), scriptFor(cells, [...(k > 0 ? [submitted[k - 1].job_id] : []), ...waitsOutside(cells)]));
    let jobId: string;
    try {
      jobId = await sbatch(join(gridDir, scriptName));
    } catch (e) {
      rmSync(join(gridDir, scriptName), { force: true });
      // Nothing was queued: a new grid folder would only list cells that never run.
      if (submitted.length === 0 && !resume) rmSync(gridDir, { recursive: true, force: true });
      else if (submitted.length) {
        recordSubmissions(gridDir, submitted);
        rep.print(`Submitted ${submitted.map((s) => s.job_id).join(', ')} before sbatch failed; the remaining cells: ava-lab submit ${positionals[0]} --resume ${gridDir}`);
      }
      throw e;
    }
    submitted.push({ job_id: jobId, cells, script: scriptName, submitted: new Date().toISOString(), options });
    rep.print(`Submitted Slurm job ${jobId}: ${cells.length} cell${cells.length === 1 ? '' : 's'} (array ${jobId}_[${cells.join(',')}]${k > 0 ? `, after job ${submitted[k - 1].job_id}` : ''}), script ${join(gridDir, scriptName)}`);
  }
  recordSubmissions(gridDir, submitted);

  rep.print(`Runs: ${gridDir}`);
  rep.print(`Follow: ava-lab status ${gridDir}    Stop: ava-lab cancel ${gridDir}    Continue unfinished cells: ava-lab submit ${positionals[0]} --resume ${gridDir}`);
  const last = submitted[submitted.length - 1];
  rep.emit({ type: 'submitted', grid_dir: gridDir, job_id: submitted.map((s) => s.job_id).join(','), cells: indexes.length, script: join(gridDir, last.script) });
  return EXIT.ok;
}

function recordSubmissions(gridDir: string, submitted: readonly SlurmSubmission[]): void {
  const manifest = readJsonFile<GridManifest>(join(gridDir, GRID_MANIFEST))!;
  manifest.slurm = { submissions: [...(manifest.slurm?.submissions ?? []), ...submitted], tasks: manifest.slurm?.tasks ?? {} };
  writeJsonAtomic(join(gridDir, GRID_MANIFEST), manifest);
}
