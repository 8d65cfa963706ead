import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { MAX_BASE_TIMER_MS, makeHeapClock } from "../../src/scheduler/heapClock.js"

describe("makeHeapClock", () => {
  it("keeps one base timer for any number of pending timers, re-armed as the head changes", () => {
    const base = new ManualClock(1_000)
    const clock = makeHeapClock(base)
    const fired: number[] = []
    for (let i = 0; i < 1_000; i++) clock.setTimeout(() => fired.push(i), 10_000 - i)
    expect([clock.pending(), base.pending, clock.baseTimers()]).toEqual([1_000, 1, 1])
    expect(base.nextDue()).toBe(1_000 + 9_001)
    const early = clock.setTimeout(() => fired.push(-1), 5)
    expect(base.nextDue()).toBe(1_005)
    clock.clearTimeout(early)
    expect(base.nextDue()).toBe(10_001)
    base.advance(9_500)
    expect(fired).toEqual(Array.from({ length: 500 }, (_, k) => 999 - k))
    expect(clock.pending()).toBe(500)
    base.advance(10_000)
    expect(fired).toHaveLength(1_000)
    expect([clock.pending(), base.pending, clock.baseTimers()]).toEqual([0, 0, 0])
  })

  it("fires like the clock below: due order, ties in arming order, chained timers in the same advance", () => {
    const base = new ManualClock(0)
    const clock = makeHeapClock(base)
    const log: string[] = []
    clock.setTimeout(() => log.push(`b@${base.now()}`), 20)
    clock.setTimeout(() => {
      log.push(`a@${base.now()}`)
      clock.setTimeout(() => log.push(`a2@${base.now()}`), 5)
      clock.setTimeout(() => log.push(`a0@${base.now()}`), 0)
    }, 10)
    clock.setTimeout(() => log.push(`c@${base.now()}`), 20)
    base.advance(30)
    expect(log).toEqual(["a@10", "a0@10", "a2@15", "b@20", "c@20"])
  })

  it("never arms the base timer further than Node can wait, and re-arms when it wakes early", () => {
    const base = new ManualClock(0)
    const clock = makeHeapClock(base)
    let fired = false
    const month = 31 * 24 * 3_600_000
    clock.setTimeout(() => {
      fired = true
    }, month)
    expect(base.nextDue()).toBe(MAX_BASE_TIMER_MS)
    base.advance(MAX_BASE_TIMER_MS)
    expect(fired).toBe(false)
    expect(base.nextDue()).toBe(month)
    base.advanceTo(month)
    expect(fired).toBe(true)
  })

  it("runs overdue timers at once after a jump (a suspended process), and keeps going when one throws", () => {
    const base = new ManualClock(0)
    const errors: unknown[] = []
    const clock = makeHeapClock(base, { onError: (e) => errors.push(e) })
    const log: number[] = []
    clock.setTimeout(() => {
      throw new Error("boom")
    }, 10)
    clock.setTimeout(() => log.push(base.now()), 20)
    base.jumpTo(1_000)
    base.advance(0)
    expect(log).toEqual([1_000])
    expect(errors).toEqual([new Error("boom")])
  })

  it("clear drops everything; the clock keeps working afterwards", () => {
    const base = new ManualClock(0)
    const clock = makeHeapClock(base)
    let n = 0
    clock.setTimeout(() => n++, 10)
    clock.clear()
    expect([clock.pending(), base.pending]).toEqual([0, 0])
    base.advance(100)
    clock.setTimeout(() => n++, 10)
    base.advance(10)
    expect(n).toBe(1)
    expect(clock.now()).toBe(110)
  })
})
