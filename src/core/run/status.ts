/**
 * A run's status file and how a reader interprets it: a run marked `running` whose owner
 * process is gone was killed, and is reported as failed (interrupted) rather than running.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunStatus } from '../../protocol/events.js';
import { RUN_STATUS, type RunStatusFile } from './layout.js';
import { readJsonFile, writeJsonAtomic } from './files.js';

export function writeStatus(runDir: string, status: RunStatusFile): void {
  writeJsonAtomic(join(runDir, RUN_STATUS), { ...status, updated: new Date().toISOString() });
}

export function readStatus(runDir: string): RunStatusFile | null {
  return readJsonFile<RunStatusFile>(join(runDir, RUN_STATUS));
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The status a reader should show: `running` with a dead owner becomes `failed` (interrupted).
 * An owner on another machine (a cluster node) cannot be checked from here: the cluster's own
 * state says whether it lives (core/cluster/slurm.ts).
 */
export function effectiveStatus(s: RunStatusFile | null): { status: RunStatus | 'missing'; interrupted: boolean } {
  if (!s) return { status: 'missing', interrupted: false };
  const here = s.host === undefined || s.host === hostname();
  if (s.status === 'running' && here && !isProcessAlive(s.pid)) return { status: 'failed', interrupted: true };
  return { status: s.status, interrupted: false };
}
