/**
 * The run directory: plain files, append-only where they grow. The extension, the CLI and
 * any script read runs through these names only.
 *
 *   <grid_dir>/                      one `ava-lab run` of an experiment file
 *     grid.json                      GridManifest: experiment path, cells, created; Slurm jobs when submitted
 *     slurm/                         `ava-lab submit`: the sbatch scripts and one log per array task
 *     <variant>/seed-<n>/            one run (a grid cell); variant `base` when there are no ablations
 *       config.yaml                  the fully resolved RunConfig
 *       env.json                     backend, device, versions, seed, git commit, host
 *       status.json                  RunStatusFile (rewritten atomically)
 *       metrics.jsonl                MetricRecord per line, appended + flushed every logged step
 *       eval.json                    EvalSummary of the final evaluation
 *       eval_pairs.jsonl             EvalPairRow per evaluation pair of the final evaluation (McNemar between runs)
 *       evals.jsonl                  EvalSummary per periodic evaluation
 *       token_rewards.jsonl          LineRewards of the first `eval.dump_token_rewards` eval examples
 *       stderr.log                   what the backend wrote to stderr (kept for failed runs)
 *       checkpoints/step-<n>/        weights.bin + meta.json + tokenizer.json
 *       checkpoints/latest.json      { step, path } of the newest complete checkpoint
 */
import type { RunAlarm, RunStatus } from '../../protocol/events.js';
import type { SlurmManifest } from '../cluster/slurm.js';

export const GRID_MANIFEST = 'grid.json';
export const RUN_CONFIG = 'config.yaml';
export const RUN_ENV = 'env.json';
export const RUN_STATUS = 'status.json';
export const RUN_METRICS = 'metrics.jsonl';
export const RUN_EVAL = 'eval.json';
export const RUN_EVALS = 'evals.jsonl';
export const RUN_EVAL_PAIRS = 'eval_pairs.jsonl';

/** One evaluation pair of the final evaluation: its data line, both sequence rewards, whether the model ranked it right. */
export interface EvalPairRow {
  line: number;
  chosen: number;
  rejected: number;
  /** R(y⁺) > R(y⁻) (a tie is wrong, as in reward accuracy's default). */
  correct: boolean;
}
export const RUN_TOKEN_REWARDS = 'token_rewards.jsonl';
export const RUN_STDERR = 'stderr.log';
/** The AfD pairs a cell with `data.afd` trained on (spec §6.5), one preference row per demonstration. */
export const RUN_AFD_PAIRS = 'afd-pairs.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const LATEST_CHECKPOINT = 'latest.json';
export const CHECKPOINT_WEIGHTS = 'weights.bin';
export const CHECKPOINT_META = 'meta.json';
export const CHECKPOINT_TOKENIZER = 'tokenizer.json';

export interface RunStatusFile {
  status: RunStatus;
  /** Process that owns the run while it is `running`; a dead pid means the run was killed. */
  pid: number;
  /** Machine of that process (a cluster node for a submitted cell): its pid means nothing elsewhere. */
  host?: string;
  started: string;
  updated: string;
  step: number;
  total_steps: number;
  error?: string;
  /** Alarms raised so far (core/train/alarms.ts), oldest first. */
  alarms?: RunAlarm[];
}

export interface GridManifest {
  experiment: string;
  experiment_file: string;
  created: string;
  cells: { variant: string; seed: number; dir: string }[];
  /** Present when the grid was submitted to Slurm (`ava-lab submit`): its jobs and their last states. */
  slurm?: SlurmManifest;
}

export function variantDirName(variant: string): string {
  if (variant === '') return 'base';
  return variant.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'variant';
}

export function cellDirName(variant: string, seed: number): string {
  return `${variantDirName(variant)}/seed-${seed}`;
}

export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(7, '0')}`;
}
