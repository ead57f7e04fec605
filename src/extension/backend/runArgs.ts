/** The `ava-lab run` command line for a request from the editor. Pure. */
import type { BackendChoice } from '../../core/experiment/config.js';

export interface RunRequest {
  /** Absolute path of the experiment YAML. */
  experimentFile: string;
  /** Working directory (the workspace folder). */
  cwd: string;
  /** Absolute runs folder (`avaLab.runsFolder`). */
  runsRoot: string;
  /** One grid cell: this variant ('' = base) … */
  variant?: string;
  /** … and this seed. */
  seed?: number;
  /** Continue the unfinished cells of this grid directory. */
  resumeGridDir?: string;
}

export function runArgs(req: RunRequest, backend: BackendChoice): string[] {
  const args = ['run', req.experimentFile, '--json', '--runs-root', req.runsRoot];
  if (req.resumeGridDir) args.push('--resume', req.resumeGridDir);
  if (req.variant !== undefined && req.variant !== '') args.push('--only', req.variant);
  if (req.seed !== undefined) args.push('--seed', String(req.seed));
  if (backend !== 'auto') args.push('--backend', backend);
  return args;
}

/** `demo`, `demo · no_kl/seed-1`, `demo (resume)`: a launch's title. */
export function runTitle(experimentName: string, req: RunRequest): string {
  const cell = req.variant !== undefined || req.seed !== undefined ? ` · ${req.variant || 'base'}${req.seed !== undefined ? `/seed-${req.seed}` : ''}` : '';
  return `${experimentName}${cell}${req.resumeGridDir ? ' (resume)' : ''}`;
}
