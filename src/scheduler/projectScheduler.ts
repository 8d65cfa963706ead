import { statSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import type { Clock, ClockShape, TimerHandle } from "../adapters/clock.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import { liveSchedulerLockBackend, type SchedulerLockBackend } from "../adapters/schedulerLockBackend.js"
import type { LockDecision } from "../adapters/schedulerLockRecord.js"
import { type SchedulerLockWatch, watchSchedulerLock } from "../adapters/schedulerLockWatch.js"
import type { CronError } from "../cron/cronError.js"
import {
  type CronJitterConfig,
  DEFAULT_CRON_JITTER_CONFIG,
  validateCronJitterConfig,
} from "../cron/jitterConfig.js"
import { readTextIfExists } from "../cron/readTextIfExists.js"
import { parseTaskFile, type ScheduledTask, type TaskFileView, taskFilePath } from "../cron/taskFile.js"
import {
  DEFAULT_TASK_WATCH_POLL_MS,
  type TaskFileWatch,
  type TaskFileWatchOptions,
  watchTaskFile,
} from "../cron/taskFileWatcher.js"
import type { TaskListing, TaskStore } from "../cron/taskStore.js"
import { type TaskStoreError, taskIoError } from "../cron/taskStoreError.js"
import { hostTimeZone } from "../cron/zoneOffset.js"
import { openMachineRuntime } from "../effects/openMachineRuntime.js"
import { messageOf } from "../errors/messageOf.js"
import type { Durability, EventLog } from "../eventlog/eventLog.js"
import type { FirePromptParams } from "../machines/cronTaskTypes.js"
import { type HeapClock, makeHeapClock } from "./heapClock.js"
import { makeInflightWork } from "./inflightWork.js"
import { describeLockDecision, lockDecisionKey } from "./lockDecisionNote.js"
import { SchedulerError } from "./schedulerError.js"
import { SCHEDULER_NOTE } from "./schedulerNotes.js"
import { canonicalProjectDir, schedulerStreamName } from "./schedulerStream.js"
import { makeTaskArmory, type TaskArmory } from "./taskArmory.js"
import { makeTaskFileEditor, type TaskFileEditorOptions } from "./taskFileEditor.js"

/** A prompt to hand over: into a new session in the project (durable task) or into its own session. */
export interface FireRequest {
  readonly projectDir: string
  readonly taskId: string
  readonly prompt: string
  /** The occurrence's fire time (for a missed fire, when it fell due). */
  readonly fireAt: number
  readonly missed: boolean
  readonly durable: boolean
  /** Session-only tasks: the session that owns the task. */
  readonly sessionId?: string
  readonly agentId?: string
}

/** Hands a prompt over; resolves with the session it went to. */
export type FirePrompt = (request: FireRequest) => Promise<string>

/** Options of {@link startProjectScheduler}. */
export interface ProjectSchedulerOptions<E = never> {
  readonly projectDir: string
  /** Where the scheduler's stream is written, e.g. `fileEventLogLayer({ dir: <home>/logs })`. */
  readonly eventLog: Layer.Layer<EventLog, E, Clock>
  readonly durability?: Durability
  /** The clock (timestamps, lock retries, file-watch debounce). */
  readonly clock: ClockShape
  /** The machines' timers; pass one {@link makeHeapClock} to several schedulers to share its one timer. */
  readonly timers?: HeapClock
  readonly fire: FirePrompt
  /** The session id written into the scheduler lock. Must differ between processes (default a fresh one). */
  readonly schedulerId?: string
  readonly ids?: IdsShape
  /** The scheduler lock: real files by default; a `MemoryLockWorld` backend in tests. */
  readonly lock?: {
    readonly backend?: SchedulerLockBackend
    readonly intervalMs?: number
    readonly pid?: number
  }
  readonly jitter?: CronJitterConfig
  /** Zone of the cron expressions (default the host's). */
  readonly zone?: string
  readonly watch?: TaskFileWatchOptions
  readonly taskFileLock?: TaskFileEditorOptions["lock"]
  /** One line per problem the event log cannot take. */
  readonly onDiagnostic?: (line: string) => void
}

/** The scheduler of one project's tasks: durable ones (under the lock) and those of tracked sessions. */
export interface ProjectScheduler {
  /** The canonical project directory. */
  readonly projectDir: string
  /** Its event-log stream (`sched-<hash>`). */
  readonly stream: string
  /** The session id it takes the scheduler lock with. */
  readonly schedulerId: string
  readonly holdsLock: () => boolean
  /** Durable tasks whose machines are running (0 unless it holds the lock). */
  readonly armedTasks: () => number
  /** The durable tasks as last read from the file (the last good ones while it is corrupt). */
  readonly listing: () => TaskListing
  /** The armed fire time of a durable task, when this scheduler's machine is waiting for one. */
  readonly armedFireAt: (taskId: string) => number | null | undefined
  readonly jitter: () => CronJitterConfig
  /**
   * Adjusts the jitter configuration at run time: `input` (possibly partial) is laid over the current one
   * and validated as a whole; an invalid one is refused (`AGH_CRON_CONFIG_INVALID`) and the old one stays.
   * Every running machine is rescheduled with the new one (`cronTask.configChanged`).
   */
  readonly setJitterConfig: (input: unknown) => Result.Result<CronJitterConfig, CronError>
  /**
   * Schedules the session-only tasks of `store` (one session's `SessionTaskStore.forSession(id)`): they fire
   * into that session, whoever holds the project's lock, until the returned function is called or the
   * session's tasks are dropped.
   */
  readonly trackSession: (sessionId: string, store: TaskStore) => () => Promise<void>
  /** Reads the task file now instead of waiting for the watcher (after this process changed it, say). */
  readonly rescan: () => void
  /** Resolves once the work started so far (machine starts, fires, file writes, log appends) is done. */
  readonly settle: () => Promise<void>
  /** Disarms, waits for fires in flight, releases the lock, stops watching, closes the stream. Idempotent. */
  readonly close: () => Promise<void>
}

interface TrackedSession {
  readonly armory: TaskArmory
  readonly scope: Scope.Closeable
}

function readTasksFile(path: string): Result.Result<TaskFileView, TaskStoreError> {
  let text: string | null
  try {
    text = readTextIfExists(path)
  } catch (error) {
    return Result.fail(taskIoError(path, "read", path, error))
  }
  return parseTaskFile(text, path)
}

/** What changes when the file does: a rename (new inode), a size or an mtime. */
function statKey(path: string): string {
  try {
    const stat = statSync(path)
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "error"
  }
}

/**
 * Starts the scheduler of a project (SPEC §7, docs/scheduler.md):
 * - reads `<project>/.claude/scheduled_tasks.json` and watches it; while it holds at least one task, the
 *   scheduler contends for `scheduled_tasks.lock` (retrying every `intervalMs`, so a dead holder is taken
 *   over promptly), and releases it when the last task is gone;
 * - while it holds the lock, one cronTaskMachine per task runs on the project's stream, its delays on a
 *   heap-backed clock; added, removed and changed tasks re-arm; losing the lock disarms them all;
 * - a fire is first recorded in the file as a compare-and-set of `lastFiredAt` under the file's write lock
 *   (so a fire racing a lock handover is skipped, not doubled), then handed to `fire` (a new session in the
 *   project); one-shot tasks are removed after firing, recurring ones expire;
 * - every fire, skip, miss, expiry and lock decision is in the stream, for `agenthost cron history`.
 *
 * @example
 * const scheduler = await startProjectScheduler({
 *   projectDir: "/work/app",
 *   eventLog: fileEventLogLayer({ dir: join(home, "logs") }),
 *   clock: liveClock,
 *   fire: async ({ projectDir, prompt }) => (await sessions.create({ cwd: projectDir, prompt })).id,
 * })
 * // ...
 * await scheduler.close()
 */
export async function startProjectScheduler<E>(
  options: ProjectSchedulerOptions<E>,
): Promise<ProjectScheduler> {
  const projectDir = canonicalProjectDir(options.projectDir)
  const stream = schedulerStreamName(projectDir)
  const { clock } = options
  const ownTimers = options.timers === undefined
  const timers = options.timers ?? makeHeapClock(clock)
  const ids = options.ids ?? liveIds
  const schedulerId = options.schedulerId ?? ids.sessionId()
  const zone = options.zone ?? hostTimeZone()
  const path = taskFilePath(projectDir)
  const lockBackend = options.lock?.backend ?? liveSchedulerLockBackend(clock)
  const diagnostic = (line: string) => options.onDiagnostic?.(`${projectDir}: ${line}`)
  let jitter = options.jitter ?? DEFAULT_CRON_JITTER_CONFIG

  const { runtime, close: closeRuntime } = await openMachineRuntime({
    eventLog: options.eventLog,
    clock: timers,
    stream,
    open: {
      meta: { kind: "scheduler", project: projectDir },
      ...(options.durability === undefined ? {} : { durability: options.durability }),
    },
  })

  const { track, drain } = makeInflightWork()
  // Every note carries the clock's time: the record's own is when the log took it, which can be later.
  const note = (code: string, message: string, data: object) =>
    runtime.note(code, message, { data: { ...data, at: clock.now() } })

  const editor = makeTaskFileEditor(
    projectDir,
    options.taskFileLock === undefined ? {} : { lock: options.taskFileLock },
  )
  const deliver = (task: ScheduledTask, fire: FirePromptParams, sessionId?: string) =>
    options.fire({
      projectDir,
      taskId: task.id,
      prompt: fire.prompt,
      fireAt: fire.fireAt,
      missed: fire.missed,
      durable: fire.durable,
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(fire.agentId === null ? {} : { agentId: fire.agentId }),
    })

  const durable = makeTaskArmory({
    runtime,
    clock,
    zone,
    jitter: () => jitter,
    actorId: (id) => `cronTask:${id}`,
    track,
    onDiagnostic: diagnostic,
    backend: {
      claim: (request) => editor.claim(request),
      remove: (taskId) => editor.remove(taskId),
      deliver: (task, fire) => deliver(task, fire),
    },
  })

  let closed = false
  let listing: TaskListing = { tasks: [], invalid: [] }
  let lastGood: TaskFileView | undefined
  let unreadable: string | undefined
  let lockWatch: SchedulerLockWatch | undefined
  let holding = false
  let lastDecision: string | undefined
  const sessions = new Map<string, TrackedSession>()

  const onDecision = (decision: LockDecision) => {
    const key = lockDecisionKey(decision)
    if (key === lastDecision) return
    lastDecision = key
    note(SCHEDULER_NOTE.lock, describeLockDecision(decision), decision)
  }

  const arm = () => {
    durable.sync(listing.tasks)
  }

  const disarm = (reason: string) => {
    const count = durable.disarm()
    note(SCHEDULER_NOTE.disarmed, `disarmed ${count} task(s): ${reason}`, { tasks: count, reason })
  }

  const startLockWatch = () => {
    lockWatch = watchSchedulerLock(projectDir, schedulerId, {
      backend: lockBackend,
      clock,
      ...(options.lock?.intervalMs === undefined ? {} : { intervalMs: options.lock.intervalMs }),
      ...(options.lock?.pid === undefined ? {} : { pid: options.lock.pid }),
      onDecision,
      onAcquired: () => {
        if (closed) return
        holding = true
        // The watch may lag the file by a debounce, and the host that held the lock may just have removed
        // or fired tasks: arm from the file as it is now.
        const view = readTasksFile(path)
        const count = Result.isSuccess(view) ? view.success.tasks.length : listing.tasks.length
        note(SCHEDULER_NOTE.armed, `armed ${count} task(s)`, { tasks: count })
        onListing(view)
      },
      onLost: () => {
        holding = false
        disarm("the scheduler lock was lost")
      },
      onError: (error) => diagnostic(`${error.code}: ${error.message}`),
    })
  }

  const onListing = (view: Result.Result<TaskFileView, TaskStoreError>) => {
    if (closed) return
    if (Result.isSuccess(view)) {
      lastGood = view.success
      unreadable = undefined
      listing = { tasks: view.success.tasks, invalid: view.success.invalid }
    } else {
      listing = { tasks: lastGood?.tasks ?? [], invalid: lastGood?.invalid ?? [], error: view.failure }
      if (unreadable !== view.failure.message) {
        unreadable = view.failure.message
        note(SCHEDULER_NOTE.tasksUnreadable, `${view.failure.message} (the last good tasks stay armed)`, {
          code: view.failure.code,
        })
      }
    }
    if (listing.tasks.length > 0 && lockWatch === undefined) startLockWatch()
    else if (listing.tasks.length === 0 && lockWatch !== undefined) {
      if (holding) disarm("no tasks left")
      holding = false
      lockWatch.stop()
      lockWatch = undefined
    }
    if (holding) arm()
  }

  onListing(readTasksFile(path))
  // The watcher's own safety poll re-reads the whole file every time: with 100k tasks that is 11 MB every
  // 2 s, most of an idle host's CPU. The scheduler polls a stat instead and reads only when it changed.
  const pollMs = options.watch?.pollMs ?? DEFAULT_TASK_WATCH_POLL_MS
  const fileWatch: TaskFileWatch = watchTaskFile(path, onListing, { clock, ...options.watch, pollMs: 0 })
  let seen = statKey(path)
  let pollTimer: TimerHandle | undefined
  const poll = () => {
    pollTimer = undefined
    if (closed) return
    const key = statKey(path)
    if (key !== seen) {
      seen = key
      onListing(readTasksFile(path))
    }
    pollTimer = clock.setTimeout(poll, pollMs)
  }
  if (pollMs > 0) pollTimer = clock.setTimeout(poll, pollMs)

  const trackSession = (sessionId: string, store: TaskStore) => {
    const existing = sessions.get(sessionId)
    if (existing !== undefined) return () => untrack(sessionId, existing)
    const armory = makeTaskArmory({
      runtime,
      clock,
      zone,
      jitter: () => jitter,
      actorId: (id) => `cronTask:${id}@${sessionId}`,
      track,
      onDiagnostic: diagnostic,
      backend: {
        claim: async (request) => {
          const task = await Effect.runPromise(store.markFired(request.taskId, request.lastFiredAt))
          return task === undefined ? { kind: "gone" } : { kind: "claimed", task }
        },
        remove: (taskId) => Effect.runPromise(store.remove(taskId)),
        deliver: (task, fire) => deliver(task, fire, sessionId),
      },
    })
    const scope = Effect.runSync(Scope.make())
    const tracked: TrackedSession = { armory, scope }
    sessions.set(sessionId, tracked)
    void Effect.runPromise(
      store.watch((session) => armory.sync(session.tasks)).pipe(Scope.provide(scope)),
    ).catch((error: unknown) => diagnostic(`session ${sessionId}: ${messageOf(error)}`))
    return () => untrack(sessionId, tracked)
  }

  const untrack = async (sessionId: string, tracked: TrackedSession) => {
    if (sessions.get(sessionId) !== tracked) return
    sessions.delete(sessionId)
    tracked.armory.disarm()
    await Effect.runPromise(Scope.close(tracked.scope, Exit.void))
  }

  const settle = async () => {
    await drain()
    await editor.flush()
    await runtime.flushAsync().catch((error: unknown) => diagnostic(messageOf(error)))
  }

  let closing: Promise<void> | undefined
  return {
    projectDir,
    stream,
    schedulerId,
    holdsLock: () => holding,
    armedTasks: () => durable.running(),
    listing: () => listing,
    armedFireAt: (taskId) => durable.fireAtOf(taskId),
    jitter: () => jitter,
    setJitterConfig: (input) => {
      const next = validateCronJitterConfig(input, jitter)
      if (Result.isFailure(next) || closed) return next
      jitter = next.success
      note(SCHEDULER_NOTE.configChanged, "jitter configuration changed; every task rescheduled", { jitter })
      durable.reconfigure(jitter)
      for (const tracked of sessions.values()) tracked.armory.reconfigure(jitter)
      return next
    },
    trackSession: (sessionId, store) => {
      if (closed) {
        throw new SchedulerError({ reason: "Closed", message: `the scheduler of ${projectDir} is closed` })
      }
      return trackSession(sessionId, store)
    },
    rescan: () => {
      if (!closed) onListing(readTasksFile(path))
    },
    settle,
    close: () => {
      closing ??= (async () => {
        closed = true
        fileWatch.stop()
        if (pollTimer !== undefined) clock.clearTimeout(pollTimer)
        if (holding) disarm("the scheduler is shutting down")
        holding = false
        for (const [sessionId, tracked] of [...sessions]) await untrack(sessionId, tracked)
        // Fires in flight finish (their lastFiredAt written) before another host may take the lock over.
        await settle()
        lockWatch?.stop()
        lockWatch = undefined
        await closeRuntime()
        if (ownTimers) timers.clear()
      })()
      return closing
    },
  }
}
