import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { type ClockShape, liveClock } from "../adapters/clock.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import type { ScheduledTask } from "./taskFile.js"
import { prepareNewTask, type TaskListing, type TaskStore } from "./taskStore.js"
import { TaskStoreError } from "./taskStoreError.js"

/** Options of {@link SessionTaskStore}. */
export interface SessionTaskStoreOptions {
  /** `createdAt` of new tasks (default the live clock). */
  readonly clock?: ClockShape
  /** Ids of new tasks (default random). */
  readonly ids?: IdsShape
}

/** A session-only task and the session it belongs to. */
export interface SessionTask {
  readonly sessionId: string
  readonly task: ScheduledTask
}

/** One session's tasks. A view keeps the bucket it was made for, so it cannot outlive its session's end. */
interface Bucket {
  readonly sessionId: string
  tasks: ScheduledTask[]
  ended: boolean
  readonly listeners: Set<(listing: TaskListing) => void>
}

/**
 * Session-only tasks (SPEC §7): in memory, grouped by session, gone when the session ends. `forSession`
 * gives the {@link TaskStore} of one session; `removeSession` drops its tasks, and its views refuse new
 * tasks from then on (`AGH_TASK_SESSION_ENDED`), so a task can never outlive its session. Task ids are
 * unique across all sessions of the store, so a scheduler can key on them.
 *
 * @example
 * const sessionTasks = new SessionTaskStore()
 * const store = sessionTasks.forSession(sessionId)
 * await Effect.runPromise(store.add({ cron: "*\/10 * * * *", prompt: "check the build", recurring: true }))
 * // when the session ends:
 * sessionTasks.removeSession(sessionId)
 */
export class SessionTaskStore {
  private readonly clock: ClockShape
  private readonly ids: IdsShape
  private readonly buckets = new Map<string, Bucket>()
  /** taskId → session id, for every live task. */
  private readonly owners = new Map<string, string>()

  constructor(options: SessionTaskStoreOptions = {}) {
    this.clock = options.clock ?? liveClock
    this.ids = options.ids ?? liveIds
  }

  /** The store of `sessionId`'s tasks. */
  forSession(sessionId: string): TaskStore {
    const bucket = this.bucket(sessionId)
    const location = `session:${sessionId}`
    const notify = () => {
      const listing = listingOf(bucket)
      for (const listener of [...bucket.listeners]) listener(listing)
    }
    return {
      location,
      list: () => Effect.sync(() => listingOf(bucket)),
      add: (input) =>
        Effect.suspend(() => {
          if (bucket.ended) {
            return Effect.fail(
              new TaskStoreError({
                reason: "SessionEnded",
                location,
                message: `${location}: the session has ended; its tasks were dropped and no new ones are taken`,
              }),
            )
          }
          const prepared = prepareNewTask(input, {
            location,
            clock: this.clock,
            ids: this.ids,
            taken: (id) => this.owners.has(id),
            durable: false,
          })
          if (Result.isFailure(prepared)) return Effect.fail(prepared.failure)
          const task = prepared.success
          bucket.tasks = [...bucket.tasks, task]
          this.owners.set(task.id, sessionId)
          notify()
          return Effect.succeed(task)
        }),
      remove: (id) =>
        Effect.sync(() => {
          const before = bucket.tasks.length
          bucket.tasks = bucket.tasks.filter((t) => t.id !== id)
          if (bucket.tasks.length === before) return false
          this.owners.delete(id)
          notify()
          return true
        }),
      markFired: (id, firedAt) =>
        Effect.sync(() => {
          const current = bucket.tasks.find((t) => t.id === id)
          if (current === undefined) return undefined
          const lastFiredAt = Math.max(current.lastFiredAt ?? firedAt, firedAt)
          if (current.lastFiredAt === lastFiredAt) return current
          const updated = { ...current, lastFiredAt }
          bucket.tasks = bucket.tasks.map((t) => (t.id === id ? updated : t))
          notify()
          return updated
        }),
      watch: (onChange) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            bucket.listeners.add(onChange)
            onChange(listingOf(bucket))
          }),
          () => Effect.sync(() => bucket.listeners.delete(onChange)),
        ),
    }
  }

  /**
   * Ends `sessionId`'s tasks: drops them, tells its watchers (an empty listing), and makes its views
   * refuse new tasks. Returns the tasks dropped.
   */
  removeSession(sessionId: string): ReadonlyArray<ScheduledTask> {
    const bucket = this.buckets.get(sessionId)
    if (bucket === undefined) return []
    this.buckets.delete(sessionId)
    bucket.ended = true
    const dropped = bucket.tasks
    bucket.tasks = []
    for (const task of dropped) this.owners.delete(task.id)
    const listing = listingOf(bucket)
    for (const listener of [...bucket.listeners]) listener(listing)
    bucket.listeners.clear()
    return dropped
  }

  /** The session a live task belongs to. */
  sessionOf(taskId: string): string | undefined {
    return this.owners.get(taskId)
  }

  /** Every live session-only task, by session in the order sessions were first seen. */
  all(): ReadonlyArray<SessionTask> {
    return [...this.buckets.values()].flatMap((b) =>
      b.tasks.map((task) => ({ sessionId: b.sessionId, task })),
    )
  }

  private bucket(sessionId: string): Bucket {
    let bucket = this.buckets.get(sessionId)
    if (bucket === undefined) {
      bucket = { sessionId, tasks: [], ended: false, listeners: new Set() }
      this.buckets.set(sessionId, bucket)
    }
    return bucket
  }
}

function listingOf(bucket: Bucket): TaskListing {
  return { tasks: bucket.tasks, invalid: [] }
}
