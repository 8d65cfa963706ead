import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"

describe("ManualClock", () => {
  it("fires timers in due order, ties in arming order, only when advanced", () => {
    const clock = new ManualClock(1_000)
    const fired: string[] = []
    clock.setTimeout(() => fired.push("b@30"), 30)
    clock.setTimeout(() => fired.push("a@10"), 10)
    clock.setTimeout(() => fired.push("c@30"), 30)
    expect(fired).toEqual([])
    clock.advance(29)
    expect(fired).toEqual(["a@10"])
    expect(clock.now()).toBe(1_029)
    clock.advance(1)
    expect(fired).toEqual(["a@10", "b@30", "c@30"])
    expect(clock.pending).toBe(0)
  })

  it("fires a timer armed by a firing timer when it falls inside the window, at its own due time", () => {
    const clock = new ManualClock(0)
    const seen: number[] = []
    clock.setTimeout(() => {
      seen.push(clock.now())
      clock.setTimeout(() => seen.push(clock.now()), 5)
    }, 10)
    clock.advance(100)
    expect(seen).toEqual([10, 15])
    expect(clock.now()).toBe(100)
  })

  it("does not fire cleared timers", () => {
    const clock = new ManualClock(0)
    let fired = false
    const h = clock.setTimeout(() => {
      fired = true
    }, 10)
    clock.clearTimeout(h)
    clock.advance(20)
    expect(fired).toBe(false)
  })
})
