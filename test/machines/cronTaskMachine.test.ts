import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import {
  type CronTaskContext,
  type CronTaskJitterConfig,
  type CronTaskRecord,
  CRON_TASK_EVENT as E,
} from "../../src/machines/cronTaskMachine.js"
import { cronTaskMachineDefinition } from "../../src/machines/machineRegistry.js"
import { runMachine } from "./machineHarness.js"

const MIN = 60_000
const DAY = 24 * 60 * MIN
const CREATED = Date.parse("2026-03-01T10:00:00Z")
const jitter: CronTaskJitterConfig = {
  recurringFrac: 0.1,
  recurringCapMs: 15 * MIN,
  oneShotMaxMs: 90_000,
  oneShotFloorMs: 0,
  oneShotMinuteMod: 30,
  recurringMaxAgeMs: 7 * DAY,
}

function cronTask(task: Partial<CronTaskRecord> = {}, now = CREATED) {
  const h = runMachine(
    cronTaskMachineDefinition,
    {
      task: { id: "0a1b2c3d", cron: "*/5 * * * *", prompt: "check the build", createdAt: CREATED, ...task },
      jitter,
    },
    new ManualClock(now),
  )
  return { ...h, ctx: () => h.snapshot().context as CronTaskContext }
}

describe("cronTaskMachine", () => {
  it("asks for the next fire time from lastFiredAt ?? createdAt on start", () => {
    const fresh = cronTask({ recurring: true })
    expect(fresh.state()).toBe("starting")
    expect(fresh.callsOf("computeNextFire")).toEqual([
      { taskId: "0a1b2c3d", cron: "*/5 * * * *", recurring: true, fromMs: CREATED, jitter },
    ])
    const fired = cronTask({ recurring: true, lastFiredAt: CREATED + 3 * MIN })
    expect(fired.callsOf("computeNextFire")[0]).toMatchObject({ fromMs: CREATED + 3 * MIN })
  })

  it("arms on scheduled and fires at fireAt on the injected clock; a recurring task then reschedules", () => {
    const t = cronTask({ recurring: true, durable: true })
    t.send({ type: E.scheduled, at: CREATED, fireAt: CREATED + 5 * MIN + 1_234 })
    expect(t.state()).toEqual({ running: "armed" })
    t.clock.advance(5 * MIN + 1_233)
    expect(t.callsOf("firePrompt")).toEqual([])
    t.clock.advance(1)
    expect(t.callsOf("firePrompt")).toEqual([
      {
        taskId: "0a1b2c3d",
        prompt: "check the build",
        fireAt: CREATED + 5 * MIN + 1_234,
        missed: false,
        durable: true,
        agentId: null,
      },
    ])
    expect(t.callsOf("saveLastFiredAt")).toEqual([
      { taskId: "0a1b2c3d", lastFiredAt: CREATED + 5 * MIN + 1_234 },
    ])
    expect(t.state()).toEqual({ running: "scheduling" })
    expect(t.callsOf("computeNextFire")[1]).toMatchObject({ fromMs: CREATED + 5 * MIN + 1_234 })
    expect(t.ctx()).toMatchObject({ fires: 1, lastFiredAt: CREATED + 5 * MIN + 1_234, fireAt: null })
  })

  it("completes a one-shot task after it fires and removes it", () => {
    const t = cronTask({ cron: "30 14 * * *" })
    t.send({ type: E.scheduled, at: CREATED, fireAt: CREATED + 10 * MIN })
    t.clock.advance(10 * MIN)
    expect(t.state()).toBe("completed")
    expect(t.callsOf("firePrompt")).toHaveLength(1)
    expect(t.callsOf("removeTask")).toEqual([{ taskId: "0a1b2c3d", reason: "fired" }])
    expect(t.ctx().endReason).toEqual({
      kind: "fired",
      message: "one-shot task fired",
      at: CREATED + 10 * MIN,
    })
  })

  it("fires at once when the scheduled time is already past", () => {
    const t = cronTask({}, CREATED + 2 * MIN)
    t.send({ type: E.scheduled, at: CREATED + 2 * MIN, fireAt: CREATED + MIN })
    t.clock.advance(0)
    expect(t.callsOf("firePrompt")).toHaveLength(1)
  })

  it("completes (and removes the task) when the expression never fires again", () => {
    const t = cronTask({ cron: "0 0 30 2 *", recurring: true })
    t.send({ type: E.scheduled, at: CREATED, fireAt: null })
    expect(t.state()).toBe("completed")
    expect(t.ctx().endReason).toEqual({
      kind: "noNextRun",
      message: 'cron expression "0 0 30 2 *" never fires again',
      at: CREATED,
    })
    expect(t.callsOf("removeTask")).toEqual([{ taskId: "0a1b2c3d", reason: "noNextRun" }])
  })

  it("after downtime fires once for the missed time, records the miss, and schedules from now", () => {
    const now = CREATED + 3 * 60 * MIN
    const t = cronTask({ recurring: true, lastFiredAt: CREATED }, now)
    t.send({ type: E.missed, at: now, fireAt: CREATED + 5 * MIN })
    expect(t.callsOf("firePrompt")).toEqual([
      expect.objectContaining({ fireAt: CREATED + 5 * MIN, missed: true }),
    ])
    expect(t.ctx()).toMatchObject({
      misses: 1,
      fires: 1,
      lastFiredAt: now,
      lastMiss: { fireAt: CREATED + 5 * MIN, at: now },
    })
    expect(t.state()).toEqual({ running: "scheduling" })
    expect(t.callsOf("computeNextFire")[1]).toMatchObject({ fromMs: now })
  })

  it("completes a missed one-shot task after its single late fire", () => {
    const t = cronTask({}, CREATED + DAY)
    t.send({ type: E.missed, at: CREATED + DAY, fireAt: CREATED + MIN })
    expect(t.state()).toBe("completed")
    expect(t.callsOf("removeTask")).toEqual([{ taskId: "0a1b2c3d", reason: "fired" }])
  })

  it("skips an occurrence without firing: recurring reschedules after it, one-shot completes", () => {
    const r = cronTask({ recurring: true })
    r.send({ type: E.scheduled, at: CREATED, fireAt: CREATED + 5 * MIN })
    r.send({
      type: E.skipped,
      at: CREATED + MIN,
      fireAt: CREATED + 5 * MIN,
      reason: "scheduler lock held by another process",
    })
    expect(r.callsOf("firePrompt")).toEqual([])
    expect(r.state()).toEqual({ running: "scheduling" })
    expect(r.ctx()).toMatchObject({ skips: 1, scheduleFromMs: CREATED + 5 * MIN })
    r.clock.advance(10 * MIN)
    expect(r.callsOf("firePrompt")).toEqual([])
    const o = cronTask()
    o.send({ type: E.skipped, at: CREATED + MIN, fireAt: CREATED + 5 * MIN, reason: "session gone" })
    expect(o.state()).toBe("completed")
    expect(o.ctx().endReason?.kind).toBe("skipped")
  })

  it("expires a recurring task recurringMaxAgeMs after creation instead of firing past it", () => {
    const now = CREATED + 7 * DAY - 2 * MIN
    const t = cronTask({ recurring: true, lastFiredAt: now - 3 * MIN }, now)
    t.send({ type: E.scheduled, at: now, fireAt: CREATED + 7 * DAY + 3 * MIN })
    t.clock.advance(2 * MIN - 1)
    expect(t.state()).toEqual({ running: "armed" })
    t.clock.advance(1)
    expect(t.state()).toBe("completed")
    expect(t.callsOf("firePrompt")).toEqual([])
    expect(t.callsOf("removeTask")).toEqual([{ taskId: "0a1b2c3d", reason: "expired" }])
    expect(t.ctx().endReason).toEqual({
      kind: "expired",
      message: `recurring task expired ${7 * DAY} ms after its creation`,
      at: CREATED + 7 * DAY,
    })
  })

  it("never expires a permanent task", () => {
    const now = CREATED + 30 * DAY
    const t = cronTask({ recurring: true, permanent: true }, now)
    t.send({ type: E.scheduled, at: now, fireAt: now + MIN })
    t.clock.advance(MIN)
    expect(t.callsOf("firePrompt")).toHaveLength(1)
    expect(t.state()).toEqual({ running: "scheduling" })
  })

  it("is killed when deleted (its timer with it) and fails on an invalid expression", () => {
    const d = cronTask({ recurring: true })
    d.send({ type: E.scheduled, at: CREATED, fireAt: CREATED + 5 * MIN })
    d.send({ type: E.deleted, at: CREATED + MIN })
    expect(d.state()).toBe("killed")
    expect(d.clock.pending).toBe(0)
    expect(d.ctx().endReason).toEqual({ kind: "deleted", message: "task deleted", at: CREATED + MIN })
    const i = cronTask({ cron: "5/15 * * * *" })
    i.send({ type: E.invalid, at: CREATED, message: 'AGH_CRON_INVALID: minute field "5/15"' })
    expect(i.state()).toBe("failed")
    expect(i.ctx().endReason?.message).toBe('AGH_CRON_INVALID: minute field "5/15"')
  })

  it("recomputes the fire time with the new jitter when the configuration changes", () => {
    const t = cronTask({ recurring: true })
    t.send({ type: E.scheduled, at: CREATED, fireAt: CREATED + 5 * MIN })
    const changed = { ...jitter, recurringFrac: 0.5 }
    t.send({ type: E.configChanged, at: CREATED + MIN, jitter: changed })
    expect(t.state()).toEqual({ running: "scheduling" })
    expect(t.clock.pending).toBe(0)
    expect(t.callsOf("computeNextFire")[1]).toMatchObject({ fromMs: CREATED, jitter: changed })
  })
})
