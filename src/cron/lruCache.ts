/**
 * A bounded least-recently-used map. Parsing a cron expression costs ~100 µs and a zone's transition table
 * ~1 ms, so both are computed once and kept — but task ids and expressions come from users, so the caches
 * must not grow without bound.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>()

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`LRU capacity ${capacity} is not ≥ 1`)
  }

  get size(): number {
    return this.entries.size
  }

  /** The cached value, refreshed as most recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key)
    if (value === undefined) return undefined
    // Map iteration order is insertion order: re-inserting moves the key to the young end.
    this.entries.delete(key)
    this.entries.set(key, value)
    return value
  }

  set(key: K, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
  }

  /** Cached value for `key`, computing and caching it on a miss. */
  getOrCompute(key: K, compute: (key: K) => V): V {
    const hit = this.get(key)
    if (hit !== undefined) return hit
    const value = compute(key)
    this.set(key, value)
    return value
  }
}
