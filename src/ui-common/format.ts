/** Number formatting shared by the panels (tables, headers, exports). */
import type { MeanStd } from './stats.js';

export type ValueKind = 'percent' | 'number' | 'integer' | 'seconds';

/** Four significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(2);
  if (a >= 1000) return Math.round(v).toString();
  return String(Number(v.toPrecision(4)));
}

/** A value in its kind's unit: percentages are shown ×100 (the column label carries the %). */
export function formatValue(v: number | undefined, kind: ValueKind): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  switch (kind) {
    case 'percent':
      return (v * 100).toFixed(1);
    case 'integer':
      return Math.round(v).toString();
    case 'seconds':
      return v >= 100 ? Math.round(v).toString() : v.toFixed(1);
    case 'number':
      return formatNumber(v);
  }
}

/**
 * `mean ± std`. For plain numbers the std keeps two significant digits and the mean is rounded
 * to the same decimal place (`1.9050 ± 0.0071`); percentages use one decimal.
 */
export function formatMeanStd(m: MeanStd | undefined, kind: ValueKind): string {
  if (!m) return '';
  if (m.std === undefined) return formatValue(m.mean, kind);
  if (kind !== 'number' || m.std === 0 || !Number.isFinite(m.std) || Math.abs(m.mean) >= 1e6) {
    return `${formatValue(m.mean, kind)} ± ${formatValue(m.std, kind === 'integer' ? 'number' : kind)}`;
  }
  const decimals = Math.min(12, Math.max(0, 1 - Math.floor(Math.log10(m.std))));
  return `${m.mean.toFixed(decimals)} ± ${m.std.toFixed(decimals)}`;
}

/** A signed difference, e.g. `+2.1` or `−0.034` (typographic minus). */
export function formatDelta(d: number | undefined, kind: ValueKind): string {
  if (d === undefined || !Number.isFinite(d)) return '';
  const s = formatValue(Math.abs(d), kind === 'integer' ? 'integer' : kind);
  if (Number(s) === 0) return `±${s}`;
  return `${d > 0 ? '+' : '−'}${s}`;
}

/** `1h 02m`, `3m 05s`, `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}
