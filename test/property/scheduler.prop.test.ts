import { Effect, Layer, Stream } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Clock } from "../../src/adapters/clock.js"
import { jitteredNextCronRunMs, oneShotJitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { EventLog, type EventLogShape } from "../../src/eventlog/eventLog.js"
import { makeMemoryEventLog } from "../../src/eventlog/memoryEventLog.js"
import { assertLogReplays } from "../../src/eventlog/replay.js"
import type { ProjectScheduler } from "../../src/scheduler/projectScheduler.js"
import { readSchedulerHistory } from "../../src/scheduler/schedulerHistory.js"
import {
  advanceTo,
  armed,
  DAY,
  type FileTask,
  HOUR,
  MIN,
  schedulerFixture,
  T0,
} from "../scheduler/schedulerHarness.js"

const cfg = DEFAULT_CRON_JITTER_CONFIG

/** A small cron grammar: frequent enough to fire often over a simulated day, varied enough to jitter. */
const cronArb = fc.oneof(
  fc.constantFrom(5, 10, 15, 20, 30).map((k) => `*/${k} * * * *`),
  fc.integer({ min: 0, max: 59 }).map((m) => `${m} * * * *`),
  fc
    .tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }))
    .map(([m, h]) => `${m} ${h} * * *`),
  fc.tuple(fc.integer({ min: 0, max: 59 }), fc.constantFrom(2, 3, 6)).map(([m, k]) => `${m} */${k} * * *`),
)

const taskArb = fc.record({
  cron: cronArb,
  recurring: fc.boolean(),
  permanent: fc.boolean(),
  // Created up to 8 days ago: some expire during the run, some are overdue at the first start.
  ageMs: fc.integer({ min: 0, max: 8 * DAY }),
  firedAgoMs: fc.option(fc.integer({ min: 0, max: 2 * DAY }), { nil: undefined }),
})

const tasksArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 4 })
  .chain((ids) =>
    fc.tuple(...ids.map((id) => taskArb.map((t) => ({ id: id.toString(16).padStart(8, "0"), ...t })))),
  )

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant("run" as const), ms: fc.integer({ min: 0, max: 5 * HOUR }) }),
  fc.record({ kind: fc.constant("restart" as const), downMs: fc.integer({ min: 0, max: 8 * HOUR }) }),
)

interface Fire {
  readonly taskId: string
  readonly fireAt: number
  readonly missed: boolean
}

const key = (f: Fire) => `${f.taskId} ${f.fireAt} ${f.missed ? "missed" : "on time"}`

/**
 * The reference: what must fire, given the intervals [start, stop] during which a scheduler ran.
 * - An occurrence whose jittered fire time falls inside an interval fires exactly once, at that time.
 * - Occurrences that fell due while no scheduler ran collapse into ONE late fire when the next scheduler
 *   starts (recorded as missed, with the first missed occurrence's time); the schedule goes on from then.
 * - Recurring tasks that are not permanent never fire at or after createdAt + recurringMaxAgeMs.
 * - A one-shot task fires once (late, as missed, if it fell due while no scheduler ran), then is gone.
 */
function expectedFires(task: FileTask, intervals: ReadonlyArray<readonly [number, number]>): Fire[] {
  const out: Fire[] = []
  if (task.recurring !== true) {
    const f = oneShotJitteredNextCronRunMs(task.cron, task.createdAt, task.id, cfg, "UTC")
    if (f === null) return out
    for (const [start, stop] of intervals) {
      if (f < start) return [{ taskId: task.id, fireAt: f, missed: true }]
      if (f <= stop) return [{ taskId: task.id, fireAt: f, missed: false }]
    }
    return out
  }
  const expiry = task.permanent === true ? Number.POSITIVE_INFINITY : task.createdAt + cfg.recurringMaxAgeMs
  const next = (from: number) => jitteredNextCronRunMs(task.cron, from, task.id, cfg, "UTC")
  let base = task.lastFiredAt ?? task.createdAt
  for (const [start, stop] of intervals) {
    let f = next(base)
    if (f !== null && f < start && f < expiry) {
      out.push({ taskId: task.id, fireAt: f, missed: true })
      base = start
      f = next(base)
    }
    while (f !== null && f <= stop && f < expiry) {
      out.push({ taskId: task.id, fireAt: f, missed: false })
      base = f
      f = next(base)
    }
  }
  return out
}

function fileTasks(
  specs: ReadonlyArray<{
    id: string
    cron: string
    recurring: boolean
    permanent: boolean
    ageMs: number
    firedAgoMs: number | undefined
  }>,
): FileTask[] {
  return specs.map((s) => {
    const createdAt = T0 - s.ageMs
    const lastFiredAt =
      s.recurring && s.firedAgoMs !== undefined ? Math.max(createdAt, T0 - s.firedAgoMs) : undefined
    return {
      id: s.id,
      cron: s.cron,
      createdAt,
      recurring: s.recurring,
      ...(s.recurring && s.permanent ? { permanent: true } : {}),
      ...(lastFiredAt === undefined ? {} : { lastFiredAt }),
    }
  })
}

/** [armed, disarmed] intervals of one scheduler stream, from its history. */
async function armedIntervals(log: EventLogShape, stream: string): Promise<Array<[number, number]>> {
  const rows = (await Effect.runPromise(readSchedulerHistory(log, stream))).rows
  const out: Array<[number, number]> = []
  let start: number | undefined
  for (const row of rows) {
    if (row.what === "armed") start = row.at
    if (row.what === "disarmed" && start !== undefined) {
      out.push([start, row.at])
      start = undefined
    }
  }
  return out
}

describe("project scheduler (property)", () => {
  it("fires every due occurrence exactly once across random clock advances and restarts; the log replays", async () => {
    await fc.assert(
      fc.asyncProperty(tasksArb, fc.array(stepArb, { minLength: 1, maxLength: 5 }), async (specs, steps) => {
        const fx = await schedulerFixture()
        const tasks = fileTasks(specs)
        fx.writeTasks(tasks)
        const intervals: Array<[number, number]> = []
        let scheduler: ProjectScheduler | undefined
        try {
          const begin = async () => {
            scheduler = await fx.start()
            await armed(fx.clock, scheduler)
            intervals.push([fx.clock.now(), fx.clock.now()])
          }
          await begin()
          for (const step of steps) {
            const current = scheduler as ProjectScheduler
            if (step.kind === "run") {
              await advanceTo(fx.clock, fx.clock.now() + step.ms, [current], 30 * MIN)
              ;(intervals.at(-1) as [number, number])[1] = fx.clock.now()
            } else {
              await current.close()
              fx.clock.jumpTo(fx.clock.now() + step.downMs)
              await begin()
            }
          }
          const last = scheduler as ProjectScheduler
          await last.close()
          const expected = tasks
            .flatMap((t) => expectedFires(t, intervals))
            .map(key)
            .sort()
          const actual = fx.fired.map((f) => key(f)).sort()
          expect(actual).toEqual(expected)
          // The history says the same: one handed-over row per fire, with its session.
          const rows = await fx.history(last.stream)
          const handed = rows
            .filter((r) => (r.what === "fired" || r.what === "missed") && r.session_id !== null)
            .map((r) =>
              key({ taskId: r.task as string, fireAt: r.fire_at_ms as number, missed: r.what === "missed" }),
            )
            .sort()
          expect(handed).toEqual(expected)
          // And the stream replays: every state the machines reached follows from the logged events alone.
          assertLogReplays(await Effect.runPromise(Stream.runCollect(fx.log.read(last.stream))))
        } finally {
          fx.cleanup()
        }
      }),
      { numRuns: 20 },
    )
  }, 60_000)

  it("two hosts on one project: lock handovers at random times never fire an occurrence twice", async () => {
    await fc.assert(
      fc.asyncProperty(
        tasksArb,
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant("run" as const), ms: fc.integer({ min: 0, max: 3 * HOUR }) }),
            fc.record({ kind: fc.constant("handover" as const) }),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        async (specs, steps) => {
          const fx = await schedulerFixture()
          const tasks = fileTasks(specs)
          fx.writeTasks(tasks)
          const otherLog = await Effect.runPromise(
            makeMemoryEventLog.pipe(Effect.provide(Layer.succeed(Clock, fx.clock))),
          )
          const logs = [fx.log, otherLog]
          let nextPid = 1000
          const startHost = (host: number) =>
            fx.start({ pid: nextPid++, eventLog: Layer.succeed(EventLog, logs[host] as EventLogShape) })
          const hosts: ProjectScheduler[] = [await startHost(0), await startHost(1)]
          const settleAll = async () => {
            for (const h of hosts) await h.settle()
          }
          try {
            fx.clock.advance(0)
            await settleAll()
            for (const step of steps) {
              if (step.kind === "run") {
                await advanceTo(fx.clock, fx.clock.now() + step.ms, hosts, 20 * MIN)
                continue
              }
              // The holder stops; the other takes over at its next retry; the holder's host comes back.
              const holder = hosts.findIndex((h) => h.holdsLock())
              if (holder < 0) continue
              await (hosts[holder] as ProjectScheduler).close()
              hosts[holder] = await startHost(holder)
              await advanceTo(fx.clock, fx.clock.now() + 1_000, hosts, 1_000)
            }
            for (const h of hosts) await h.close()
            const streams = hosts.map((h) => h.stream)
            const intervals = (
              await Promise.all(logs.map((log, i) => armedIntervals(log, streams[i] as string)))
            )
              .flat()
              .sort((a, b) => a[0] - b[0])
            // Never two hosts driving the project at once.
            for (let i = 1; i < intervals.length; i++) {
              expect((intervals[i] as [number, number])[0]).toBeGreaterThanOrEqual(
                (intervals[i - 1] as [number, number])[1],
              )
            }
            const expected = tasks
              .flatMap((t) => expectedFires(t, intervals))
              .map(key)
              .sort()
            expect(fx.fired.map((f) => key(f)).sort()).toEqual(expected)
          } finally {
            fx.cleanup()
          }
        },
      ),
      { numRuns: 12 },
    )
  }, 60_000)
})
