/**
 * A grid on a Slurm cluster, as plain data: the `sbatch` script of one job array (one array
 * task per grid cell, task id = the cell's index in grid.json), what `grid.json` records about
 * each submission, the parsers of `squeue`, `sacct` and `scontrol` output, and how a cell's
 * state is read from its own status.json together with what Slurm says. Running the Slurm
 * tools is `slurmTools.ts`; nothing here spawns a process.
 *
 * Slurm is the engine: AVA Lab writes a script a cluster user can read and submit by hand,
 * and never schedules anything itself.
 */
import type { ClusterConfig } from '../experiment/config.js';
import type { RunStatusFile } from '../run/layout.js';

/** One `sbatch` of (some of) the grid's cells. */
export interface SlurmSubmission {
  /** The array job id `sbatch --parsable` printed (without the cluster name). */
  job_id: string;
  /** Cell indexes (grid.json order) = array task ids of this job. */
  cells: number[];
  /** The script, relative to the grid folder. */
  script: string;
  submitted: string;
  options: ClusterConfig;
}

/** What Slurm last said about one array task, kept so the state survives Slurm forgetting the job. */
export interface SlurmTaskState {
  /** `<array job>_<task>`. */
  job: string;
  /** Slurm's state name: PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, … */
  state: string;
  /** Slurm's reason (pending reason, or why it ended), '' when none. */
  reason: string;
  /** Node the task ran on, '' when not yet known. */
  node: string;
  /** `exit:signal`, '' when not known. */
  exit_code: string;
  /** Where the state came from. */
  source: 'squeue' | 'sacct' | 'scontrol';
  seen: string;
}

/** The `slurm` section of grid.json. */
export interface SlurmManifest {
  submissions: SlurmSubmission[];
  /** Last state seen per cell index. */
  tasks?: Record<string, SlurmTaskState>;
}

export const SLURM_DIR = 'slurm';

/** The array job a cell belongs to now: the newest submission that contains it. */
export function currentJobOf(manifest: SlurmManifest, cell: number): string | null {
  for (let i = manifest.submissions.length - 1; i >= 0; i--) {
    const s = manifest.submissions[i];
    if (s.cells.includes(cell)) return `${s.job_id}_${cell}`;
  }
  return null;
}

/** `0-3,5,7-8`: Slurm's compact `--array` list. */
export function arraySpec(indexes: readonly number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Expands an array task list as Slurm prints it (`0-3,5`, `[0-7%2]`, `1`). */
export function parseArraySpec(spec: string): number[] {
  const body = spec.replace(/^\[|\]$/g, '').replace(/%\d+$/, '');
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    for (let k = a; k <= b; k += step) out.push(k);
  }
  return out;
}

/** Single-quotes a word for bash. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface ScriptInput {
  experimentName: string;
  experimentFile: string;
  gridDir: string;
  /** Working directory of each task: where the submit command ran (relative paths of the command resolve there). */
  workdir: string;
  /** Every cell of the grid (grid.json order). */
  cells: readonly { variant: string; seed: number }[];
  /** The cells this job runs (array task ids). */
  submit: readonly number[];
  options: ClusterConfig;
  /** How a node starts ava-lab, as shell words before `run` (e.g. quoted node + CLI script paths). */
  command: string;
  /** `--backend` for every cell, when the submit command named one. */
  backend?: string;
  /**
   * Jobs that must complete successfully first (`afterok`): the earlier stage of a grid whose
   * cells depend on other cells (`cell:<variant>`, `data.afd`), or array tasks (`<job>_<task>`)
   * still queued or running. A dependency that can no longer be met cancels this job.
   */
  after?: readonly string[];
  version: string;
}

/** `#SBATCH` lines from the cluster options, in a fixed order. */
function sbatchDirectives(input: ScriptInput): string[] {
  const o = input.options;
  const lines = [
    `--job-name=${shellQuote(`ava-lab:${input.experimentName}`)}`,
    `--array=${arraySpec(input.submit)}${o.max_parallel ? `%${o.max_parallel}` : ''}`,
    `--output=${shellQuote(`${input.gridDir}/${SLURM_DIR}/%A_%a.log`)}`,
    `--chdir=${shellQuote(input.workdir)}`,
    '--ntasks=1',
    `--cpus-per-task=${o.cpus_per_task}`,
  ];
  if (o.partition) lines.push(`--partition=${shellQuote(o.partition)}`);
  if (o.account) lines.push(`--account=${shellQuote(o.account)}`);
  if (o.qos) lines.push(`--qos=${shellQuote(o.qos)}`);
  if (o.time) lines.push(`--time=${shellQuote(o.time)}`);
  if (o.mem) lines.push(`--mem=${shellQuote(o.mem)}`);
  if (o.gres) lines.push(`--gres=${shellQuote(o.gres)}`);
  if (input.after?.length) lines.push(`--dependency=afterok:${input.after.join(':')}`, '--kill-on-invalid-dep=yes');
  // Slurm sends SIGTERM at the time limit and SIGKILL `KillWait` seconds later; ava-lab writes a
  // checkpoint on SIGTERM, so a timed-out cell resumes from where it stopped.
  for (const extra of o.sbatch) lines.push(extra.replace(/^#SBATCH\s+/, ''));
  return lines.map((l) => `#SBATCH ${l}`);
}

/**
 * The job array script. Each task looks its cell up by `SLURM_ARRAY_TASK_ID` and runs
 * `ava-lab run <exp> --resume <grid> --only <variant> --seed <n>`: a cell that never started
 * starts, one with a checkpoint resumes from it, a finished one is skipped.
 */
export function sbatchScript(input: ScriptInput): string {
  const variants = input.cells.map((c) => shellQuote(c.variant === '' ? '' : c.variant) || "''");
  const seeds = input.cells.map((c) => String(c.seed));
  const run = [input.command, 'run', shellQuote(input.experimentFile), '--resume', shellQuote(input.gridDir), '--only', '"$variant"', '--seed', '"$seed"', '--jobs', '1', ...(input.backend ? ['--backend', shellQuote(input.backend)] : [])];
  return [
    '#!/bin/bash',
    `# Written by ava-lab ${input.version} submit: experiment ${JSON.stringify(input.experimentName)}, ${input.submit.length} of ${input.cells.length} cells.`,
    `# One array task per grid cell (task id = cell index in grid.json). Review it, or submit it by hand: sbatch ${shellQuote(input.gridDir)}/${SLURM_DIR}/<this file>`,
    ...sbatchDirectives(input),
    '',
    'set -euo pipefail',
    ...(input.options.setup.trim() ? ['', '# setup (cluster.setup)', input.options.setup.trim()] : []),
    '',
    `variants=(${variants.join(' ')})`,
    `seeds=(${seeds.join(' ')})`,
    'variant="${variants[$SLURM_ARRAY_TASK_ID]}"',
    'seed="${seeds[$SLURM_ARRAY_TASK_ID]}"',
    'echo "ava-lab: cell $SLURM_ARRAY_TASK_ID (${variant:-base}, seed $seed) on $(hostname), job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
    `exec ${run.join(' ')}`,
    '',
  ].join('\n');
}

/** Slurm states in which the task still has work ahead or under way. */
const QUEUED = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SUSPENDED', 'STOPPED', 'RESIZING']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT']);
/** Slurm killed it or it died: the run is failed, with this reason. */
const KILLED: Record<string, string> = {
  TIMEOUT: 'time limit reached',
  OUT_OF_MEMORY: 'out of memory',
  NODE_FAIL: 'node failure',
  BOOT_FAIL: 'node boot failure',
  DEADLINE: 'deadline reached',
  PREEMPTED: 'preempted',
  FAILED: 'non-zero exit',
};

export function isTerminalSlurmState(state: string): boolean {
  return !QUEUED.has(state) && !RUNNING.has(state);
}

/** `CANCELLED by 0` → `CANCELLED`; `RUNNING+` → `RUNNING`. */
function baseState(raw: string): string {
  return raw.trim().split(/\s+/)[0].replace(/\+$/, '').toUpperCase();
}

/** Task ids of an array job id as printed (`12_3`, `12_[0-3%2]`), null for other jobs. */
function tasksOf(jobField: string, arrayJob: string): number[] | null {
  const m = /^(\d+)_(.+)$/.exec(jobField.trim());
  if (!m || m[1] !== arrayJob) return null;
  return /^\d+$/.test(m[2]) ? [Number(m[2])] : parseArraySpec(m[2]);
}

type Parsed = Map<number, Omit<SlurmTaskState, 'seen'>>;

/** `squeue -h -r -j <job> -o '%i|%T|%r|%N'`. */
export function parseSqueue(text: string, arrayJob: string): Parsed {
  const out: Parsed = new Map();
  for (const line of text.split('\n')) {
    const [id, state, reason = '', node = ''] = line.split('|');
    if (!id || !state) continue;
    for (const t of tasksOf(id, arrayJob) ?? []) out.set(t, { job: `${arrayJob}_${t}`, state: baseState(state), reason: reason.trim() === 'None' ? '' : reason.trim(), node: node.trim(), exit_code: '', source: 'squeue' });
  }
  return out;
}

/** `sacct -n -P -X -j <job> -o JobID,State,Reason,ExitCode,NodeList`. */
export function parseSacct(text: string, arrayJob: string): Parsed {
  const out: Parsed = new Map();
  for (const line of text.split('\n')) {
    const [id, state, reason = '', exit = '', node = ''] = line.split('|');
    if (!id || !state) continue;
    const s = baseState(state);
    const r = reason.trim() === 'None' ? '' : reason.trim();
    for (const t of tasksOf(id, arrayJob) ?? []) out.set(t, { job: `${arrayJob}_${t}`, state: s, reason: r || (s === 'CANCELLED' ? state.trim() : ''), node: node.trim() === 'None assigned' ? '' : node.trim(), exit_code: exit.trim(), source: 'sacct' });
  }
  return out;
}

/** `scontrol show job <job> -o`: one line per array task (pending ones grouped). */
export function parseScontrol(text: string, arrayJob: string): Parsed {
  const out: Parsed = new Map();
  for (const line of text.split('\n')) {
    const fields = new Map<string, string>();
    for (const m of line.matchAll(/(\w+)=(\S*)/g)) if (!fields.has(m[1])) fields.set(m[1], m[2]);
    if (fields.get('ArrayJobId') !== arrayJob) continue;
    const state = fields.get('JobState');
    const task = fields.get('ArrayTaskId');
    if (!state || !task) continue;
    const reason = fields.get('Reason') ?? '';
    const node = fields.get('NodeList') ?? '';
    for (const t of parseArraySpec(task)) out.set(t, { job: `${arrayJob}_${t}`, state: baseState(state), reason: reason === 'None' ? '' : reason, node: node === '(null)' ? '' : node, exit_code: fields.get('ExitCode') ?? '', source: 'scontrol' });
  }
  return out;
}

/** A cell's state as a cluster user reads it. */
export type ClusterCellState = 'unsubmitted' | 'queued' | 'running' | 'finished' | 'stopped' | 'failed' | 'cancelled' | 'lost';

export interface ClusterCellView {
  state: ClusterCellState;
  /** One line: Slurm's pending reason, why Slurm ended it, or the run's own error. */
  reason: string;
  job: string | null;
  node: string;
}

/**
 * Reads a cell from its status.json (what the run wrote) and Slurm's last word on its task.
 * A finished run is finished whatever Slurm says; otherwise a live Slurm state wins (queued,
 * running), and a task Slurm ended marks the run cancelled or failed with Slurm's reason even
 * when the run had no time to write it (SIGKILL, out of memory, a lost node).
 */
export function clusterCellView(status: RunStatusFile | null, job: string | null, task: SlurmTaskState | undefined): ClusterCellView {
  const node = task?.node ?? '';
  if (status?.status === 'finished') return { state: 'finished', reason: '', job, node };
  if (!job) return status ? { state: status.status === 'running' ? 'lost' : status.status === 'pending' ? 'unsubmitted' : status.status, reason: status.error ?? '', job, node } : { state: 'unsubmitted', reason: '', job, node };
  if (!task) return { state: status?.status === 'running' ? 'running' : 'queued', reason: status ? '' : 'submitted; Slurm has not reported it yet', job, node };
  if (QUEUED.has(task.state)) return { state: 'queued', reason: task.reason, job, node };
  if (RUNNING.has(task.state)) return { state: 'running', reason: '', job, node };
  if (task.state === 'CANCELLED') return { state: 'cancelled', reason: `Slurm: ${task.reason || 'CANCELLED'}`, job, node };
  const why = KILLED[task.state];
  if (why) return { state: 'failed', reason: `Slurm: ${task.state} (${why}${task.reason && task.reason !== task.state ? `; ${task.reason}` : ''})${task.exit_code && task.exit_code !== '0:0' ? `, exit ${task.exit_code}` : ''}`, job, node };
  // COMPLETED without a finished status.json: the run ended early on its own (its error says why).
  if (task.state === 'COMPLETED') return { state: status?.status === 'stopped' ? 'stopped' : 'failed', reason: status?.error ?? 'the task completed but the run did not finish', job, node };
  return { state: 'failed', reason: `Slurm: ${task.state}`, job, node };
}
