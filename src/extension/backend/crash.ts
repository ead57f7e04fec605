/**
 * When a backend dies without ending its runs (a crash, an out-of-memory kill), the runs it
 * was training still say `running` in their status.json. This marks each of them `failed`
 * (or `stopped` when the user asked it to stop) with the backend's last stderr lines, and keeps
 * those lines in the run's stderr.log: the metrics it logged are already on disk, line by line.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStatus } from '../../protocol/events.js';
import { RUN_STDERR } from '../../core/run/layout.js';
import { readStatus, writeStatus } from '../../core/run/status.js';
import type { CellProgress } from './launchState.js';

export interface CrashReport {
  runDir: string;
  status: Extract<RunStatus, 'failed' | 'stopped'>;
  error: string;
}

/** A one-paragraph reason: how the process ended, then its last stderr lines. */
export function crashReason(exit: { code: number | null; signal: string | null }, stderrTail: string[]): string {
  const how = exit.signal ? `was killed by ${exit.signal}` : exit.code === null ? 'is no longer running' : `exited with code ${exit.code}`;
  const tail = stderrTail.filter((l) => l.trim() !== '').slice(-10);
  return tail.length ? `The backend ${how}. Last output:\n${tail.join('\n')}` : `The backend ${how} without output.`;
}

/**
 * Marks the given cells ended unless their status.json already says they ended (the CLI may
 * have written it just before dying). Returns the runs it marked.
 */
export function recordCrash(cells: CellProgress[], status: CrashReport['status'], error: string, stderrTail: string[]): CrashReport[] {
  const reports: CrashReport[] = [];
  for (const c of cells) {
    const current = readStatus(c.runDir);
    if (current && current.status !== 'running' && current.status !== 'pending') continue;
    const now = new Date().toISOString();
    writeStatus(c.runDir, {
      status,
      pid: current?.pid ?? 0,
      started: current?.started ?? now,
      updated: now,
      step: Math.max(current?.step ?? 0, c.step),
      total_steps: current?.total_steps ?? c.total,
      error,
    });
    const stderrFile = join(c.runDir, RUN_STDERR);
    if (!existsSync(stderrFile) && stderrTail.length) writeFileSync(stderrFile, stderrTail.join('\n') + '\n');
    reports.push({ runDir: c.runDir, status, error });
  }
  return reports;
}
