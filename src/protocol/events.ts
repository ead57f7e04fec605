/**
 * The backend's JSON-lines protocol (`ava-lab … --json`): one event per stdout line.
 *
 * Defined once here and imported by the CLI (producer), the VS Code extension (consumer)
 * and the webviews (which receive the same metric records). Pure types + two helpers;
 * no Node or `vscode` imports, so the browser bundle can include it.
 *
 * Versioning: every event carries `v`. A consumer accepts events whose major version equals
 * PROTOCOL_VERSION and ignores unknown `type`s (forward compatible within a major).
 */

export const PROTOCOL_VERSION = 1 as const;

/** A run's lifecycle status, as stored in `status.json` of its directory. */
export type RunStatus = 'pending' | 'running' | 'finished' | 'stopped' | 'failed';

export type Phase = 'pretrain' | 'train' | 'eval';

/** One line of a run's `metrics.jsonl` (also sent as a `metrics` event). */
export interface MetricRecord {
  step: number;
  phase: Phase;
  /** Seconds since the run started. */
  time: number;
  /** Loss terms and metrics: loss, nll, neg, kl, td, cer, reward_acc, lr, tokens_per_s, … */
  values: Record<string, number>;
}

/**
 * A training run that is going wrong in a known way (core/train/alarms.ts): raised once per kind
 * and run, written to status.json and eval.json, sent as an `alarm` event.
 */
export interface RunAlarm {
  /** `reward_flat`: R(y) stays ≈ 0, so CER and the accuracy see ties; `weights_off_response`: Σ w over the response ≈ 0. */
  kind: 'reward_flat' | 'weights_off_response';
  /** The step whose logged values raised it. */
  step: number;
  /** One line: what is wrong. */
  title: string;
  /** Why, with the logged values that show it. */
  diagnosis: string;
  /** The switch to try (a config key and value). */
  remedy: string;
  /** The logged values the test read (last window's extremes). */
  values: Record<string, number>;
}

/** Final evaluation of a run (also `eval.json` in the run directory). */
export interface EvalSummary {
  step: number;
  /** Reward accuracy on held-out pairs (0..1), its n and Wilson 95% interval. */
  reward_acc?: { value: number; n: number; lo: number; hi: number };
  /** Best possible accuracy given the task's label noise (built-in tasks only). */
  best_possible_acc?: number;
  /** Accuracy against the gold preference (ignoring label noise), built-in tasks only. */
  gold_acc?: { value: number; n: number; lo: number; hi: number };
  /** Mean held-out NLL per response token, when the objective trains a policy. */
  nll?: number;
  /** How well the per-token rewards match the gold per-token rewards (built-in tasks). */
  token_attribution?: TokenAttribution;
  /** Alarms raised while training (final evaluation only). */
  alarms?: RunAlarm[];
  [key: string]: unknown;
}

/**
 * Agreement of the per-token rewards (spec §5) with a task's gold per-token rewards, over
 * every response token that has a gold value (word-aligned tokens of the built-in tasks).
 * Correlations are null when either side is constant (nothing to correlate).
 */
export interface TokenAttribution {
  /** Pearson and Spearman correlation of the raw means μ with the gold rewards. */
  pearson: number | null;
  spearman: number | null;
  /** The same for the weighted means μ̃ = w·μ (what the hover shows). */
  pearson_weighted: number | null;
  spearman_weighted: number | null;
  /**
   * The headline: Pearson of μ and gold, each centred on its sequence's mean (a reward is
   * identified only up to a per-sequence shift). Absent in runs made before it existed.
   */
  pearson_centred?: number | null;
  /** Mean over responses of the Spearman correlation of μ and gold within each (≥ 3 tokens). */
  spearman_within?: number | null;
  /** Centred Pearson of gold[k] with μ[k+1]: above `pearson_centred` when rewards come one token late. */
  pearson_centred_late?: number | null;
  /** Spearman of σ with |fitted μ − gold| (centred): > 0 when a larger σ goes with a larger error. */
  sigma_calibration?: number | null;
  /** Tokens and sequences (responses) that entered. */
  tokens: number;
  sequences: number;
}

/** One token of a per-token reward readout (spec §5). */
export interface TokenReward {
  token: string;
  id: number;
  /** Weighted mean μ̃ and std σ̃ paired with this action token, and the weight w. */
  mean: number;
  std: number;
  weight: number;
  /** Raw head outputs μ, σ. */
  raw_mean: number;
  raw_std: number;
  /** Gold per-token reward, when the data comes from a built-in task. */
  gold?: number;
}

export interface SequenceRewards {
  text: string;
  prompt_tokens: string[];
  tokens: TokenReward[];
  /** Sequence reward R(y) (sequence_reward_mode) and its std where defined. */
  reward: number;
  reward_std?: number;
  gold?: number;
}

/** Per-token rewards for one dataset line (`ava-lab rewards … --line N`, `token_rewards.jsonl`). */
export interface LineRewards {
  line: number;
  kind: 'preference' | 'demonstration';
  chosen?: SequenceRewards;
  rejected?: SequenceRewards;
  response?: SequenceRewards;
  /** For pairs: did the model rank chosen above rejected? */
  correct?: boolean;
}

export interface Diagnostic {
  file: string;
  /** 1-based line and column. */
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  /** Dotted key path, e.g. `objective.cer_form`. */
  key: string;
  message: string;
  severity: 'error' | 'warning';
}

interface Base {
  v: typeof PROTOCOL_VERSION;
  /** Milliseconds since the epoch. */
  ts: number;
}

export type BackendEvent = Base &
  (
    | { type: 'hello'; pid: number; version: string; backend: string; device: string; node: string }
    | { type: 'grid_start'; experiment: string; grid_dir: string; cells: { variant: string; seed: number; run_dir: string }[] }
    | { type: 'run_start'; run_dir: string; name: string; variant: string; seed: number; total_steps: number; resumed_from?: number }
    | { type: 'progress'; run_dir: string; phase: Phase; step: number; total: number }
    | { type: 'metrics'; run_dir: string; record: MetricRecord }
    | { type: 'checkpoint'; run_dir: string; step: number; path: string }
    | { type: 'eval'; run_dir: string; summary: EvalSummary }
    | { type: 'alarm'; run_dir: string; alarm: RunAlarm }
    | { type: 'run_end'; run_dir: string; status: RunStatus; error?: string; summary?: EvalSummary }
    | { type: 'grid_end'; grid_dir: string; status: RunStatus }
    /** `ava-lab submit`: the grid went to Slurm as one job array, or one per stage of dependent cells (job_id: their ids, comma-separated; null on --dry-run). */
    | { type: 'submitted'; grid_dir: string; job_id: string | null; cells: number; script: string }
    | { type: 'validation'; file: string; ok: boolean; diagnostics: Diagnostic[] }
    | { type: 'rewards'; run_dir: string; data: string; result: LineRewards }
    | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
    | { type: 'error'; message: string; diagnostics?: Diagnostic[] }
    | { type: 'response'; id: number; ok: boolean; result?: LineRewards; error?: string }
  );

/**
 * Requests to a long-lived `ava-lab serve --json` process, one JSON object per stdin line.
 * Each is answered by exactly one `response` event with the same id. The server keeps the
 * most recently used models loaded (an LRU cache) and indexes dataset files lazily.
 */
export type ServeRequest =
  | { id: number; method: 'rewards'; run_dir: string; data: string; line: number }
  | { id: number; method: 'shutdown' };

export type BackendEventType = BackendEvent['type'];
export type EventOf<K extends BackendEventType> = Extract<BackendEvent, { type: K }>;

/** Distributes Omit over a union (plain Omit would collapse it). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventBody = DistributiveOmit<BackendEvent, 'v' | 'ts'>;

/** Serialise one event as a protocol line (no trailing newline). */
export function encodeEvent(body: EventBody, now: number = Date.now()): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ts: now, ...body });
}

/**
 * Parse one protocol line. Returns null for blank lines, non-JSON lines (a stray print from a
 * library), and events of another major version; throws never.
 */
export function decodeEvent(line: string): BackendEvent | null {
  const s = line.trim();
  if (!s.startsWith('{')) return null;
  try {
    const o = JSON.parse(s) as Partial<BackendEvent>;
    if (o === null || typeof o !== 'object' || o.v !== PROTOCOL_VERSION || typeof o.type !== 'string') return null;
    return o as BackendEvent;
  } catch {
    return null;
  }
}
