/**
 * Collapse alarms: the two ways an AVA run is known to fail while its loss still looks fine,
 * detected from the diagnostics each logged step already carries (objectives/index.ts).
 *
 * - `reward_flat`: the sequence reward R(y) stays at zero. |reward_margin| and reward_scale
 *   (mean |R(y)|) both below `FLAT`, so CER sits at its tie value (−0.5·cer_coef for `sigmoid`,
 *   ln 2·cer_coef for `log_sigmoid`) and every held-out pair is a near-tie: the accuracy is noise.
 *   Seen with the `paper` recipe (README "Recipes"): the summed KL/TD terms (±40 per pair)
 *   dominate CER under the grad-norm clip and the Eq. 11 weights shrink R(y) to ~1e-7.
 * - `weights_off_response`: Σ w over the response below `OFF_RESPONSE`, so R(y) = Σ w·μ has
 *   nothing to read and CER nothing to move (examples/stability.ava.yaml).
 *
 * An alarm needs `WINDOW` consecutive logged objective steps that all satisfy it, and not before
 * `settleSteps` objective steps (the learning-rate warm-up and the first moves of a fresh head
 * are not a collapse). Each kind is raised once per run. Pure: no tensors, no I/O.
 */
import type { MetricRecord, RunAlarm } from '../../protocol/events.js';
import type { RunConfig } from '../experiment/config.js';

/** |reward_margin| and reward_scale below this: R(y) is not learning (collapsed runs log ~1e-7, learning ones 0.1-2). */
export const FLAT = 1e-3;
/** response_weight below this: the weights have left the response (collapsed ~1e-3, learning 0.3-0.7). */
export const OFF_RESPONSE = 0.01;
/** Consecutive logged steps that must all show the symptom. */
export const WINDOW = 3;

/** Objective steps before any alarm: a quarter of the run, at most 100. */
export function settleSteps(run: RunConfig): number {
  return Math.min(100, Math.ceil(run.train.steps / 4));
}

interface Rule {
  kind: RunAlarm['kind'];
  /** The keys it reads; a record without them does not count. */
  keys: readonly string[];
  holds(v: Record<string, number>): boolean;
  describe(run: RunConfig, values: Record<string, number>): Pick<RunAlarm, 'title' | 'diagnosis' | 'remedy'>;
}

const fmt = (x: number): string => (Math.abs(x) >= 1e-3 || x === 0 ? x.toPrecision(3) : x.toExponential(1));

function flatRemedy(run: RunConfig): string {
  if (run.recipe === 'paper') return 'set `recipe: robust` (log σ CER on a weighted-sum reward, token-mean KL/TD): README "Recipes"';
  if (run.objective.cer_form === 'sigmoid') return 'set `objective.cer_form: log_sigmoid` (σ(Δ) saturates and lets pairs go)';
  if (run.objective.sequence_reward_mode === 'last') return 'set `objective.sequence_reward_mode: weighted_sum` (CER then reaches every step)';
  return 'raise `objective.cer_coef` (e.g. 5) or check that the labels carry a signal (a Bradley-Terry variant on the same data)';
}

const RULES: readonly Rule[] = [
  {
    kind: 'reward_flat',
    keys: ['reward_scale'],
    holds: (v) => v.reward_scale < FLAT && (v.reward_margin === undefined || Math.abs(v.reward_margin) < FLAT),
    describe: (run, v) => ({
      title: 'sequence reward not learning: R(y) ≈ 0 on every sequence',
      diagnosis:
        `mean |R(y)| ${fmt(v.reward_scale)}` +
        (v.reward_margin !== undefined ? `, margin R(y⁺) − R(y⁻) ${fmt(v.reward_margin)}` : '') +
        (v.cer !== undefined ? `, CER flat at ${fmt(v.cer)} (its value on ties)` : '') +
        `: CER has almost no gradient left, the per-token rewards are noise-level and the accuracy rests on differences of ~1e-4`,
      remedy: flatRemedy(run),
    }),
  },
  {
    kind: 'weights_off_response',
    keys: ['response_weight'],
    holds: (v) => v.response_weight < OFF_RESPONSE,
    describe: (run, v) => ({
      title: 'reward weights left the response: Σ w over the response ≈ 0',
      diagnosis: `response_weight ${fmt(v.response_weight)}: R(y) reads almost nothing of the response and CER has nothing to move`,
      remedy:
        run.model.reward_weight_targets === 'q_mu_sigma'
          ? 'set `model.reward_weight_targets: mu_sigma` (part of `recipe: robust`), or `model.use_reward_weights: false`'
          : 'set `model.use_reward_weights: false` (w ≡ 1), or `objective.sequence_reward_weighted: false`',
    }),
  },
];

/** Feeds on the run's logged records and raises each alarm once. */
export class CollapseMonitor {
  private readonly raised = new Map<RunAlarm['kind'], RunAlarm>();
  private readonly streak = new Map<RunAlarm['kind'], Record<string, number>[]>();
  private readonly settle: number;
  private readonly start: number;

  /** `alarms`: those already raised (a resumed run keeps them and does not raise them again). */
  constructor(
    private readonly run: RunConfig,
    alarms: readonly RunAlarm[] = [],
  ) {
    this.settle = settleSteps(run);
    this.start = run.train.pretrain_steps;
    for (const a of alarms) this.raised.set(a.kind, a);
  }

  /** Every alarm raised so far, oldest first. */
  alarms(): RunAlarm[] {
    return [...this.raised.values()];
  }

  /** Read one logged record; returns the alarms it raises (usually none). */
  observe(record: MetricRecord): RunAlarm[] {
    if (record.phase !== 'train' || record.step - this.start < this.settle) return [];
    const out: RunAlarm[] = [];
    for (const rule of RULES) {
      if (this.raised.has(rule.kind) || !rule.keys.every((k) => Number.isFinite(record.values[k]))) continue;
      const streak = rule.holds(record.values) ? [...(this.streak.get(rule.kind) ?? []), record.values] : [];
      this.streak.set(rule.kind, streak);
      if (streak.length < WINDOW) continue;
      const alarm: RunAlarm = { kind: rule.kind, step: record.step, ...rule.describe(this.run, record.values), values: pick(record.values, ['reward_margin', 'reward_scale', 'cer', 'response_weight']) };
      this.raised.set(rule.kind, alarm);
      out.push(alarm);
    }
    return out;
  }
}

function pick(v: Record<string, number>, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.filter((k) => v[k] !== undefined).map((k) => [k, v[k]]));
}

/** One line for a terminal or a log: title, diagnosis and the switch to try. */
export function alarmText(alarm: RunAlarm): string {
  return `${alarm.title} (step ${alarm.step}). ${alarm.diagnosis}. Try: ${alarm.remedy}.`;
}
