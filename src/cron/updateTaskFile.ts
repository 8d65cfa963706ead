import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import * as Result from "effect/Result"
import { atomicWriteFile } from "./atomicWriteFile.js"
import { readTextIfExists } from "./readTextIfExists.js"
import { parseTaskFile, serializeTaskDocument, type TaskFileDocument, type TaskFileView } from "./taskFile.js"
import { type TaskFileLockOptions, taskFileLockPath, tryLockTaskFile } from "./taskFileLock.js"
import { TaskStoreError, taskIoError } from "./taskStoreError.js"

/** How long a writer waits for another writer's lock before giving up with `AGH_TASKS_LOCKED`. */
export const DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS = 15_000

/**
 * How often one read-modify-write is redone because the file changed under it (a writer that does not
 * take our lock, such as Claude Code) before the write is given up with `AGH_TASKS_LOCKED`.
 */
const MAX_SWAP_ATTEMPTS = 20

/** The write lock of an update; `timeoutMs` bounds the wait (default {@link DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS}). */
export type TaskFileWriteLockOptions = TaskFileLockOptions & { readonly timeoutMs?: number }

/** One edit of the file: the new document and the result, or `unchanged` with the result (nothing written). */
export type TaskFileEdit<A> =
  | { readonly document: TaskFileDocument; readonly result: A }
  | { readonly unchanged: true; readonly result: A }

/** What an update did: the edit's result, and the text it wrote (undefined when the edit changed nothing). */
export interface TaskFileUpdate<A> {
  readonly result: A
  readonly written: string | undefined
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function acquireWriteLock(
  path: string,
  lock: TaskFileWriteLockOptions | undefined,
): Promise<Result.Result<() => void, TaskStoreError>> {
  const timeoutMs = lock?.timeoutMs ?? DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS
  let waited = 0
  for (let attempt = 0; ; attempt++) {
    let outcome: ReturnType<typeof tryLockTaskFile>
    try {
      outcome = tryLockTaskFile(path, lock)
    } catch (error) {
      return Result.fail(taskIoError(path, "lock", taskFileLockPath(path), error))
    }
    if (outcome.acquired) return Result.succeed(outcome.release)
    if (waited >= timeoutMs) {
      return Result.fail(
        new TaskStoreError({
          reason: "Locked",
          location: path,
          message: `${path}: the write lock is held by ${outcome.holder}; gave up after ${waited} ms`,
        }),
      )
    }
    // A write holds the lock for about two fsyncs (~20 ms on a plain disk): poll fast, settle at 16 ms.
    const ms = Math.min(2 ** attempt, 16)
    waited += ms
    await pause(ms)
  }
}

/** Read, edit, compare-and-swap, under the write lock the caller holds. Throws system errors. */
function rewrite<A>(
  path: string,
  edit: (view: TaskFileView) => Result.Result<TaskFileEdit<A>, TaskStoreError>,
): Result.Result<TaskFileUpdate<A>, TaskStoreError> {
  for (let attempt = 0; attempt < MAX_SWAP_ATTEMPTS; attempt++) {
    const before = readTextIfExists(path)
    const view = parseTaskFile(before, path)
    if (Result.isFailure(view)) return Result.fail(view.failure)
    const edited = edit(view.success)
    if (Result.isFailure(edited)) return Result.fail(edited.failure)
    const { result } = edited.success
    if ("unchanged" in edited.success) return Result.succeed({ result, written: undefined })
    const text = serializeTaskDocument(edited.success.document)
    mkdirSync(dirname(path), { recursive: true })
    if (atomicWriteFile(path, text, () => readTextIfExists(path) === before)) {
      return Result.succeed({ result, written: text })
    }
  }
  return Result.fail(
    new TaskStoreError({
      reason: "Locked",
      location: path,
      message: `${path}: changed by another writer during each of ${MAX_SWAP_ATTEMPTS} attempts to update it`,
    }),
  )
}

/**
 * One write to a tasks file, by the protocol every writer follows (docs/scheduled-tasks.md): take the file's
 * write lock (`<file>.lock`, waiting up to `timeoutMs`), re-read and re-parse the file, apply `edit` to that
 * view — unknown fields and invalid entries kept — and replace the file atomically; just before the rename
 * the file is compared with what was read, and the edit redone if another writer changed it meanwhile.
 * A corrupt file is never written (`AGH_TASKS_CORRUPT`). Never rejects: a lock held too long
 * (`AGH_TASKS_LOCKED`), an I/O error (`AGH_TASKS_IO`) and the edit's own refusal are failures of the result.
 *
 * @example
 * const update = await updateTaskFile(path, (view) =>
 *   Result.succeed({ document: withTaskRemoved(view.document, id).document, result: true }),
 * )
 */
export async function updateTaskFile<A>(
  path: string,
  edit: (view: TaskFileView) => Result.Result<TaskFileEdit<A>, TaskStoreError>,
  lock?: TaskFileWriteLockOptions,
): Promise<Result.Result<TaskFileUpdate<A>, TaskStoreError>> {
  const acquired = await acquireWriteLock(path, lock)
  if (Result.isFailure(acquired)) return Result.fail(acquired.failure)
  try {
    return rewrite(path, edit)
  } catch (error) {
    return Result.fail(taskIoError(path, "write", path, error))
  } finally {
    try {
      acquired.success()
    } catch {
      // A lock we cannot remove goes stale and is broken by the next writer.
    }
  }
}
