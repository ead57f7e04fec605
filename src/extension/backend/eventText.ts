/** Protocol events as short human lines for the task terminal. Pure. */
import type { BackendEvent, MetricRecord } from '../../protocol/events.js';
import { alarmText } from '../../core/train/alarms.js';

/** Loss terms first, in the spec's order, then the rest; at most `max` values. */
const METRIC_ORDER = ['loss', 'lm', 'nll', 'neg', 'kl', 'td', 'cer', 'reward_acc', 'gold_acc'];

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e4 || a < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/** `  train step 20/—  loss 1.234  kl 0.01  …`. */
export function metricsLine(record: MetricRecord, max = 6): string {
  const keys = Object.keys(record.values).sort((a, b) => rank(a) - rank(b)).slice(0, max);
  return `  ${record.phase} step ${record.step}  ${keys.map((k) => `${k} ${formatValue(record.values[k] as number)}`).join('  ')}`;
}

function rank(key: string): number {
  const i = METRIC_ORDER.indexOf(key);
  return i < 0 ? METRIC_ORDER.length : i;
}

function cellName(runDir: string): string {
  const parts = runDir.split(/[\\/]/).filter(Boolean);
  return parts.slice(-2).join('/');
}

export function eventLine(e: BackendEvent): string | null {
  switch (e.type) {
    case 'grid_start':
      return `AVA Lab · ${e.experiment}: ${e.cells.length} run(s) → ${e.grid_dir}`;
    case 'run_start':
      return `▶ ${cellName(e.run_dir)}: ${e.total_steps} steps${e.resumed_from !== undefined ? ` (resuming at step ${e.resumed_from})` : ''}`;
    case 'metrics':
      return metricsLine(e.record);
    case 'eval': {
      const acc = e.summary.reward_acc;
      return acc ? `  eval @ step ${e.summary.step}: reward accuracy ${acc.value.toFixed(3)} [${acc.lo.toFixed(3)}, ${acc.hi.toFixed(3)}] (n = ${acc.n})` : null;
    }
    case 'alarm':
      return `⚠ ${cellName(e.run_dir)}: ${alarmText(e.alarm)}`;
    case 'run_end':
      return `■ ${cellName(e.run_dir)} ${e.status}${e.error ? `: ${e.error}` : ''}`;
    case 'grid_end':
      return `AVA Lab · grid ${e.status}`;
    case 'error':
      return `✗ ${e.message}${e.diagnostics?.length ? '\n' + e.diagnostics.map((d) => `  ${d.file}:${d.line}:${d.column}: ${d.key}: ${d.message}`).join('\n') : ''}`;
    default:
      return null;
  }
}

/** A pseudoterminal wants CRLF line ends. */
export function toTerminalText(lines: string[]): string {
  return lines.map((l) => l.replace(/\r?\n/g, '\r\n') + '\r\n').join('');
}
