import { describe, expect, it } from "vitest"
import { LruCache } from "../../src/cron/lruCache.js"

describe("LruCache", () => {
  it("evicts the least recently used entry beyond capacity", () => {
    const c = new LruCache<string, number>(2)
    c.set("a", 1)
    c.set("b", 2)
    expect(c.get("a")).toBe(1) // a is now younger than b
    c.set("c", 3)
    expect(c.size).toBe(2)
    expect(c.get("b")).toBeUndefined()
    expect(c.get("a")).toBe(1)
    expect(c.get("c")).toBe(3)
  })

  it("computes once per key while cached", () => {
    const c = new LruCache<number, number>(4)
    let calls = 0
    const square = (n: number) => {
      calls++
      return n * n
    }
    expect(c.getOrCompute(3, square)).toBe(9)
    expect(c.getOrCompute(3, square)).toBe(9)
    expect(calls).toBe(1)
  })

  it("refuses a capacity below 1", () => {
    expect(() => new LruCache(0)).toThrow("LRU capacity 0 is not ≥ 1")
  })
})
