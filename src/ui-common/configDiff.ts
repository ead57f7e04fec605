/**
 * Diff of resolved run configs (config.yaml): only the keys whose values differ between columns.
 * Each column is a group of configs (the seeds of one variant); a key whose value differs inside
 * a group shows all its values there (`0 | 1 | 2`), so seed-only differences cancel out when every
 * variant ran the same seeds.
 */
export interface DiffColumn {
  label: string;
  configs: readonly unknown[];
}

export interface DiffRow {
  /** Dotted key path, e.g. `objective.kl_coef`. */
  key: string;
  /** One display value per column ('—' where the key is absent). */
  values: string[];
}

export const ABSENT = '—';

/** Flatten nested objects to dotted keys; arrays and scalars are leaves (shown as JSON). */
export function flattenConfig(config: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const entries = Object.entries(value);
      if (entries.length === 0 && path) out.set(path, '{}');
      for (const [k, v] of entries) visit(v, path ? `${path}.${k}` : k);
    } else if (path) {
      out.set(path, typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined');
    }
  };
  visit(config, prefix);
  return out;
}

export function diffConfigs(columns: readonly DiffColumn[], ignore: readonly string[] = []): DiffRow[] {
  const flat = columns.map((c) => c.configs.map((cfg) => flattenConfig(cfg)));
  const keys = new Set<string>();
  for (const group of flat) for (const m of group) for (const k of m.keys()) keys.add(k);
  const rows: DiffRow[] = [];
  for (const key of [...keys].sort()) {
    if (ignore.includes(key)) continue;
    const values = flat.map((group) => columnValue(group.map((m) => m.get(key) ?? ABSENT)));
    if (new Set(values).size > 1) rows.push({ key, values });
  }
  return rows;
}

function columnValue(values: string[]): string {
  const distinct = [...new Set(values)];
  return distinct.length === 0 ? ABSENT : distinct.join(' | ');
}
