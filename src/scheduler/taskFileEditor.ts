import * as Result from "effect/Result"
import {
  type ScheduledTask,
  type TaskFileView,
  taskFilePath,
  withTaskFired,
  withTaskRemoved,
} from "../cron/taskFile.js"
import type { TaskStoreError } from "../cron/taskStoreError.js"
import { type TaskFileEdit, type TaskFileWriteLockOptions, updateTaskFile } from "../cron/updateTaskFile.js"

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
  readonly lock?: TaskFileWriteLockOptions
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

/**
 * Writes of the project scheduler to `<project>/.claude/scheduled_tasks.json`, through the task store's own
 * write protocol ({@link updateTaskFile}: write lock, re-read, atomic replace checked against the text read;
 * docs/scheduled-tasks.md) with two differences:
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
  let queue: Op[] = []
  let running: Promise<void> | undefined

  /** Applies the batch to the document, with each op's outcome. */
  const apply = (view: TaskFileView, batch: Op[]): TaskFileEdit<Array<ClaimOutcome | boolean>> => {
    const outcomes: Array<ClaimOutcome | boolean> = []
    const lastFired = new Map(view.tasks.map((t) => [t.id, t.lastFiredAt]))
    let doc = view.document
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
    return changed ? { document: doc, result: outcomes } : { unchanged: true, result: outcomes }
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
    const update = await updateTaskFile(path, (view) => Result.succeed(apply(view, batch)), options.lock)
    if (Result.isSuccess(update)) settle(batch, update.success.result)
    else fail(batch, update.failure)
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
