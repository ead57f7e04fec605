/**
 * The Slurm commands AVA Lab runs (`sbatch`, `squeue`, `sacct`, `scontrol`, `scancel`), each
 * with a time limit and a clear error when the tools are not on PATH. The states they report
 * are parsed in `slurm.ts`. `SLURM_CONF` and the rest of the environment pass through, so the
 * same code talks to a cluster's login node and to the one-node Slurm of the tests.
 */
import { execFile } from 'node:child_process';
import { AvaError } from '../errors.js';
import { parseSacct, parseScontrol, parseSqueue, type SlurmTaskState } from './slurm.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

const TIMEOUT_MS = 30_000;

/** Runs one Slurm tool; a missing binary raises AvaError('usage') naming it. */
export function slurmTool(tool: 'sbatch' | 'squeue' | 'sacct' | 'scontrol' | 'scancel', args: readonly string[], input?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(tool, args, { timeout: TIMEOUT_MS, maxBuffer: 16 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { code?: string | number; killed?: boolean }) | null;
      if (err?.code === 'ENOENT') {
        reject(new AvaError('usage', `'${tool}' is not on PATH: the Slurm client tools are needed (run this on a login node of the cluster, or install Slurm: apt-get install slurm-client)`));
        return;
      }
      if (err?.killed) {
        reject(new AvaError('usage', `'${tool} ${args.join(' ')}' did not answer within ${TIMEOUT_MS / 1000} s (is slurmctld reachable?)`));
        return;
      }
      resolve({ code: typeof err?.code === 'number' ? err.code : err ? 1 : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `sbatch --parsable <script>` → the job id (`12345`, without `;cluster`). */
export async function sbatch(scriptPath: string): Promise<string> {
  const r = await slurmTool('sbatch', ['--parsable', scriptPath]);
  const id = r.stdout.trim().split(';')[0];
  if (r.code !== 0 || !/^\d+$/.test(id)) throw new AvaError('usage', `sbatch ${scriptPath} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`, { file: scriptPath });
  return id;
}

/** `scancel` of whole jobs or single array tasks (`12_3`). */
export async function scancel(jobs: readonly string[]): Promise<void> {
  if (jobs.length === 0) return;
  const r = await slurmTool('scancel', [...jobs]);
  if (r.code !== 0) throw new AvaError('usage', `scancel ${jobs.join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/**
 * Every task Slurm knows of for these array jobs, keyed `<job>_<task>`. `squeue` answers for
 * live tasks; `sacct` (accounting) for ended ones; clusters without accounting answer through
 * `scontrol show job`, which keeps an ended job for `MinJobAge` seconds.
 */
export async function querySlurmTasks(arrayJobs: readonly string[]): Promise<Map<string, SlurmTaskState>> {
  const out = new Map<string, SlurmTaskState>();
  const seen = new Date().toISOString();
  const put = (parsed: Map<number, Omit<SlurmTaskState, 'seen'>>, override: boolean) => {
    for (const t of parsed.values()) if (override || !out.has(t.job)) out.set(t.job, { ...t, seen });
  };
  for (const job of arrayJobs) {
    const ended = await slurmTool('sacct', ['-n', '-P', '-X', '-j', job, '-o', 'JobID,State,Reason,ExitCode,NodeList']);
    if (ended.code === 0) put(parseSacct(ended.stdout, job), true);
    else {
      const shown = await slurmTool('scontrol', ['show', 'job', job, '-o']);
      if (shown.code === 0) put(parseScontrol(shown.stdout, job), true);
    }
    // squeue last: it is the freshest word on tasks still queued or running.
    const live = await slurmTool('squeue', ['-h', '-r', '-j', job, '-o', '%i|%T|%r|%N']);
    if (live.code === 0) put(parseSqueue(live.stdout, job), true);
  }
  return out;
}
