import { describe, expect, it } from "vitest"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { CRON_TASK_EVENT } from "../../src/machines/cronTaskTypes.js"
import { type PlanNextFireInput, planNextFire } from "../../src/scheduler/planNextFire.js"

const MIN = 60_000
const DAY = 24 * 60 * MIN
const T0 = Date.parse("2026-03-01T00:00:00Z")
const jitter = DEFAULT_CRON_JITTER_CONFIG

type Overrides = Partial<Omit<PlanNextFireInput, "params">> & {
  params?: Partial<PlanNextFireInput["params"]>
}

function plan(overrides: Overrides = {}) {
  const { params, ...rest } = overrides
  return planNextFire({
    params: { taskId: "80000000", cron: "*/10 * * * *", recurring: true, fromMs: T0, jitter, ...params },
    now: T0,
    zone: "UTC",
    createdAt: T0,
    permanent: false,
    justFired: false,
    ...rest,
  })
}

describe("planNextFire", () => {
  it("schedules the next jittered time when it lies ahead (or is now)", () => {
    expect(plan()).toEqual({ type: CRON_TASK_EVENT.scheduled, at: T0, fireAt: T0 + 10 * MIN + 30_000 })
    expect(plan({ now: T0 + 10 * MIN + 30_000 })).toMatchObject({
      type: CRON_TASK_EVENT.scheduled,
      fireAt: T0 + 10 * MIN + 30_000,
    })
  })

  it("reports a time that passed while no scheduler ran as missed (one late fire)", () => {
    expect(plan({ now: T0 + DAY })).toEqual({
      type: CRON_TASK_EVENT.missed,
      at: T0 + DAY,
      fireAt: T0 + 10 * MIN + 30_000,
    })
  })

  it("after a late fire, skips the overdue backlog in one event instead of firing again", () => {
    const now = T0 + 65 * MIN
    expect(plan({ now, justFired: true })).toEqual({
      type: CRON_TASK_EVENT.skipped,
      at: now,
      fireAt: T0 + 60 * MIN + 30_000,
      reason:
        "6 occurrence(s) from 2026-03-01T00:10:30.000Z to 2026-03-01T01:00:30.000Z fell due while the host was " +
        "suspended or busy; the late fire at 2026-03-01T01:05:00.000Z stood for them",
    })
  })

  it("leaves expiry to the machine: a time at or after it is scheduled, even in the past", () => {
    const createdAt = T0 - 7 * DAY + 5 * MIN
    expect(plan({ createdAt, now: T0 + DAY })).toEqual({
      type: CRON_TASK_EVENT.scheduled,
      at: T0 + DAY,
      fireAt: T0 + 10 * MIN + 30_000,
    })
    expect(plan({ createdAt, permanent: true, now: T0 + DAY })).toMatchObject({
      type: CRON_TASK_EVENT.missed,
    })
    // Due before expiry, missed during downtime that outlasted it: still fires once.
    expect(plan({ createdAt: T0 - 7 * DAY + 15 * MIN, now: T0 + DAY })).toMatchObject({
      type: CRON_TASK_EVENT.missed,
    })
  })

  it("one-shot: jitters early on round minutes; a recorded lastFiredAt means it fired already", () => {
    const params = { cron: "30 14 * * *", recurring: false }
    expect(plan({ params })).toMatchObject({
      type: CRON_TASK_EVENT.scheduled,
      fireAt: T0 + 14.5 * 60 * MIN - 45_000,
    })
    expect(plan({ params, lastFiredAt: T0 - MIN })).toEqual({
      type: CRON_TASK_EVENT.skipped,
      at: T0,
      fireAt: T0 - MIN,
      reason: "a one-shot task fires once and this one fired at 2026-02-28T23:59:00.000Z",
    })
  })

  it("never again → scheduled null; a bad expression → invalid with its code", () => {
    expect(plan({ params: { cron: "0 0 30 2 *" } })).toEqual({
      type: CRON_TASK_EVENT.scheduled,
      at: T0,
      fireAt: null,
    })
    expect(plan({ params: { cron: "5/15 * * * *" } })).toMatchObject({
      type: CRON_TASK_EVENT.invalid,
      message: expect.stringMatching(
        /^AGH_CRON_INVALID: invalid cron expression "5\/15 \* \* \* \*": minute field/,
      ),
    })
  })
})
