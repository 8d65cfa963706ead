import { mkdirSync, readFileSync } from "node:fs"
import { dirname } from "node:path"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { type ClockShape, liveClock } from "../adapters/clock.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import { atomicWriteFile } from "./atomicWriteFile.js"
import {
  parseTaskFile,
  type ScheduledTask,
  serializeTaskDocument,
  type TaskFileDocument,
  type TaskFileView,
  taskFilePath,
  withTaskAdded,
  withTaskFired,
  withTaskRemoved,
} from "./taskFile.js"
import { type TaskFileLockOptions, taskFileLockPath, tryLockTaskFile } from "./taskFileLock.js"
import { type TaskFileWatchOptions, watchTaskFile } from "./taskFileWatcher.js"
import { prepareNewTask, type TaskListing, type TaskStore } from "./taskStore.js"
import { TaskStoreError, taskIoError } from "./taskStoreError.js"

/** How long a writer waits for another writer's lock before giving up with `AGH_TASKS_LOCKED`. */
export const DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS = 15_000

/**
 * How often one read-modify-write is redone because the file changed under it (a writer that does not
 * take our lock, such as Claude Code) before the write is given up with `AGH_TASKS_LOCKED`.
 */
const MAX_SWAP_ATTEMPTS = 20

/** Options of {@link makeFileTaskStore}. */
export interface FileTaskStoreOptions {
  /** `createdAt` of new tasks (default the live clock). */
  readonly clock?: ClockShape
  /** Ids of new tasks (default random). */
  readonly ids?: IdsShape
  /** The write lock; `timeoutMs` bounds the wait (default {@link DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS}). */
  readonly lock?: TaskFileLockOptions & { readonly timeoutMs?: number }
  readonly watch?: TaskFileWatchOptions
}

/** One edit of the file: the new document and the result, or `unchanged` with the result (nothing written). */
type Edit<A> =
  | { readonly document: TaskFileDocument; readonly result: A }
  | { readonly unchanged: true; readonly result: A }

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null
    throw error
  }
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
  const lockTimeoutMs = options.lock?.timeoutMs ?? DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS
  let lastGood: TaskFileView | undefined

  const listingOf = (view: Result.Result<TaskFileView, TaskStoreError>): TaskListing => {
    if (Result.isSuccess(view)) {
      lastGood = view.success
      return { tasks: view.success.tasks, invalid: view.success.invalid }
    }
    return { tasks: lastGood?.tasks ?? [], invalid: lastGood?.invalid ?? [], error: view.failure }
  }

  const read = Effect.try({
    try: () => readText(path),
    catch: (error) => taskIoError(path, "read", path, error),
  })

  const acquireLock = Effect.fnUntraced(function* () {
    let waited = 0
    for (let attempt = 0; ; attempt++) {
      const outcome = yield* Effect.try({
        try: () => tryLockTaskFile(path, options.lock),
        catch: (error) => taskIoError(path, "lock", taskFileLockPath(path), error),
      })
      if (outcome.acquired) return outcome.release
      if (waited >= lockTimeoutMs) {
        return yield* Effect.fail(
          new TaskStoreError({
            reason: "Locked",
            location: path,
            message: `${path}: the write lock is held by ${outcome.holder}; gave up after ${waited} ms`,
          }),
        )
      }
      // A write holds the lock for about two fsyncs (~20 ms on a plain disk): poll fast, settle at 16 ms.
      const pause = Math.min(2 ** attempt, 16)
      waited += pause
      yield* Effect.sleep(pause)
    }
  })

  /** Read-modify-write under the lock; `edit` sees the file as it is now. */
  const modify = <A>(edit: (view: TaskFileView) => Result.Result<Edit<A>, TaskStoreError>) =>
    Effect.acquireUseRelease(
      acquireLock(),
      () =>
        Effect.try({
          try: () => {
            for (let attempt = 0; attempt < MAX_SWAP_ATTEMPTS; attempt++) {
              const before = readText(path)
              const view = parseTaskFile(before, path)
              listingOf(view)
              if (Result.isFailure(view)) return Result.fail(view.failure)
              const edited = edit(view.success)
              if (Result.isFailure(edited) || "unchanged" in edited.success) return edited
              const text = serializeTaskDocument(edited.success.document)
              mkdirSync(dirname(path), { recursive: true })
              if (atomicWriteFile(path, text, () => readText(path) === before)) {
                listingOf(parseTaskFile(text, path))
                return edited
              }
            }
            return Result.fail(
              new TaskStoreError({
                reason: "Locked",
                location: path,
                message: `${path}: changed by another writer during each of ${MAX_SWAP_ATTEMPTS} attempts to update it`,
              }),
            )
          },
          catch: (error) => taskIoError(path, "write", path, error),
        }).pipe(
          Effect.flatMap((r) =>
            Result.isSuccess(r) ? Effect.succeed(r.success.result) : Effect.fail(r.failure),
          ),
        ),
      (release) =>
        Effect.sync(() => {
          try {
            release()
          } catch {
            // A lock we cannot remove goes stale and is broken by the next writer.
          }
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
