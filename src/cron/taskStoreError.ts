import { CodedError, codeTable } from "../errors/codedError.js"
import { messageOf } from "../errors/messageOf.js"
/**
 * Stable code per reason (docs/errors.md). A corrupt file and a corrupt entry share `AGH_TASKS_CORRUPT`: both
 * mean "the tasks file holds something that is not a task"; the reason tells whether writes are refused (only
 * `CorruptFile`).
 * An invalid cron shares `AGH_CRON_INVALID` with the cron module, as the CLI's `cron next` reports it.
 */
export const TASK_STORE_ERROR_CODES = codeTable({
  /** The tasks file as a whole cannot be read as tasks: not JSON, not an object, `tasks` not an array. */
  CorruptFile: "AGH_TASKS_CORRUPT",
  /** Reported, not thrown: one entry of an otherwise readable file fails validation. */
  InvalidTask: "AGH_TASKS_CORRUPT",
  /** A new task's cron expression does not parse. */
  InvalidCron: "AGH_CRON_INVALID",
  /** A new task's other fields are unusable (blank prompt, malformed or taken id, bad timestamp). */
  InvalidInput: "AGH_TASK_INVALID",
  NotFound: "AGH_TASK_NOT_FOUND",
  /** A session-only task was added for a session whose tasks were already dropped (the session ended). */
  SessionEnded: "AGH_TASK_SESSION_ENDED",
  /** A file operation failed (permissions, read-only disk, a directory where the file should be). */
  Io: "AGH_TASKS_IO",
  /** Another writer held the file's write lock for longer than the timeout. */
  Locked: "AGH_TASKS_LOCKED",
})

/** Why a task-store operation failed or what it reports: a key of {@link TASK_STORE_ERROR_CODES}. */
export type TaskStoreErrorReason = keyof typeof TASK_STORE_ERROR_CODES

/**
 * A task-store failure or report. The message names the file (or the session), and for a bad entry its
 * index, its id when it has one, and the field, e.g.
 * `/p/.claude/scheduled_tasks.json: task [2] (id "0badc0de"): field "cron": invalid cron expression ...`.
 */
export class TaskStoreError extends CodedError("TaskStoreError", TASK_STORE_ERROR_CODES)<{
  /** The tasks file, or `session:<id>` for session-only tasks. */
  readonly location: string
  /** For a bad entry: its position in `tasks`. */
  readonly index?: number
  /** The task id concerned, when there is one. */
  readonly taskId?: string
  /** For a bad entry or input: the field at fault (`cron`, `createdAt`, ...). */
  readonly field?: string
}> {}

/** `AGH_TASK_NOT_FOUND` for `id` in `location`. */
export function taskNotFound(location: string, id: string): TaskStoreError {
  return new TaskStoreError({
    reason: "NotFound",
    location,
    taskId: id,
    message: `no task with id ${JSON.stringify(id)} in ${location}`,
  })
}

/** `AGH_TASKS_IO`: `operation` on `path` failed with the system error `cause`. */
export function taskIoError(
  location: string,
  operation: string,
  path: string,
  cause: unknown,
): TaskStoreError {
  const detail = messageOf(cause)
  return new TaskStoreError({
    reason: "Io",
    location,
    message: `cannot ${operation} ${path}: ${detail}`,
    cause,
  })
}
