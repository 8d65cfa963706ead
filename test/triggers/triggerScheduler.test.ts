import { afterEach, describe, expect, it } from "vitest"
import type { ManualClock } from "../../src/adapters/clock.js"
import { jitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { nextTriggerFireMs } from "../../src/triggers/triggerNextFire.js"
import { TriggerScheduler } from "../../src/triggers/triggerScheduler.js"
import type { TriggerStore } from "../../src/triggers/triggerStore.js"
import { memoryStore, project, T0 } from "./triggerHarness.js"

const MIN = 60_000
/** Trigger ids start with 80000000: jitterFrac 0.5, so 0.5 * 0.1 * 5 min = 15 s after each 5-minute slot. */
const JITTER_5 = 15_000

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c()
})

async function setup(hex = ["80000000", "00000001"]) {
  const made = await memoryStore({ hex })
  const scheduler = new TriggerScheduler({ store: made.store, clock: made.clock })
  cleanup.push(async () => {
    scheduler.stop()
    await scheduler.whenIdle()
    await made.store.close()
  })
  return { ...made, scheduler }
}

/** Moves the clock to `target` one timer at a time, letting each fire be recorded before the next. */
async function runUntil(clock: ManualClock, scheduler: TriggerScheduler, target: number): Promise<void> {
  for (;;) {
    const due = clock.nextDue()
    if (due === undefined || due > target) break
    clock.advanceTo(due)
    await scheduler.whenIdle()
  }
  clock.advanceTo(target)
  await scheduler.whenIdle()
}

const fires = (store: TriggerStore, id: string) =>
  (store.get(id)?.history ?? []).filter((r) => r.reason === "schedule").map((r) => r.started_at - T0)

const every5 = { cron: "*/5 * * * *", tz: "UTC" }

describe("TriggerScheduler on a manual clock", () => {
  it("fires a */5 trigger at its jittered time, once per slot, and records each fire in its history", async () => {
    const { store, clock, scheduler, launcher } = await setup()
    const t = await store.create({ name: "every5", prompt: "p", project, agent: "builtin", schedule: every5 })
    expect(t.id).toBe("trg_8000000000000001")
    scheduler.start()
    const expected = jitteredNextCronRunMs("*/5 * * * *", T0, "80000000", DEFAULT_CRON_JITTER_CONFIG, "UTC")
    expect(expected).toBe(T0 + 5 * MIN + JITTER_5)
    expect(scheduler.armed()).toEqual(new Map([[t.id, T0 + 5 * MIN + JITTER_5]]))

    await runUntil(clock, scheduler, T0 + 5 * MIN + JITTER_5 - 1)
    expect(launcher.calls).toHaveLength(0)
    await runUntil(clock, scheduler, T0 + 5 * MIN + JITTER_5)
    expect(launcher.calls).toHaveLength(1)
    expect(store.get(t.id)?.history).toEqual([
      {
        run_id: expect.stringMatching(/^run_/),
        session_id: "s_000000000000000000000001",
        started_at: T0 + 5 * MIN + JITTER_5,
        reason: "schedule",
        status: "running",
      },
    ])
    expect(scheduler.armed().get(t.id)).toBe(T0 + 10 * MIN + JITTER_5)

    await runUntil(clock, scheduler, T0 + 30 * MIN)
    expect(fires(store, t.id)).toEqual([5, 10, 15, 20, 25].map((m) => m * MIN + JITTER_5))
    expect(launcher.calls.every((c) => c.reason === "schedule")).toBe(true)
  })

  it("does not arm or fire paused triggers; pausing disarms, resuming counts from the resume", async () => {
    const { store, clock, scheduler, launcher } = await setup()
    const paused = await store.create({
      name: "paused",
      prompt: "p",
      project,
      agent: "builtin",
      schedule: every5,
      enabled: false,
    })
    scheduler.start()
    expect(scheduler.armed().size).toBe(0)
    await runUntil(clock, scheduler, T0 + 20 * MIN)
    expect(launcher.calls).toHaveLength(0)

    await store.update(paused.id, { enabled: true })
    expect(scheduler.armed().get(paused.id)).toBe(T0 + 25 * MIN + JITTER_5)
    await store.update(paused.id, { enabled: false })
    expect(scheduler.armed().size).toBe(0)
    expect(clock.pending).toBe(0)
    await runUntil(clock, scheduler, T0 + 60 * MIN)
    expect(launcher.calls).toHaveLength(0)
    expect(store.get(paused.id)?.history).toEqual([])
  })

  it("re-arms when the schedule changes, and disarms when it is removed or the trigger deleted", async () => {
    const { store, clock, scheduler } = await setup()
    const t = await store.create({ name: "t", prompt: "p", project, agent: "builtin", schedule: every5 })
    scheduler.start()
    clock.advanceTo(T0 + 2 * MIN)
    await store.update(t.id, { schedule: { cron: "0 * * * *", tz: "UTC" } })
    // Hourly, frac 0.5: 0.5 * 0.1 * 60 min = 3 min after the hour.
    expect(scheduler.armed().get(t.id)).toBe(T0 + 63 * MIN)
    expect(clock.pending).toBe(1)
    await runUntil(clock, scheduler, T0 + 62 * MIN)
    expect(fires(store, t.id)).toEqual([])
    await runUntil(clock, scheduler, T0 + 63 * MIN)
    expect(fires(store, t.id)).toEqual([63 * MIN])

    await store.update(t.id, { schedule: null })
    expect(scheduler.armed().size).toBe(0)
    await store.update(t.id, { schedule: every5 })
    expect(scheduler.armed().size).toBe(1)
    await store.delete(t.id)
    expect(scheduler.armed().size).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it("fires a slot missed while no scheduler ran once, then carries on from that fire", async () => {
    const { store, clock, scheduler } = await setup()
    const t = await store.create({ name: "t", prompt: "p", project, agent: "builtin", schedule: every5 })
    clock.jumpTo(T0 + 61 * MIN)
    scheduler.start()
    expect(scheduler.armed().get(t.id)).toBe(T0 + 5 * MIN + JITTER_5)
    await runUntil(clock, scheduler, T0 + 61 * MIN)
    expect(fires(store, t.id)).toEqual([61 * MIN])
    expect(scheduler.armed().get(t.id)).toBe(T0 + 65 * MIN + JITTER_5)
  })

  it("records a failed start once per slot and keeps the schedule", async () => {
    const { store, clock, scheduler, launcher } = await setup()
    const t = await store.create({ name: "t", prompt: "p", project, agent: "builtin", schedule: every5 })
    launcher.failWith = Object.assign(new Error("full"), { code: "AGH_MAX_SESSIONS" })
    scheduler.start()
    await runUntil(clock, scheduler, T0 + 11 * MIN)
    expect(store.get(t.id)?.history.map((r) => [r.status, r.error?.code, r.started_at - T0])).toEqual([
      ["start_failed", "AGH_MAX_SESSIONS", 5 * MIN + JITTER_5],
      ["start_failed", "AGH_MAX_SESSIONS", 10 * MIN + JITTER_5],
    ])
  })

  it("uses the trigger id's first 8 hex characters as its jitter id", async () => {
    const { store } = await setup(["00000000", "00000001", "ffffffff", "00000002"])
    const early = await store.create({ name: "e", prompt: "p", project, agent: "builtin", schedule: every5 })
    const late = await store.create({ name: "l", prompt: "p", project, agent: "builtin", schedule: every5 })
    expect(nextTriggerFireMs(early)).toBe(T0 + 5 * MIN)
    // frac ~1: nearly 10 % of the 5-minute interval late.
    expect(nextTriggerFireMs(late)).toBe(T0 + 5 * MIN + 29_999)
    expect(nextTriggerFireMs({ ...late, enabled: false })).toBeNull()
    expect(nextTriggerFireMs({ ...late, schedule: null })).toBeNull()
  })
})
