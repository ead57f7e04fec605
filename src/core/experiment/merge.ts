/**
 * Deep merge of a partial override into a complete config: nested objects merge key by key,
 * everything else (numbers, strings, null, arrays) replaces. Used for defaults ← experiment
 * file and for base ← ablation variant.
 */

export type Plain = Record<string, unknown>;

export function isPlainObject(x: unknown): x is Plain {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A new object; neither argument is modified and the result shares no objects or arrays with them. */
export function deepMerge<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return clone((override === undefined ? base : override) as T);
  const out: Plain = {};
  for (const key of Object.keys(base)) out[key] = key in override ? deepMerge(base[key], override[key]) : clone(base[key]);
  for (const key of Object.keys(override)) if (!(key in base)) out[key] = clone(override[key]);
  return out as T;
}

function clone<T>(x: T): T {
  return x === undefined ? x : structuredClone(x);
}

/** JSON with object keys sorted at every level: equal configs give equal strings. */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_key, value: unknown) =>
    isPlainObject(value) ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])) : value,
  );
}
