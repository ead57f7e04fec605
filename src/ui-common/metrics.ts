/**
 * Metric records → chart series: deduplication of records that arrive twice (live event and
 * metrics.jsonl tail), grouping of keys into charts, downsampling and mean curves.
 */
import type { EvalSummary, MetricRecord, Phase } from '../protocol/events.js';

export interface Point {
  x: number;
  y: number;
}

/**
 * Loss terms in the order they are drawn (spec §2, §6 objectives; `lm` is the warm-start
 * language-model loss); other keys ending in `_loss` follow.
 */
export const LOSS_TERMS = ['loss', 'nll', 'neg', 'kl', 'td', 'cer', 'bt', 'pt', 'dpo', 'sft', 'lm'] as const;
export const ACCURACY_KEYS = ['reward_acc', 'gold_acc'] as const;
/**
 * Logged beside the loss terms, not part of the loss (objectives/common.ts): the mean margin
 * R(y⁺) − R(y⁻) that CER and the accuracy read, the mean |R(y)|, and Σ w_t over the response
 * positions. Margin and scale both ≈ 0: R(y) is not learning (core/train/alarms.ts); response
 * weight ≈ 0: the Eq. 11 weights have left the response and CER has nothing to move.
 */
export const DIAGNOSTICS = {
  reward_margin: { label: 'Reward margin', meaning: 'mean R(y⁺) − R(y⁻)' },
  reward_scale: { label: 'Reward scale', meaning: 'mean |R(y)| over the batch', hint: '≈ 0 with a margin ≈ 0 means the sequence reward is not learning' },
  response_weight: { label: 'Response weight', meaning: 'Σ w over the response', hint: '≈ 0 means the weights moved onto the prompt and CER has nothing to move' },
} as const satisfies Record<string, { label: string; meaning: string; hint?: string }>;
export type DiagnosticKey = keyof typeof DIAGNOSTICS;
export const DIAGNOSTIC_KEYS = Object.keys(DIAGNOSTICS) as DiagnosticKey[];
const PHASE_ORDER: Record<Phase, number> = { pretrain: 0, train: 1, eval: 2 };

export function isLossKey(key: string): boolean {
  return (LOSS_TERMS as readonly string[]).includes(key) || key.endsWith('_loss');
}

export function isAccuracyKey(key: string): boolean {
  return (ACCURACY_KEYS as readonly string[]).includes(key);
}

/**
 * All records of one run, one per (phase, step). A record seen again with other values
 * replaces the old one (a resumed run re-logs the steps after its checkpoint).
 */
export class MetricStore {
  private readonly byKey = new Map<string, MetricRecord>();
  private sorted: MetricRecord[] | undefined;

  constructor(records: Iterable<MetricRecord> = []) {
    for (const r of records) this.upsert(r);
  }

  /** Add or replace a record; false when the same record was already there. */
  upsert(record: MetricRecord): boolean {
    const key = `${record.phase}:${record.step}`;
    const old = this.byKey.get(key);
    if (old && sameValues(old.values, record.values)) return false;
    this.byKey.set(key, record);
    this.sorted = undefined;
    return true;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Records ordered by step, then phase. */
  all(): MetricRecord[] {
    this.sorted ??= [...this.byKey.values()].sort((a, b) => a.step - b.step || PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase]);
    return this.sorted;
  }
}

function sameValues(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.is(a[k], b[k]));
}

/** One curve: a key of the records of one phase. */
export interface SeriesRef {
  phase: Phase;
  key: string;
}

export function seriesName(ref: SeriesRef): string {
  return ref.phase === 'train' ? ref.key : `${ref.phase} ${ref.key}`;
}

export function seriesPoints(records: readonly MetricRecord[], ref: SeriesRef): Point[] {
  const out: Point[] = [];
  for (const r of records) {
    const y = r.values[ref.key];
    if (r.phase === ref.phase && typeof y === 'number' && Number.isFinite(y)) out.push({ x: r.step, y });
  }
  return out;
}

/** Every (phase, key) present in the records, train first. */
export function allSeries(records: readonly MetricRecord[]): SeriesRef[] {
  const seen = new Map<string, SeriesRef>();
  for (const r of records) for (const key of Object.keys(r.values)) seen.set(`${r.phase}:${key}`, { phase: r.phase, key });
  return [...seen.values()].sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || keyOrder(a.key) - keyOrder(b.key) || a.key.localeCompare(b.key));
}

function keyOrder(key: string): number {
  const i = (LOSS_TERMS as readonly string[]).indexOf(key);
  return i >= 0 ? i : LOSS_TERMS.length;
}

/** The charts of the run dashboard. */
export interface ChartGroup {
  id: string;
  title: string;
  series: SeriesRef[];
  /** Log scale makes sense (positive-valued losses, not accuracies in [0, 1]). */
  allowLog: boolean;
  /** Fixed y range, e.g. [0, 1] for accuracies. */
  yRange?: [number, number];
}

/**
 * Loss terms overlaid in one chart, accuracies (train and eval) in another, then the
 * diagnostics, then every other key (lr, tokens_per_s, …), each in a chart of its own.
 */
export function dashboardGroups(records: readonly MetricRecord[]): ChartGroup[] {
  const refs = allSeries(records);
  const losses = refs.filter((r) => isLossKey(r.key) && r.phase !== 'eval');
  const accuracy = refs.filter((r) => isAccuracyKey(r.key));
  const ppo = PPO_GROUPS.map((g) => ({ ...g, series: refs.filter((r) => g.keys.includes(r.key)) })).filter((g) => g.series.length > 0);
  const grouped = new Set([...losses, ...accuracy, ...ppo.flatMap((g) => g.series)]);
  const diagnostic = (r: SeriesRef): number => (DIAGNOSTIC_KEYS as readonly string[]).indexOf(r.key);
  const others = refs
    .filter((r) => !grouped.has(r))
    .sort((a, b) => (diagnostic(a) < 0 ? 1 : 0) - (diagnostic(b) < 0 ? 1 : 0) || diagnostic(a) - diagnostic(b));
  const base: ChartGroup[] = [
    { id: 'losses', title: 'Loss terms', series: losses, allowLog: true },
    { id: 'accuracy', title: 'Reward accuracy', series: accuracy, allowLog: false, yRange: [0, 1] },
  ];
  const groups = base.filter((g) => ppo.length === 0 || g.series.length > 0); // a PPO run has neither
  for (const { keys: _keys, ...g } of ppo) groups.push(g);
  for (const r of others) groups.push({ id: `metric-${r.phase}-${r.key}`, title: seriesName(r), series: [r], allowLog: true });
  return groups;
}

/**
 * The charts of a PPO run (core/rl/trainPpo.ts logs TRL's metric names): the rewards together,
 * the two losses together, the two clip fractions together; its other keys (`objective/kl`,
 * `objective/entropy`, …) get a chart each.
 */
const PPO_GROUPS: readonly (Omit<ChartGroup, 'series'> & { keys: readonly string[] })[] = [
  { id: 'ppo-rewards', title: 'Rewards', keys: ['objective/scores', 'objective/rlhf_reward', 'objective/non_score_reward', 'objective/gold'], allowLog: false },
  { id: 'ppo-losses', title: 'PPO losses', keys: ['loss/policy_avg', 'loss/value_avg'], allowLog: false },
  { id: 'ppo-clipfrac', title: 'Clip fractions', keys: ['policy/clipfrac_avg', 'val/clipfrac_avg'], allowLog: false, yRange: [0, 1] },
];

/** Periodic evaluations as metric records of phase `eval` (reward_acc, gold_acc, nll). */
export function evalRecords(evals: readonly EvalSummary[]): MetricRecord[] {
  return evals.map((e) => {
    const values: Record<string, number> = {};
    if (e.reward_acc) values.reward_acc = e.reward_acc.value;
    if (e.gold_acc) values.gold_acc = e.gold_acc.value;
    if (typeof e.nll === 'number') values.nll = e.nll;
    return { step: e.step, phase: 'eval' as const, time: 0, values };
  });
}

/** The last finite value of every key of a phase. */
export function lastValues(records: readonly MetricRecord[], phase: Phase = 'train'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    if (r.phase !== phase) continue;
    for (const [k, v] of Object.entries(r.values)) if (Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** At most `max` records per phase: evenly spaced, always keeping the first and the last. */
export function downsampleRecords(records: readonly MetricRecord[], max: number): MetricRecord[] {
  const byPhase = new Map<Phase, MetricRecord[]>();
  for (const r of records) byPhase.set(r.phase, [...(byPhase.get(r.phase) ?? []), r]);
  const out: MetricRecord[] = [];
  for (const rs of byPhase.values()) out.push(...evenlySpaced(rs, max));
  return out.sort((a, b) => a.step - b.step || PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase]);
}

export function evenlySpaced<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return items.slice();
  if (max < 2) return max === 1 ? [items[items.length - 1]] : [];
  const out: T[] = [];
  const stride = (items.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(items[Math.round(i * stride)]);
  return out;
}

/** Mean of several curves at every x where at least one of them has a point. */
export function meanCurve(curves: readonly (readonly Point[])[]): Point[] {
  const sums = new Map<number, { s: number; n: number }>();
  for (const c of curves) {
    for (const p of c) {
      const a = sums.get(p.x) ?? { s: 0, n: 0 };
      a.s += p.y;
      a.n += 1;
      sums.set(p.x, a);
    }
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([x, { s, n }]) => ({ x, y: s / n }));
}
