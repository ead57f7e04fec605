/** Pure parts of the run dashboard: what the header and the final-metric cards say. */
import type { EvalSummary, MetricRecord } from '../src/protocol/events.js';
import type { RunSummary } from '../src/protocol/webview.js';
import { formatDuration, formatNumber } from '../src/ui-common/format.js';
import { DIAGNOSTICS, DIAGNOSTIC_KEYS, LOSS_TERMS, evalRecords, lastValues } from '../src/ui-common/metrics.js';

export interface MetricCard {
  key: string;
  label: string;
  value: string;
  /** The number behind `value` (for tests and sorting). */
  raw: number;
  detail?: string;
}

type Interval = { value: number; n: number; lo: number; hi: number };

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

function intervalCard(key: string, label: string, a: Interval): MetricCard {
  return { key, label, value: pct(a.value), raw: a.value, detail: `95% CI ${pct(a.lo)}–${pct(a.hi)} · n=${a.n}` };
}

/** Cards for the final evaluation (eval.json) and the last value of each loss term. */
export function finalCards(final: EvalSummary | null, records: readonly MetricRecord[]): MetricCard[] {
  const cards: MetricCard[] = [];
  if (final?.reward_acc) cards.push(intervalCard('reward_acc', 'Reward accuracy', final.reward_acc));
  if (final?.gold_acc) cards.push(intervalCard('gold_acc', 'Gold accuracy', final.gold_acc));
  if (typeof final?.best_possible_acc === 'number') cards.push({ key: 'best_possible_acc', label: 'Best possible', value: pct(final.best_possible_acc), raw: final.best_possible_acc, detail: 'under the label noise' });
  const ta = final?.token_attribution;
  const num = (x: number | null | undefined) => (x === null || x === undefined ? '—' : formatNumber(x));
  if (ta && ta.pearson !== null) {
    // Headline: the per-sequence-centred r (a reward is identified only up to a per-sequence shift); older runs lack it.
    const headline = ta.pearson_centred ?? ta.pearson;
    const label = ta.pearson_centred === undefined || ta.pearson_centred === null ? 'Token reward r vs gold' : 'Token reward r vs gold (centred)';
    cards.push({
      key: 'token_r',
      label,
      value: num(headline),
      raw: headline ?? ta.pearson,
      detail: `pooled r ${num(ta.pearson)} · within-sequence Spearman ${num(ta.spearman_within)} · one token late ${num(ta.pearson_centred_late)} · σ calibration ${num(ta.sigma_calibration)} · weighted r ${num(ta.pearson_weighted)} · ${ta.tokens} tokens`,
    });
  }
  if (typeof final?.nll === 'number') cards.push({ key: 'eval_nll', label: 'Eval NLL / token', value: formatNumber(final.nll), raw: final.nll });
  const last = lastValues(records, 'train');
  for (const term of LOSS_TERMS) {
    const v = last[term];
    if (v !== undefined) cards.push({ key: `final_${term}`, label: `Final ${term}`, value: formatNumber(v), raw: v, detail: 'last logged step' });
  }
  for (const key of DIAGNOSTIC_KEYS) {
    const v = last[key];
    if (v !== undefined) cards.push({ key: `final_${key}`, label: DIAGNOSTICS[key].label, value: formatNumber(v), raw: v, detail: `${DIAGNOSTICS[key].meaning}, last logged step` });
  }
  return cards;
}

export function runTitle(run: RunSummary): string {
  return [run.experiment, run.variant, run.seed === null ? undefined : `seed ${run.seed}`].filter(Boolean).join(' / ');
}

/** `running`, `finished`, … or `interrupted` for a killed run. */
export function statusText(run: RunSummary): string {
  return run.interrupted ? 'interrupted' : run.status;
}

export function progressText(run: RunSummary, lastStep: number): string {
  const step = Math.max(run.step, lastStep);
  const parts = [run.totalSteps > 0 ? `step ${step} / ${run.totalSteps}` : `step ${step}`];
  if (run.phase && run.phase !== 'train' && run.status === 'running') parts.push(run.phase);
  if (run.elapsed !== undefined) parts.push(formatDuration(run.elapsed));
  return parts.join(' · ');
}

/** Records to plot: the metric records plus periodic evaluations not already logged as eval metrics. */
export function plottedRecords(records: readonly MetricRecord[], evals: readonly EvalSummary[]): MetricRecord[] {
  const logged = new Set(records.filter((r) => r.phase === 'eval' && 'reward_acc' in r.values).map((r) => r.step));
  return [...records, ...evalRecords(evals.filter((e) => !logged.has(e.step)))].sort((a, b) => a.step - b.step);
}
