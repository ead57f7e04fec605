/** Plain-text result tables for the terminal. */
import type { EvalSummary, RunStatus } from '../protocol/events.js';

export interface ResultRow {
  variant: string;
  seed: number;
  kind: string;
  status: RunStatus;
  summary: EvalSummary | null;
}

const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : (v * 100).toFixed(2));

function interval(p: EvalSummary['reward_acc']): string {
  return p ? `${pct(p.value)} [${pct(p.lo)}, ${pct(p.hi)}]` : '—';
}

/** A correlation with two decimals and a real minus sign; — when absent or undefined. */
export function formatR(r: number | null | undefined): string {
  return r === null || r === undefined ? '—' : r.toFixed(2).replace('-', '−');
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One row per run: reward accuracy (%, 95% Wilson interval, n) beside the best possible accuracy. */
export function resultsTable(rows: ResultRow[]): string {
  const header = ['variant', 'objective', 'seed', 'status', 'reward acc % [95% CI]', 'n', 'gold acc %', 'best possible %', 'token r vs gold', 'centred', 'σ calib.'];
  return formatTable(
    header,
    rows.map((r) => [
      r.variant || 'base',
      r.kind,
      String(r.seed),
      r.status,
      interval(r.summary?.reward_acc),
      String(r.summary?.reward_acc?.n ?? '—'),
      pct(r.summary?.gold_acc?.value),
      pct(r.summary?.best_possible_acc),
      formatR(r.summary?.token_attribution?.pearson),
      formatR(r.summary?.token_attribution?.pearson_centred),
      formatR(r.summary?.token_attribution?.sigma_calibration),
    ]),
  );
}
