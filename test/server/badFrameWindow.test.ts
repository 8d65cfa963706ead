import { describe, expect, it } from "vitest"
import { BadFrameWindow } from "../../src/server/badFrameWindow.js"

describe("BadFrameWindow", () => {
  it("trips on more than max bad frames inside the window and forgives old ones", () => {
    const w = new BadFrameWindow(3, 1_000)
    expect([w.record(0), w.record(100), w.record(200)]).toEqual([false, false, false])
    expect(w.record(999)).toBe(true)
    const v = new BadFrameWindow(3, 1_000)
    for (const at of [0, 100, 200]) v.record(at)
    // The frame at 0 left the window at 1000.
    expect(v.record(1_000)).toBe(false)
    expect(v.count).toBe(3)
  })

  it("keeps at most max + 1 timestamps", () => {
    const w = new BadFrameWindow(2, 10_000)
    for (let i = 0; i < 100; i++) w.record(i)
    expect(w.count).toBe(3)
  })
})
