import { describe, expect, it } from "vitest"
import {
  contextDigest,
  contextDigestValue,
  digestHex,
  makeContextDigester,
  parseDigest,
  sameJson,
} from "../../src/machines/stateDigest.js"

describe("contextDigest", () => {
  it("is 8 hex digits and does not depend on key order", () => {
    const a = contextDigest({ x: 1, y: { p: "q", r: [1, 2] }, z: null })
    expect(a).toMatch(/^[0-9a-f]{8}$/)
    expect(contextDigest({ z: null, y: { r: [1, 2], p: "q" }, x: 1 })).toBe(a)
  })

  it("changes with any value, with swapped values, with array order and with types", () => {
    const base = contextDigest({ a: 1, b: 2, list: ["x", "y"] })
    const variants = [
      { a: 1, b: 3, list: ["x", "y"] },
      { a: 2, b: 1, list: ["x", "y"] },
      { a: 1, b: 2, list: ["y", "x"] },
      { a: 1, b: 2, list: ["x", "y", null] },
      { a: "1", b: 2, list: ["x", "y"] },
      { a: 1, b: 2, list: ["x", "y"], c: false },
    ]
    for (const v of variants) expect(contextDigest(v)).not.toBe(base)
  })

  it("treats keys holding undefined as absent and -0 as 0, as a msgpack round trip would", () => {
    expect(contextDigest({ a: 1, b: undefined })).toBe(contextDigest({ a: 1 }))
    expect(contextDigest({ n: -0 })).toBe(contextDigest({ n: 0 }))
    expect(contextDigest({ a: null })).not.toBe(contextDigest({}))
  })

  it("is stable across runs (the value other tools must reproduce)", () => {
    // Test vectors for docs/machines.md: a change here breaks every log written before it.
    expect(contextDigest({})).toBe("d9aaf7d3")
    expect(contextDigest([])).toBe("c5745b98")
    expect(contextDigest({ count: 1, state: "idle" })).toBe("456c9549")
    expect(contextDigest({ a: [1, "two", null, true], b: { c: 2.5 } })).toBe("13e0ab32")
  })

  it("round-trips through its hex form", () => {
    for (const v of [{}, { a: 1 }, [1, "x"], "s", 3.5]) {
      const n = contextDigestValue(v)
      expect(parseDigest(digestHex(n))).toBe(n)
    }
    expect(parseDigest("xyz")).toBeNaN()
    expect(parseDigest("0000000g")).toBeNaN()
  })
})

describe("makeContextDigester", () => {
  it("gives the same digest as contextDigest for a sequence of contexts sharing sub-objects", () => {
    const digest = makeContextDigester()
    const shared = { recent: [{ id: "r1" }, { id: "r2" }] }
    let context: Record<string, unknown> = { n: 0, perms: shared, title: "t", gone: undefined }
    for (let i = 0; i < 20; i++) {
      context =
        i % 3 === 0
          ? { ...context, n: i }
          : i % 3 === 1
            ? { ...context, perms: { ...shared, n: i } }
            : { ...context, extra: i }
      expect(digestHex(digest(context))).toBe(contextDigest(context))
    }
    expect(digestHex(digest({ other: 1 }))).toBe(contextDigest({ other: 1 }))
  })
})

describe("sameJson", () => {
  it("compares state values deeply", () => {
    expect(sameJson({ running: "idle" }, { running: "idle" })).toBe(true)
    expect(sameJson({ running: "idle" }, { running: "busy" })).toBe(false)
    expect(sameJson("completed", { completed: {} })).toBe(false)
    expect(sameJson({ a: { b: "c" }, d: "e" }, { d: "e", a: { b: "c" } })).toBe(true)
    expect(sameJson([1, 2], [1, 2, 3])).toBe(false)
  })
})
