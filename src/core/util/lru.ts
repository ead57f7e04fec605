/**
 * A small least-recently-used map: reads refresh an entry, inserts beyond `capacity` evict the
 * oldest, and `onEvict` releases what an evicted (or cleared) value holds, e.g. a loaded model.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(
    readonly capacity: number,
    private readonly onEvict: (value: V, key: K) => void = () => {},
  ) {
    if (!(capacity >= 1)) throw new RangeError('LruCache capacity must be at least 1');
  }

  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const value = this.map.get(key) as V;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const [oldKey, oldValue] = this.map.entries().next().value as [K, V];
      this.map.delete(oldKey);
      this.onEvict(oldValue, oldKey);
    }
  }

  /** Forget an entry without evicting it (its owner keeps it). */
  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    const entries = [...this.map.entries()];
    this.map.clear();
    for (const [k, v] of entries) this.onEvict(v, k);
  }

  get size(): number {
    return this.map.size;
  }
}
