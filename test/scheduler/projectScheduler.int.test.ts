import { Effect, Layer } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { Clock } from "../../src/adapters/clock.js"
import { schedulerLockPath } from "../../src/adapters/schedulerLockRecord.js"
import { jitteredNextCronRunMs, oneShotJitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { SessionTaskStore } from "../../src/cron/sessionTaskStore.js"
import { EventLog } from "../../src/eventlog/eventLog.js"
import { makeMemoryEventLog } from "../../src/eventlog/memoryEventLog.js"
import type { ProjectScheduler } from "../../src/scheduler/projectScheduler.js"
import { ARM_SLICE } from "../../src/scheduler/taskArmory.js"
import {
  advanceTo,
  armed,
  DAY,
  HOUR,
  MIN,
  type SchedulerFixture,
  schedulerFixture,
  T0,
} from "./schedulerHarness.js"

const cfg = DEFAULT_CRON_JITTER_CONFIG
let fx: SchedulerFixture
const open: ProjectScheduler[] = []

async function start(options: Parameters<SchedulerFixture["start"]>[0] = {}) {
  const s = await fx.start(options)
  open.push(s)
  return s
}

async function close(s: ProjectScheduler) {
  await s.close()
  open.splice(open.indexOf(s), 1)
}

const hourly = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  cron: "0 * * * *",
  createdAt: T0 - MIN,
  recurring: true,
  ...extra,
})

afterEach(async () => {
  for (const s of open.splice(0)) await s.close()
  fx?.cleanup()
})

describe("ProjectScheduler: firing", () => {
  it("fires a recurring durable task at its jittered time, recording lastFiredAt before the hand-over", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    expect(s.holdsLock()).toBe(false)
    await armed(fx.clock, s)
    expect(s.holdsLock()).toBe(true)
    expect(s.armedTasks()).toBe(1)
    const due = jitteredNextCronRunMs("0 * * * *", T0 - MIN, "80000000", cfg, "UTC") as number
    expect(due).toBe(T0 + 3 * MIN) // 0.5 × 0.1 × 60 min late
    expect(s.armedFireAt("80000000")).toBe(due)
    fx.clock.advanceTo(due - 1)
    await s.settle()
    expect(fx.fired).toEqual([])
    let recordedBeforeHandOver: unknown
    fx.beforeFire = () => {
      recordedBeforeHandOver = fx.readTasks()[0]?.lastFiredAt
    }
    fx.clock.advanceTo(due)
    await s.settle()
    expect(fx.fired).toEqual([
      {
        projectDir: s.projectDir,
        taskId: "80000000",
        prompt: "prompt of 80000000",
        fireAt: due,
        missed: false,
        durable: true,
      },
    ])
    expect(recordedBeforeHandOver).toBe(due)
    // The next occurrence is computed from the fire, one hour on.
    expect(s.armedFireAt("80000000")).toBe(due + HOUR)
    const rows = await fx.history(s.stream)
    expect(rows.filter((r) => r.what === "fired")).toEqual([
      expect.objectContaining({
        task: "80000000",
        fire_at_ms: due,
        session_id: "s_000000000000000000000001",
        detail: `due ${new Date(due).toISOString()}; prompt handed to session s_000000000000000000000001`,
      }),
    ])
    expect(rows.map((r) => r.what)).toEqual(["lock", "armed", "fired"])
  })

  it("fires every occurrence exactly once while it runs, one timer for all tasks", async () => {
    fx = await schedulerFixture()
    const ids = ["00000001", "40000000", "80000000", "c0000000"]
    fx.writeTasks(ids.map((id) => ({ id, cron: "*/15 * * * *", createdAt: T0 - MIN, recurring: true })))
    const s = await start()
    await armed(fx.clock, s)
    expect(s.armedTasks()).toBe(4)
    await advanceTo(fx.clock, T0 + 3 * HOUR, [s], 7 * MIN)
    for (const id of ids) {
      const expected: number[] = []
      for (
        let t = jitteredNextCronRunMs("*/15 * * * *", T0 - MIN, id, cfg, "UTC") as number;
        t <= T0 + 3 * HOUR;
      ) {
        expected.push(t)
        t = jitteredNextCronRunMs("*/15 * * * *", t, id, cfg, "UTC") as number
      }
      expect(fx.fired.filter((f) => f.taskId === id).map((f) => f.fireAt)).toEqual(expected)
    }
  })

  it("removes a one-shot task after its single (early-jittered) fire", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([{ id: "80000000", cron: "30 14 * * *", createdAt: T0 }])
    const s = await start()
    await armed(fx.clock, s)
    const due = oneShotJitteredNextCronRunMs("30 14 * * *", T0, "80000000", cfg, "UTC") as number
    expect(due).toBe(T0 + 14.5 * HOUR - 45_000)
    await advanceTo(fx.clock, T0 + 2 * DAY, [s])
    expect(fx.fired.map((f) => f.fireAt)).toEqual([due])
    expect(fx.readTasks()).toEqual([])
    expect(s.armedTasks()).toBe(0)
  })

  it("expires a recurring task recurringMaxAgeMs after creation and removes it; a permanent one stays", async () => {
    fx = await schedulerFixture()
    const createdAt = T0 - 7 * DAY + 10 * MIN
    fx.writeTasks([
      hourly("80000000", { createdAt, lastFiredAt: T0 - MIN }),
      hourly("40000000", { createdAt, lastFiredAt: T0 - MIN, permanent: true }),
    ])
    const s = await start()
    await armed(fx.clock, s)
    await advanceTo(fx.clock, T0 + 3 * HOUR, [s])
    expect(fx.fired.filter((f) => f.taskId === "80000000").map((f) => f.fireAt)).toEqual([T0 + 3 * MIN])
    expect(fx.fired.filter((f) => f.taskId === "40000000")).toHaveLength(3)
    expect(fx.readTasks().map((t) => t.id)).toEqual(["40000000"])
    const rows = await fx.history(s.stream)
    expect(rows.filter((r) => r.what === "expired")).toEqual([
      expect.objectContaining({ task: "80000000", at: createdAt + 7 * DAY }),
    ])
  })

  it("after downtime fires each overdue task once, late, records the miss, and schedules from then on", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([{ id: "80000000", cron: "*/5 * * * *", createdAt: T0 - MIN, recurring: true }])
    const first = await start()
    await armed(fx.clock, first)
    await advanceTo(fx.clock, T0 + HOUR, [first])
    expect(fx.fired).toHaveLength(12)
    await close(first)
    fx.clock.jumpTo(T0 + 5 * HOUR + 2 * MIN) // 4 hours down: 48 occurrences missed
    const second = await start()
    await armed(fx.clock, second)
    expect(fx.fired).toHaveLength(13)
    expect(fx.fired[12]).toMatchObject({ missed: true, fireAt: T0 + HOUR + 15_000 })
    expect(fx.readTasks()[0]?.lastFiredAt).toBe(T0 + 5 * HOUR + 2 * MIN)
    await advanceTo(fx.clock, T0 + 5 * HOUR + 10 * MIN, [second])
    expect(fx.fired.slice(13).map((f) => f.fireAt)).toEqual([T0 + 5 * HOUR + 5 * MIN + 15_000])
    const rows = await fx.history(second.stream)
    expect(rows.filter((r) => r.what === "missed")).toEqual([
      expect.objectContaining({
        task: "80000000",
        at: T0 + 5 * HOUR + 2 * MIN,
        fire_at_ms: T0 + HOUR + 15_000,
        session_id: "s_00000000000000000000000d",
      }),
    ])
  })

  it("a one-shot task found already fired (host stopped before removing it) is removed, not fired again", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([{ id: "80000000", cron: "30 14 * * *", createdAt: T0 - DAY, lastFiredAt: T0 - 10 * HOUR }])
    const s = await start()
    await armed(fx.clock, s)
    expect(fx.fired).toEqual([])
    expect(fx.readTasks()).toEqual([])
    expect((await fx.history(s.stream)).map((r) => r.what)).toContain("skipped")
  })

  it("a timer that runs late (suspended host) fires once and skips the backlog in one event", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([{ id: "80000000", cron: "*/5 * * * *", createdAt: T0 - MIN, recurring: true }])
    const s = await start()
    await armed(fx.clock, s)
    fx.clock.jumpTo(T0 + 2 * HOUR) // nothing fired while "suspended"
    fx.clock.advance(0)
    await s.settle()
    expect(fx.fired.map((f) => f.fireAt)).toEqual([T0 + 15_000])
    const skipped = (await fx.history(s.stream)).filter((r) => r.what === "skipped")
    expect(skipped).toEqual([
      expect.objectContaining({
        task: "80000000",
        at: T0 + 2 * HOUR,
        fire_at_ms: T0 + HOUR + 55 * MIN + 15_000,
        detail: expect.stringMatching(
          /^23 occurrence\(s\) from 2026-03-01T00:05:15.000Z to 2026-03-01T01:55:15.000Z fell due while the host was suspended/,
        ),
      }),
    ])
    expect(s.armedFireAt("80000000")).toBe(T0 + 2 * HOUR + 15_000)
  })

  it("records a fire whose prompt could not be handed over as failed", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    await armed(fx.clock, s)
    fx.failFire = Object.assign(new Error("the host already runs 32 sessions"), { code: "AGH_MAX_SESSIONS" })
    await advanceTo(fx.clock, T0 + 5 * MIN, [s])
    const failed = (await fx.history(s.stream)).filter((r) => r.what === "failed")
    expect(failed).toEqual([
      expect.objectContaining({
        task: "80000000",
        detail: expect.stringMatching(
          /^AGH_MAX_SESSIONS: task 80000000 .* not delivered: the host already runs 32 sessions$/,
        ),
      }),
    ])
  })
})

describe("ProjectScheduler: the task file", () => {
  it("arms added tasks, deletes removed ones and restarts changed ones", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    await armed(fx.clock, s)
    fx.writeTasks([hourly("80000000", { cron: "30 * * * *" }), hourly("40000000")])
    s.rescan()
    await s.settle()
    expect(s.armedTasks()).toBe(2)
    expect(s.armedFireAt("80000000")).toBe(T0 + 33 * MIN)
    fx.writeTasks([hourly("40000000")])
    s.rescan()
    await s.settle()
    expect(s.armedTasks()).toBe(1)
    const rows = await fx.history(s.stream)
    expect(rows.filter((r) => ["changed", "deleted"].includes(r.what)).map((r) => [r.what, r.task])).toEqual([
      ["changed", "80000000"],
      ["deleted", "80000000"],
    ])
  })

  it("picks changes up through its watch (safety poll on the injected clock)", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    await armed(fx.clock, s)
    fx.writeTasks([hourly("80000000"), hourly("40000000")])
    await advanceTo(fx.clock, T0 + MIN + 1, [s], MIN)
    expect(s.armedTasks()).toBe(2)
  })

  it("arms many tasks a slice per event-loop turn, so the host stays responsive", async () => {
    fx = await schedulerFixture()
    fx.writeTasks(Array.from({ length: 600 }, (_, i) => hourly((i + 1).toString(16).padStart(8, "0"))))
    const s = await start()
    fx.clock.advance(0)
    expect(s.armedTasks()).toBe(ARM_SLICE)
    await s.settle()
    expect(s.armedTasks()).toBe(600)
  })

  it("contends for the lock only while the project has tasks", async () => {
    fx = await schedulerFixture()
    const lockPath = schedulerLockPath(fx.dir)
    const s = await start()
    await armed(fx.clock, s)
    expect(s.holdsLock()).toBe(false)
    expect(fx.world.readFile(lockPath)).toBeUndefined()
    fx.writeTasks([hourly("80000000")])
    s.rescan()
    await armed(fx.clock, s)
    expect(s.holdsLock()).toBe(true)
    expect(JSON.parse(fx.world.readFile(lockPath) as string)).toMatchObject({
      sessionId: s.schedulerId,
      pid: 1000,
    })
    fx.writeTasks([])
    s.rescan()
    await s.settle()
    expect(s.holdsLock()).toBe(false)
    expect(fx.world.readFile(lockPath)).toBeUndefined()
  })

  it("keeps the last good tasks armed while the file is corrupt, and says so once", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    await armed(fx.clock, s)
    const { writeFileSync } = await import("node:fs")
    writeFileSync(`${fx.dir}/.claude/scheduled_tasks.json`, "{ not json")
    s.rescan()
    s.rescan()
    await s.settle()
    expect(s.armedTasks()).toBe(1)
    expect(s.listing().error?.code).toBe("AGH_TASKS_CORRUPT")
    const unreadable = (await fx.history(s.stream)).filter((r) => r.what === "unreadable")
    expect(unreadable).toHaveLength(1)
    expect(unreadable[0]?.detail).toContain("scheduled_tasks.json: not valid JSON")
    // Its fire cannot be recorded in a corrupt file: not handed over (at most once), reported.
    await advanceTo(fx.clock, T0 + 5 * MIN, [s])
    expect(fx.fired).toEqual([])
    expect((await fx.history(s.stream)).filter((r) => r.what === "failed")[0]?.detail).toMatch(
      /^AGH_TASKS_CORRUPT/,
    )
  })
})

describe("ProjectScheduler: jitter configuration", () => {
  it("refuses an invalid change with a coded error naming the field and keeps the old config", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    await armed(fx.clock, s)
    const refused = s.setJitterConfig({ recurringFrac: 2 })
    expect(refused._tag).toBe("Failure")
    if (refused._tag === "Failure") {
      expect(refused.failure.code).toBe("AGH_CRON_CONFIG_INVALID")
      expect(refused.failure.message).toContain("recurringFrac")
    }
    expect(s.jitter()).toBe(cfg)
    expect(s.armedFireAt("80000000")).toBe(T0 + 3 * MIN)
  })

  it("reschedules every armed task with a valid change", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    await armed(fx.clock, s)
    const accepted = s.setJitterConfig({ recurringFrac: 0 })
    expect(accepted._tag).toBe("Success")
    await s.settle()
    expect(s.jitter().recurringFrac).toBe(0)
    // Without jitter the occurrence at T0 itself is due now, not three minutes on.
    expect(s.armedFireAt("80000000")).toBe(T0)
    fx.clock.advance(0)
    await s.settle()
    expect(fx.fired.map((f) => f.fireAt)).toEqual([T0])
    expect((await fx.history(s.stream)).map((r) => r.what)).toContain("config")
  })
})

describe("ProjectScheduler: two hosts on one project", () => {
  it("only the lock holder fires; when it stops, the other takes over and no occurrence fires twice", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([{ id: "80000000", cron: "*/10 * * * *", createdAt: T0 - MIN, recurring: true }])
    const otherLog = await Effect.runPromise(
      makeMemoryEventLog.pipe(Effect.provide(Layer.succeed(Clock, fx.clock))),
    )
    const a = await start({ pid: 1000 })
    const b = await start({ pid: 2000, eventLog: Layer.succeed(EventLog, otherLog) })
    fx.clock.advance(0)
    await a.settle()
    await b.settle()
    expect([a.holdsLock(), b.holdsLock()]).toEqual([true, false])
    await advanceTo(fx.clock, T0 + HOUR, [a, b], 7 * MIN)
    expect(fx.fired).toHaveLength(6)
    await close(a)
    await advanceTo(fx.clock, T0 + 2 * HOUR, [b], 7 * MIN)
    expect(b.holdsLock()).toBe(true)
    const fireTimes = fx.fired.map((f) => f.fireAt)
    expect(new Set(fireTimes).size).toBe(fireTimes.length)
    expect(fireTimes).toHaveLength(12)
    // B retried every second for an hour; its log says "blocked" once, then "acquired".
    const bRows = (
      await Effect.runPromise(
        (await import("../../src/scheduler/schedulerHistory.js")).readSchedulerHistory(otherLog, b.stream),
      )
    ).rows
    // Rows carry the time things happened, not when the log took them (here: 7 simulated minutes later).
    expect(bRows.find((r) => r.what === "armed")?.at).toBe(T0 + HOUR + 1_000)
    expect(bRows.filter((r) => r.what === "lock").map((r) => r.detail.split(":")[0])).toEqual([
      "scheduler lock not taken (held)",
      "scheduler lock acquired by pid 2000 (session sched-2000)",
    ])
  })

  it("a fire racing a lock handover is skipped when another host recorded that occurrence first", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    await armed(fx.clock, s)
    // Another host fired this occurrence (and recorded it) while this one still believed it held the lock.
    fx.writeTasks([hourly("80000000", { lastFiredAt: T0 + 3 * MIN })])
    await advanceTo(fx.clock, T0 + 3 * MIN, [s])
    expect(fx.fired).toEqual([])
    const skipped = (await fx.history(s.stream)).filter((r) => r.what === "skipped")
    expect(skipped).toEqual([
      expect.objectContaining({
        task: "80000000",
        fire_at_ms: T0 + 3 * MIN,
        detail: expect.stringContaining("another scheduler fired it already"),
      }),
    ])
    // The next occurrence is still fired, by this host.
    await advanceTo(fx.clock, T0 + HOUR + 3 * MIN, [s])
    expect(fx.fired.map((f) => f.fireAt)).toEqual([T0 + HOUR + 3 * MIN])
  })

  it("disarms when the lock is lost and re-arms when it gets it back", async () => {
    fx = await schedulerFixture()
    fx.writeTasks([hourly("80000000")])
    const s = await start()
    await armed(fx.clock, s)
    fx.world.removeFile(schedulerLockPath(fx.dir))
    fx.world.spawn(3000)
    const thief = fx.world.backend({ pid: 3000 })
    expect(thief.tryAcquire(fx.dir, "thief").acquired).toBe(true)
    await advanceTo(fx.clock, T0 + 2_000, [s], 1_000)
    expect(s.holdsLock()).toBe(false)
    expect(s.armedTasks()).toBe(0)
    fx.world.kill(3000)
    await advanceTo(fx.clock, T0 + 4_000, [s], 1_000)
    expect(s.holdsLock()).toBe(true)
    expect(s.armedTasks()).toBe(1)
    const rows = (await fx.history(s.stream)).map((r) => `${r.what}: ${r.detail}`)
    expect(rows).toEqual([
      "lock: scheduler lock acquired by pid 1000 (session sched-1000)",
      "armed: armed 1 task(s)",
      `lock: scheduler lock lost: now held by pid 3000 (session thief) since ${new Date(T0).toISOString()}`,
      "disarmed: disarmed 1 task(s): the scheduler lock was lost",
      `lock: scheduler lock not taken (held): held by pid 3000 (session thief) since ${new Date(T0).toISOString()}`,
      `lock: stale scheduler lock removed (dead-pid) of pid 3000 (session thief) since ${new Date(T0).toISOString()}`,
      "lock: scheduler lock acquired by pid 1000 (session sched-1000)",
      "armed: armed 1 task(s)",
    ])
  })
})

describe("ProjectScheduler: session-only tasks", () => {
  it("fires them into their session without the lock, until the session's tasks are dropped", async () => {
    fx = await schedulerFixture()
    const sessionTasks = new SessionTaskStore({ clock: fx.clock })
    const store = sessionTasks.forSession("s_owner")
    const task = await Effect.runPromise(
      store.add({
        cron: "*/10 * * * *",
        prompt: "check the build",
        recurring: true,
        id: "80000000",
        agentId: "agent-1",
      }),
    )
    const s = await start()
    s.trackSession("s_owner", store)
    await s.settle()
    await advanceTo(fx.clock, T0 + 25 * MIN, [s], 5 * MIN)
    expect(s.holdsLock()).toBe(false)
    expect(fx.fired).toEqual([
      expect.objectContaining({
        taskId: task.id,
        sessionId: "s_owner",
        durable: false,
        agentId: "agent-1",
        fireAt: T0 + 10 * MIN + 30_000,
      }),
      expect.objectContaining({ fireAt: T0 + 20 * MIN + 30_000 }),
    ])
    sessionTasks.removeSession("s_owner")
    await advanceTo(fx.clock, T0 + HOUR, [s], 5 * MIN)
    expect(fx.fired).toHaveLength(2)
    const rows = await fx.history(s.stream)
    expect(rows.filter((r) => r.what === "deleted")).toEqual([expect.objectContaining({ task: "80000000" })])
  })
})
