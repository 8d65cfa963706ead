import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { Clock, ManualClock } from "../../src/adapters/clock.js"
import { MemoryLockWorld } from "../../src/adapters/memoryLockWorld.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { taskFilePath } from "../../src/cron/taskFile.js"
import { EventLog, type EventLogShape } from "../../src/eventlog/eventLog.js"
import { makeMemoryEventLog } from "../../src/eventlog/memoryEventLog.js"
import {
  type FireRequest,
  type ProjectScheduler,
  type ProjectSchedulerOptions,
  startProjectScheduler,
} from "../../src/scheduler/projectScheduler.js"
import { type HistoryRow, readSchedulerHistory } from "../../src/scheduler/schedulerHistory.js"

export const MIN = 60_000
export const HOUR = 60 * MIN
export const DAY = 24 * HOUR
/** A Sunday, midnight UTC. */
export const T0 = Date.parse("2026-03-01T00:00:00Z")

/** A task as the file holds it. */
export interface FileTask {
  readonly id: string
  readonly cron: string
  readonly prompt?: string
  readonly createdAt: number
  readonly lastFiredAt?: number
  readonly recurring?: boolean
  readonly permanent?: boolean
}

/**
 * A project in a temp dir, a manual clock, a memory event log shared by every scheduler started on it
 * (a restart sees the same stream), a memory lock world, and a fake `fire` that records requests.
 */
export interface SchedulerFixture {
  readonly dir: string
  readonly clock: ManualClock
  readonly log: EventLogShape
  readonly world: MemoryLockWorld
  readonly fired: FireRequest[]
  /** When set, `fire` rejects with it. */
  failFire: Error | undefined
  /** Called with each request before it is recorded. */
  beforeFire: ((request: FireRequest) => void) | undefined
  writeTasks(tasks: ReadonlyArray<FileTask>): void
  readTasks(): Array<Record<string, unknown>>
  start(
    options?: Partial<ProjectSchedulerOptions<never>> & { readonly pid?: number },
  ): Promise<ProjectScheduler>
  /** The rows of a scheduler stream of this fixture's log. */
  history(stream: string): Promise<ReadonlyArray<HistoryRow>>
  cleanup(): void
}

export async function schedulerFixture(startMs = T0): Promise<SchedulerFixture> {
  const dir = mkdtempSync(join(tmpdir(), "agh-sched-"))
  mkdirSync(join(dir, ".claude"))
  const clock = new ManualClock(startMs)
  const log = await Effect.runPromise(makeMemoryEventLog.pipe(Effect.provide(Layer.succeed(Clock, clock))))
  const world = new MemoryLockWorld({ clock })
  const fired: FireRequest[] = []
  let sessions = 0
  const fixture: SchedulerFixture = {
    dir,
    clock,
    log,
    world,
    fired,
    failFire: undefined,
    beforeFire: undefined,
    writeTasks: (tasks) =>
      writeFileSync(
        taskFilePath(dir),
        `${JSON.stringify({ tasks: tasks.map((t) => ({ prompt: `prompt of ${t.id}`, ...t })) }, null, 2)}\n`,
      ),
    readTasks: () => {
      try {
        return (
          JSON.parse(readFileSync(taskFilePath(dir), "utf8")) as { tasks: Array<Record<string, unknown>> }
        ).tasks
      } catch {
        return []
      }
    },
    start: ({ pid = 1000, ...options } = {}) =>
      startProjectScheduler({
        projectDir: dir,
        eventLog: Layer.succeed(EventLog, log),
        clock,
        zone: "UTC",
        jitter: DEFAULT_CRON_JITTER_CONFIG,
        schedulerId: `sched-${pid}`,
        lock: { backend: world.backend({ pid }), intervalMs: 1_000 },
        // A manual clock fires the safety poll on every simulated minute: keep it sparse.
        watch: { pollMs: 60_000 },
        fire: async (request) => {
          if (fixture.failFire !== undefined) throw fixture.failFire
          fixture.beforeFire?.(request)
          fired.push(request)
          return `s_${(++sessions).toString(16).padStart(24, "0")}`
        },
        ...options,
      }),
    history: async (stream) => (await Effect.runPromise(readSchedulerHistory(log, stream))).rows,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
  return fixture
}

/** Advances `clock` to `target` one step at a time, settling the schedulers after each step. */
export async function advanceTo(
  clock: ManualClock,
  target: number,
  schedulers: ReadonlyArray<ProjectScheduler>,
  stepMs = HOUR,
): Promise<void> {
  for (;;) {
    const next = Math.min(target, clock.now() + stepMs)
    clock.advanceTo(next)
    for (const s of schedulers) await s.settle()
    if (next >= target) return
  }
}

/** Lets the lock watcher take its first turn and the machines start. */
export async function armed(clock: ManualClock, scheduler: ProjectScheduler): Promise<void> {
  clock.advance(0)
  await scheduler.settle()
}
