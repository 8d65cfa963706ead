import { mkdirSync, readFileSync } from "node:fs"
import { dirname } from "node:path"
import * as Result from "effect/Result"
import { atomicWriteFile } from "../cron/atomicWriteFile.js"
import { DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS } from "../cron/fileTaskStore.js"
import {
  parseTaskFile,
  type ScheduledTask,
  serializeTaskDocument,
  type TaskFileDocument,
  taskFilePath,
  withTaskFired,
  withTaskRemoved,
} from "../cron/taskFile.js"
import { type TaskFileLockOptions, taskFileLockPath, tryLockTaskFile } from "../cron/taskFileLock.js"
import { TaskStoreError, taskIoError } from "../cron/taskStoreError.js"

/**
 * A fire about to be handed over, as a compare-and-set on the task's `lastFiredAt`: it goes ahead only if
 * nobody recorded a fire after the time this schedule was computed from.
 */
export interface ClaimRequest {
  readonly taskId: string
  /** `fromMs` of the computation that produced this fire: `lastFiredAt ?? createdAt` as this scheduler knew it. */
  readonly base: number
  /** What to record: the fire time (the now of a late, missed fire). */
  readonly lastFiredAt: number
  /** One-shot tasks fire once: any recorded `lastFiredAt` means they fired. */
  readonly oneShot: boolean
  /** The occurrence's jittered fire time (for the record; the file does not keep it). */
  readonly fireAt?: number
}

/** How a claim ended. */
export type ClaimOutcome =
  /** Recorded: this scheduler hands the prompt over. */
  | { readonly kind: "claimed"; readonly task: ScheduledTask }
  /** Another scheduler fired it already (a lock handover raced this fire): skip. */
  | { readonly kind: "alreadyFired"; readonly lastFiredAt: number }
  /** The task is no longer in the file. */
  | { readonly kind: "gone" }

type Op =
  | {
      readonly kind: "claim"
      readonly request: ClaimRequest
      readonly resolve: (outcome: ClaimOutcome) => void
      readonly reject: (error: TaskStoreError) => void
    }
  | {
      readonly kind: "remove"
      readonly taskId: string
      readonly resolve: (removed: boolean) => void
      readonly reject: (error: TaskStoreError) => void
    }

/** Options of {@link makeTaskFileEditor}. */
export interface TaskFileEditorOptions {
  readonly lock?: TaskFileLockOptions & { readonly timeoutMs?: number }
}

/** The scheduler's writes to a project's tasks file, batched. */
export interface TaskFileEditor {
  readonly path: string
  /** Records a fire if nobody else did (see {@link ClaimRequest}). Rejects with a {@link TaskStoreError}. */
  readonly claim: (request: ClaimRequest) => Promise<ClaimOutcome>
  /** Removes a task (one-shot fired, expired, never fires again); false when it was not there. */
  readonly remove: (taskId: string) => Promise<boolean>
  /** Resolves once every queued edit is written (or refused). */
  readonly flush: () => Promise<void>
}

/** Same bound as the task store: a writer that ignores our lock gets this many chances. */
const MAX_SWAP_ATTEMPTS = 20

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null
    throw error
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Writes of the project scheduler to `<project>/.claude/scheduled_tasks.json`, with the same protocol as
 * the task store (write lock, re-read, atomic replace checked against the text read; docs/scheduled-tasks.md)
 * and two differences:
 * - a fire is a compare-and-set: under the write lock, the file's `lastFiredAt` is checked before it is
 *   moved on, so two hosts racing a scheduler-lock handover cannot both fire one slot;
 * - edits queued while a write is in flight go out together in the next one (group commit): 10k tasks that
 *   fall due in the same minute are a handful of rewrites of the file, not 10k.
 *
 * @example
 * const editor = makeTaskFileEditor(projectDir)
 * const outcome = await editor.claim({ taskId: "0a1b2c3d", base: createdAt, lastFiredAt: fireAt, oneShot: false })
 * if (outcome.kind === "claimed") await handOver(prompt)
 */
export function makeTaskFileEditor(projectDir: string, options: TaskFileEditorOptions = {}): TaskFileEditor {
  const path = taskFilePath(projectDir)
  const timeoutMs = options.lock?.timeoutMs ?? DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS
  let queue: Op[] = []
  let running: Promise<void> | undefined

  const acquire = async (): Promise<() => void> => {
    let waited = 0
    for (let attempt = 0; ; attempt++) {
      const outcome = tryLockTaskFile(path, options.lock)
      if (outcome.acquired) return outcome.release
      if (waited >= timeoutMs) {
        throw new TaskStoreError({
          reason: "Locked",
          location: path,
          message: `${path}: the write lock is held by ${outcome.holder}; gave up after ${waited} ms`,
        })
      }
      // The store's own backoff: a write holds the lock for about two fsyncs.
      const ms = Math.min(2 ** attempt, 16)
      waited += ms
      await pause(ms)
    }
  }

  /** Applies the batch to the document; returns the new document, or undefined when nothing changes. */
  const apply = (document: TaskFileDocument, tasks: ReadonlyArray<ScheduledTask>, batch: Op[]) => {
    const outcomes: Array<ClaimOutcome | boolean> = []
    const lastFired = new Map(tasks.map((t) => [t.id, t.lastFiredAt]))
    let doc = document
    let changed = false
    for (const op of batch) {
      if (op.kind === "remove") {
        const edit = withTaskRemoved(doc, op.taskId)
        lastFired.delete(op.taskId)
        if (edit.removed > 0) {
          doc = edit.document
          changed = true
        }
        outcomes.push(edit.removed > 0)
        continue
      }
      const { taskId, base, lastFiredAt, oneShot } = op.request
      if (!lastFired.has(taskId)) {
        outcomes.push({ kind: "gone" })
        continue
      }
      const stored = lastFired.get(taskId)
      if (stored !== undefined && (oneShot || stored > base)) {
        outcomes.push({ kind: "alreadyFired", lastFiredAt: stored })
        continue
      }
      const edit = withTaskFired(doc, taskId, lastFiredAt, path)
      if (edit.task === undefined) {
        outcomes.push({ kind: "gone" })
        continue
      }
      doc = edit.document
      changed = true
      lastFired.set(taskId, edit.task.lastFiredAt)
      outcomes.push({ kind: "claimed", task: edit.task })
    }
    return { document: changed ? doc : undefined, outcomes }
  }

  const settle = (batch: Op[], outcomes: ReadonlyArray<ClaimOutcome | boolean>) => {
    batch.forEach((op, i) => {
      const outcome = outcomes[i]
      if (op.kind === "remove") op.resolve(outcome === true)
      else op.resolve(outcome as ClaimOutcome)
    })
  }

  const fail = (batch: Op[], error: TaskStoreError) => {
    for (const op of batch) op.reject(error)
  }

  const write = async (batch: Op[]): Promise<void> => {
    let release: () => void
    try {
      release = await acquire()
    } catch (error) {
      fail(
        batch,
        error instanceof TaskStoreError ? error : taskIoError(path, "lock", taskFileLockPath(path), error),
      )
      return
    }
    try {
      for (let attempt = 0; attempt < MAX_SWAP_ATTEMPTS; attempt++) {
        const before = readText(path)
        const view = parseTaskFile(before, path)
        if (Result.isFailure(view)) {
          fail(batch, view.failure)
          return
        }
        const { document, outcomes } = apply(view.success.document, view.success.tasks, batch)
        if (document === undefined) {
          settle(batch, outcomes)
          return
        }
        mkdirSync(dirname(path), { recursive: true })
        if (atomicWriteFile(path, serializeTaskDocument(document), () => readText(path) === before)) {
          settle(batch, outcomes)
          return
        }
      }
      fail(
        batch,
        new TaskStoreError({
          reason: "Locked",
          location: path,
          message: `${path}: changed by another writer during each of ${MAX_SWAP_ATTEMPTS} attempts to update it`,
        }),
      )
    } catch (error) {
      fail(batch, taskIoError(path, "write", path, error))
    } finally {
      try {
        release()
      } catch {
        // A lock we cannot remove goes stale and is broken by the next writer.
      }
    }
  }

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue
      queue = []
      await write(batch)
    }
  }

  const kick = () => {
    if (running !== undefined || queue.length === 0) return
    // A macrotask later, so every fire of this clock step joins the first write.
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(drain).finally(() => {
      running = undefined
      kick()
    })
  }

  const enqueue = (op: Op) => {
    queue.push(op)
    kick()
  }

  return {
    path,
    claim: (request) =>
      new Promise<ClaimOutcome>((resolve, reject) => enqueue({ kind: "claim", request, resolve, reject })),
    remove: (taskId) =>
      new Promise<boolean>((resolve, reject) => enqueue({ kind: "remove", taskId, resolve, reject })),
    flush: async () => {
      while (running !== undefined) await running
    },
  }
}
