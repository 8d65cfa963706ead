import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { afterEach, describe, expect, it } from "vitest"
import type { ManualClock } from "../../src/adapters/clock.js"
import { jitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { fileEventLogLayer, logFilePath } from "../../src/eventlog/fileEventLog.js"
import { makeHeapClock } from "../../src/scheduler/heapClock.js"
import { readSchedulerHistoryFile } from "../../src/scheduler/schedulerHistory.js"
import {
  startTriggerScheduling,
  TRIGGER_SCHEDULER_STREAM,
  type TriggerScheduling,
} from "../../src/scheduler/triggerTasks.js"
import { nextTriggerFireMs } from "../../src/triggers/triggerNextFire.js"
import type { TriggerStore } from "../../src/triggers/triggerStore.js"
import { memoryStore, project, T0 } from "../triggers/triggerHarness.js"

const MIN = 60_000
/** Trigger ids start with 80000000: jitterFrac 0.5, so 0.5 * 0.1 * 5 min = 15 s after each 5-minute slot. */
const JITTER_5 = 15_000
const every5 = { cron: "*/5 * * * *", tz: "UTC" }

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function setup(hex = ["80000000", "00000001"]) {
  const made = await memoryStore({ hex })
  const logs = mkdtempSync(join(tmpdir(), "agh-trigger-sched-"))
  let jitter = DEFAULT_CRON_JITTER_CONFIG
  const timers = makeHeapClock(made.clock)
  const start = () =>
    startTriggerScheduling({
      store: made.store,
      eventLog: fileEventLogLayer({ dir: logs }),
      clock: made.clock,
      timers,
      zone: "UTC",
      jitter: () => jitter,
    })
  cleanup.push(async () => {
    await made.store.close()
    timers.clear()
    rmSync(logs, { recursive: true, force: true })
  })
  const history = async () =>
    (await Effect.runPromise(readSchedulerHistoryFile(logFilePath(logs, TRIGGER_SCHEDULER_STREAM)))).rows.map(
      (r) => [r.what, r.task],
    )
  return {
    ...made,
    start: async () => {
      const scheduling = await start()
      cleanup.push(() => scheduling.close())
      return scheduling
    },
    history,
    setJitter: (next: typeof jitter) => {
      jitter = next
    },
  }
}

async function settle(store: TriggerStore, scheduling: TriggerScheduling): Promise<void> {
  // A fire's run changes the store, whose change re-syncs the armory: settle both until quiet.
  for (let i = 0; i < 3; i++) {
    await scheduling.settle()
    await store.settled()
  }
}

/** Moves the clock to `target` one timer at a time, letting each fire be recorded before the next. */
async function runUntil(
  clock: ManualClock,
  store: TriggerStore,
  scheduling: TriggerScheduling,
  target: number,
): Promise<void> {
  await settle(store, scheduling)
  for (;;) {
    const due = clock.nextDue()
    if (due === undefined || due > target) break
    clock.advanceTo(due)
    await settle(store, scheduling)
  }
  clock.advanceTo(target)
  await settle(store, scheduling)
}

const fires = (store: TriggerStore, id: string) =>
  (store.get(id)?.history ?? []).filter((r) => r.reason === "schedule").map((r) => r.started_at - T0)

describe("scheduled triggers on the cron scheduler, on a manual clock", () => {
  it("fires a */5 trigger at its jittered time, once per slot, in its history and the scheduler's", async () => {
    const { store, clock, launcher, start, history } = await setup()
    const t = await store.create({ name: "every5", prompt: "p", project, agent: "builtin", schedule: every5 })
    expect(t.id).toBe("trg_8000000000000001")
    const scheduling = await start()
    await settle(store, scheduling)
    const expected = jitteredNextCronRunMs("*/5 * * * *", T0, "80000000", DEFAULT_CRON_JITTER_CONFIG, "UTC")
    expect(expected).toBe(T0 + 5 * MIN + JITTER_5)
    expect(scheduling.armedFireAt(t.id)).toBe(T0 + 5 * MIN + JITTER_5)
    expect(nextTriggerFireMs(t)).toBe(T0 + 5 * MIN + JITTER_5)

    await runUntil(clock, store, scheduling, T0 + 5 * MIN + JITTER_5 - 1)
    expect(launcher.calls).toHaveLength(0)
    await runUntil(clock, store, scheduling, T0 + 5 * MIN + JITTER_5)
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
    expect(store.get(t.id)?.schedule_from).toBe(T0 + 5 * MIN + JITTER_5)
    expect(scheduling.armedFireAt(t.id)).toBe(T0 + 10 * MIN + JITTER_5)

    await runUntil(clock, store, scheduling, T0 + 30 * MIN)
    expect(fires(store, t.id)).toEqual([5, 10, 15, 20, 25].map((m) => m * MIN + JITTER_5))
    expect(launcher.calls.every((c) => c.reason === "schedule")).toBe(true)
    await scheduling.close()
    const rows = await history()
    expect(rows.filter(([what]) => what === "fired")).toEqual(Array(5).fill(["fired", t.id]))
  })

  it("does not arm paused triggers; pausing disarms, resuming counts from the resume", async () => {
    const { store, clock, launcher, start } = await setup()
    const paused = await store.create({
      name: "paused",
      prompt: "p",
      project,
      agent: "builtin",
      schedule: every5,
      enabled: false,
    })
    const scheduling = await start()
    await settle(store, scheduling)
    expect(scheduling.armed()).toBe(0)
    await runUntil(clock, store, scheduling, T0 + 20 * MIN)
    expect(launcher.calls).toHaveLength(0)

    await store.update(paused.id, { enabled: true })
    await settle(store, scheduling)
    expect(scheduling.armedFireAt(paused.id)).toBe(T0 + 25 * MIN + JITTER_5)
    await store.update(paused.id, { enabled: false })
    await settle(store, scheduling)
    expect(scheduling.armed()).toBe(0)
    await runUntil(clock, store, scheduling, T0 + 60 * MIN)
    expect(launcher.calls).toHaveLength(0)
    expect(store.get(paused.id)?.history).toEqual([])
  })

  it("re-arms when the schedule or its zone changes, and disarms when it is removed or deleted", async () => {
    const { store, clock, start } = await setup()
    const t = await store.create({ name: "t", prompt: "p", project, agent: "builtin", schedule: every5 })
    const scheduling = await start()
    await runUntil(clock, store, scheduling, T0 + 2 * MIN)
    await store.update(t.id, { schedule: { cron: "0 9 * * *", tz: "UTC" } })
    await settle(store, scheduling)
    // Daily, frac 0.5, 10 % of a day capped at 15 min: 9:15.
    expect(scheduling.armedFireAt(t.id)).toBe(T0 + 9 * 60 * MIN + 15 * MIN)
    await store.update(t.id, { schedule: { cron: "0 9 * * *", tz: "Asia/Tokyo" } })
    await settle(store, scheduling)
    // 9:00 in Tokyo is 0:00 UTC: the next one is the next day's.
    expect(scheduling.armedFireAt(t.id)).toBe(T0 + 24 * 60 * MIN + 15 * MIN)

    await store.update(t.id, { schedule: null })
    await settle(store, scheduling)
    expect(scheduling.armed()).toBe(0)
    await store.update(t.id, { schedule: every5 })
    await settle(store, scheduling)
    expect(scheduling.armed()).toBe(1)
    await store.delete(t.id)
    await settle(store, scheduling)
    expect(scheduling.armed()).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it("fires a slot missed while no scheduler ran once, then carries on from that fire", async () => {
    const { store, clock, start, history } = await setup()
    const t = await store.create({ name: "t", prompt: "p", project, agent: "builtin", schedule: every5 })
    clock.jumpTo(T0 + 61 * MIN)
    const scheduling = await start()
    await runUntil(clock, store, scheduling, T0 + 61 * MIN)
    expect(fires(store, t.id)).toEqual([61 * MIN])
    expect(scheduling.armedFireAt(t.id)).toBe(T0 + 65 * MIN + JITTER_5)
    await scheduling.close()
    expect((await history()).filter(([what]) => what === "missed")).toEqual([["missed", t.id]])
  })

  it("never fires a claimed slot again after a restart, even when its run never started", async () => {
    const { store, clock, launcher, start } = await setup()
    const t = await store.create({ name: "t", prompt: "p", project, agent: "builtin", schedule: every5 })
    let scheduling = await start()
    await runUntil(clock, store, scheduling, T0 + 5 * MIN + JITTER_5)
    expect(launcher.calls).toHaveLength(1)
    await scheduling.close()
    scheduling = await start()
    await settle(store, scheduling)
    expect(scheduling.armedFireAt(t.id)).toBe(T0 + 10 * MIN + JITTER_5)

    // A claim whose run was lost (the host died between the claim and the start) still consumed its slot.
    const claim = await store.claimScheduledSlot(t.id, {
      base: T0 + 5 * MIN + JITTER_5,
      firedAt: T0 + 6 * MIN,
      dueAt: T0 + 6 * MIN,
    })
    expect(claim.kind).toBe("claimed")
    expect(
      await store.claimScheduledSlot(t.id, {
        base: T0 + 5 * MIN + JITTER_5,
        firedAt: T0 + 6 * MIN,
        dueAt: T0 + 6 * MIN,
      }),
    ).toEqual({ kind: "alreadyFired", scheduleFrom: T0 + 6 * MIN })
    await scheduling.close()
    scheduling = await start()
    await runUntil(clock, store, scheduling, T0 + 10 * MIN + JITTER_5)
    expect(fires(store, t.id)).toEqual([5 * MIN + JITTER_5, 10 * MIN + JITTER_5])
  })

  it("records a failed start once per slot, keeps the schedule and notes the failure's code", async () => {
    const { store, clock, launcher, start, history } = await setup()
    const t = await store.create({ name: "t", prompt: "p", project, agent: "builtin", schedule: every5 })
    launcher.failWith = Object.assign(new Error("full"), { code: "AGH_MAX_SESSIONS" })
    const scheduling = await start()
    await runUntil(clock, store, scheduling, T0 + 11 * MIN)
    expect(store.get(t.id)?.history.map((r) => [r.status, r.error?.code, r.started_at - T0])).toEqual([
      ["start_failed", "AGH_MAX_SESSIONS", 5 * MIN + JITTER_5],
      ["start_failed", "AGH_MAX_SESSIONS", 10 * MIN + JITTER_5],
    ])
    await scheduling.close()
    expect((await history()).filter(([what]) => what === "failed")).toHaveLength(2)
  })

  it("reschedules every trigger when the jitter configuration changes", async () => {
    const { store, start, setJitter } = await setup()
    const t = await store.create({ name: "t", prompt: "p", project, agent: "builtin", schedule: every5 })
    const scheduling = await start()
    await settle(store, scheduling)
    expect(scheduling.armedFireAt(t.id)).toBe(T0 + 5 * MIN + JITTER_5)
    const next = { ...DEFAULT_CRON_JITTER_CONFIG, recurringFrac: 0.2 }
    setJitter(next)
    scheduling.reconfigure(next)
    await settle(store, scheduling)
    expect(scheduling.armedFireAt(t.id)).toBe(T0 + 5 * MIN + 2 * JITTER_5)
  })

  it("gives new triggers distinct jitter ids, so each has its own machine", async () => {
    const { store, start } = await setup([
      "80000000",
      "00000001",
      "80000000",
      "00000002",
      "90000000",
      "00000003",
    ])
    const a = await store.create({ name: "a", prompt: "p", project, agent: "builtin", schedule: every5 })
    const b = await store.create({ name: "b", prompt: "p", project, agent: "builtin", schedule: every5 })
    expect(a.id).toBe("trg_8000000000000001")
    expect(b.id).toBe("trg_9000000000000003")
    const scheduling = await start()
    await settle(store, scheduling)
    expect(scheduling.armed()).toBe(2)
  })
})
