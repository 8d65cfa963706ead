import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { type ClockShape, liveClock } from "../adapters/clock.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import { readTextIfExists } from "./readTextIfExists.js"
import {
  parseTaskFile,
  type ScheduledTask,
  type TaskFileView,
  taskFilePath,
  withTaskAdded,
  withTaskFired,
  withTaskRemoved,
} from "./taskFile.js"
import { type TaskFileWatchOptions, watchTaskFile } from "./taskFileWatcher.js"
import { prepareNewTask, type TaskListing, type TaskStore } from "./taskStore.js"
import { type TaskStoreError, taskIoError } from "./taskStoreError.js"
import {
  DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS,
  type TaskFileEdit,
  type TaskFileWriteLockOptions,
  updateTaskFile,
} from "./updateTaskFile.js"

export { DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS }

/** Options of {@link makeFileTaskStore}. */
export interface FileTaskStoreOptions {
  /** `createdAt` of new tasks (default the live clock). */
  readonly clock?: ClockShape
  /** Ids of new tasks (default random). */
  readonly ids?: IdsShape
  /** The write lock; `timeoutMs` bounds the wait (default {@link DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS}). */
  readonly lock?: TaskFileWriteLockOptions
  readonly watch?: TaskFileWatchOptions
}

/**
 * The durable task store of a project: `<projectDir>/.claude/scheduled_tasks.json`, shared with Claude
 * Code and other agenthost processes (docs/scheduled-tasks.md).
 * - Reads parse the file afresh; the store remembers its last good view, which `list` and `watch` report
 *   while the file is corrupt.
 * - Writes take the file's write lock (`scheduled_tasks.json.lock`, O_EXCL, stale after 10 s or when its
 *   holder is dead), re-read and re-parse the file, apply the edit to that document — unknown fields and
 *   invalid entries kept — and replace the file atomically; just before the rename the file is compared
 *   with what was read, and the edit redone if another writer changed it meanwhile.
 * - A corrupt file is never written: every write fails with `AGH_TASKS_CORRUPT` until it is fixed.
 *
 * @example
 * const store = makeFileTaskStore(process.cwd())
 * const task = await Effect.runPromise(store.add({ cron: "0 9 * * 1-5", prompt: "standup notes", recurring: true }))
 */
export function makeFileTaskStore(projectDir: string, options: FileTaskStoreOptions = {}): TaskStore {
  const path = taskFilePath(projectDir)
  const clock = options.clock ?? liveClock
  const ids = options.ids ?? liveIds
  let lastGood: TaskFileView | undefined

  const listingOf = (view: Result.Result<TaskFileView, TaskStoreError>): TaskListing => {
    if (Result.isSuccess(view)) {
      lastGood = view.success
      return { tasks: view.success.tasks, invalid: view.success.invalid }
    }
    return { tasks: lastGood?.tasks ?? [], invalid: lastGood?.invalid ?? [], error: view.failure }
  }

  const read = Effect.try({
    try: () => readTextIfExists(path),
    catch: (error) => taskIoError(path, "read", path, error),
  })

  /** Read-modify-write under the lock (see `updateTaskFile`); `edit` sees the file as it is now. */
  const modify = <A>(edit: (view: TaskFileView) => Result.Result<TaskFileEdit<A>, TaskStoreError>) =>
    Effect.promise(() =>
      updateTaskFile(
        path,
        (view) => {
          lastGood = view
          return edit(view)
        },
        options.lock,
      ),
    ).pipe(
      Effect.flatMap((update) => {
        if (Result.isFailure(update)) return Effect.fail(update.failure)
        if (update.success.written !== undefined) listingOf(parseTaskFile(update.success.written, path))
        return Effect.succeed(update.success.result)
      }),
    )

  const takenIn = (view: TaskFileView) => {
    const taken = new Set(view.tasks.map((t) => t.id))
    for (const problem of view.invalid) if (problem.taskId !== undefined) taken.add(problem.taskId)
    return (id: string) => taken.has(id)
  }

  return {
    location: path,
    list: () => read.pipe(Effect.map((text) => listingOf(parseTaskFile(text, path)))),
    add: (input) =>
      modify<ScheduledTask>((view) =>
        Result.map(
          prepareNewTask(input, { location: path, clock, ids, taken: takenIn(view), durable: true }),
          (task) => ({ document: withTaskAdded(view.document, task), result: task }),
        ),
      ),
    remove: (id) =>
      modify<boolean>((view) => {
        const { document, removed } = withTaskRemoved(view.document, id)
        return Result.succeed(removed === 0 ? { unchanged: true, result: false } : { document, result: true })
      }),
    markFired: (id, firedAt) =>
      modify<ScheduledTask | undefined>((view) => {
        const { document, task } = withTaskFired(view.document, id, firedAt, path)
        if (task === undefined) return Result.succeed({ unchanged: true, result: undefined })
        const current = view.tasks.find((t) => t.id === id)
        return Result.succeed(
          current?.lastFiredAt === task.lastFiredAt
            ? { unchanged: true, result: task }
            : { document, result: task },
        )
      }),
    watch: (onChange) =>
      Effect.acquireRelease(
        Effect.sync(() => watchTaskFile(path, (change) => onChange(listingOf(change)), options.watch)),
        (w) => Effect.sync(() => w.stop()),
      ).pipe(Effect.asVoid),
  }
}
