import { describe, expect, it } from "vitest"
import { makeInflightWork } from "../../src/scheduler/inflightWork.js"

describe("makeInflightWork", () => {
  it("drains work tracked while draining, and counts a rejection as settled", async () => {
    const work = makeInflightWork()
    const order: string[] = []
    let release: () => void = () => {}
    const first = new Promise<void>((resolve) => {
      release = resolve
    }).then(() => {
      order.push("first")
      // Started by the first piece of work, after drain() began waiting.
      work.track(Promise.resolve().then(() => order.push("second")))
    })
    work.track(first)
    work.track(Promise.reject(new Error("reported by its owner")))
    let drained = false
    const draining = work.drain().then(() => {
      drained = true
    })
    await Promise.resolve()
    expect(drained).toBe(false)
    release()
    await draining
    expect(order).toEqual(["first", "second"])
  })
})
