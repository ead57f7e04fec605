/**
 * Aggregation for result tables: mean ± std over seeds, best per column, deltas to a baseline.
 * The std is the sample standard deviation (n − 1), undefined for a single value.
 */
export interface MeanStd {
  mean: number;
  std: number | undefined;
  n: number;
}

export function meanStd(values: readonly number[]): MeanStd | undefined {
  const xs = values.filter(Number.isFinite);
  const n = xs.length;
  if (n === 0) return undefined;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { mean, std: undefined, n };
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(variance), n };
}

export type Better = 'higher' | 'lower';

/**
 * Indices of the best cells of one column (ties share the mark). `undefined` cells never win.
 * With no direction (`null`) nothing is marked.
 */
export function bestIndices(column: readonly (number | undefined)[], better: Better | null): number[] {
  if (better === null) return [];
  const finite = column.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (finite.length < 2) return [];
  const best = better === 'higher' ? Math.max(...finite) : Math.min(...finite);
  const tol = 1e-12 * Math.max(1, Math.abs(best));
  return column.flatMap((v, i) => (v !== undefined && Math.abs(v - best) <= tol ? [i] : []));
}

/** Group items by a key, keeping the order in which keys first appear. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
