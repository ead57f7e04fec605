/**
 * `env.json` of a run: what produced it (backend and device, versions, seed, git commit,
 * machine), so a result can be traced and reproduced.
 */
import { execFileSync } from 'node:child_process';
import { cpus, hostname, platform, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { EngineInfo } from '../engine/backend.js';
import type { RunConfig } from '../experiment/config.js';
import type { DataFiles } from './data.js';

declare const __AVA_LAB_VERSION__: string | undefined;

export const AVA_LAB_VERSION: string = typeof __AVA_LAB_VERSION__ === 'string' ? __AVA_LAB_VERSION__ : '0.0.0-dev';

/** The commit of the git checkout holding `dir`, with `+dirty` when it has uncommitted changes; null outside git. */
export function gitCommit(dir: string): string | null {
  try {
    const opts = { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], encoding: 'utf8' as const, timeout: 5000 };
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return null;
  }
}

/**
 * The Slurm job a run was trained in (from the variables Slurm sets in every job), or null
 * outside Slurm. `gpus` lists what the job was given (`SLURM_JOB_GPUS`, else `CUDA_VISIBLE_DEVICES`).
 */
export function slurmJobInfo(env: NodeJS.ProcessEnv = process.env) {
  if (!env.SLURM_JOB_ID) return null;
  return {
    job_id: env.SLURM_JOB_ID,
    array_job_id: env.SLURM_ARRAY_JOB_ID ?? null,
    array_task_id: env.SLURM_ARRAY_TASK_ID ?? null,
    node: env.SLURMD_NODENAME ?? hostname(),
    partition: env.SLURM_JOB_PARTITION ?? null,
    cluster: env.SLURM_CLUSTER_NAME ?? null,
    cpus: env.SLURM_CPUS_PER_TASK ? Number(env.SLURM_CPUS_PER_TASK) : null,
    gpus: env.SLURM_JOB_GPUS ?? env.CUDA_VISIBLE_DEVICES ?? null,
  };
}

/** `initFrom`: the checkpoint folder the weights came from (a `cell:<variant>` resolved), null when none. */
export function environmentInfo(engine: EngineInfo, run: RunConfig, files: DataFiles, initFrom: string | null = null) {
  return {
    ava_lab: AVA_LAB_VERSION,
    engine,
    node: process.version,
    platform: `${platform()} ${process.arch}`,
    host: hostname(),
    cpus: cpus().length,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    seed: run.seed,
    git_commit: gitCommit(dirname(files.train)),
    data: files,
    init_from: initFrom,
    argv: process.argv.slice(2),
    slurm: slurmJobInfo(),
    started: new Date().toISOString(),
  };
}
