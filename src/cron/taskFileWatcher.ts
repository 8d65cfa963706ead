import { type FSWatcher, statSync, watch } from "node:fs"
import { basename, dirname } from "node:path"
import * as Result from "effect/Result"
import { type ClockShape, liveClock, type TimerHandle } from "../adapters/clock.js"
import { readTextIfExists } from "./readTextIfExists.js"
import { parseTaskFile, type TaskFileView } from "./taskFile.js"
import { type TaskStoreError, taskIoError } from "./taskStoreError.js"

/** Events that arrive closer together than this are one change (a writer's temp file, rename, lock). */
export const DEFAULT_TASK_WATCH_DEBOUNCE_MS = 50

/**
 * How often the file is re-read regardless of events: `fs.watch` misses changes on network file systems
 * and cannot watch a directory that does not exist yet. Reading a small file every few seconds is cheap.
 */
export const DEFAULT_TASK_WATCH_POLL_MS = 2_000

/** What a watcher reports: the file's new view, or why it cannot be read (`AGH_TASKS_CORRUPT`, `AGH_TASKS_IO`). */
export type TaskFileChange = Result.Result<TaskFileView, TaskStoreError>

/** Options of {@link watchTaskFile}. */
export interface TaskFileWatchOptions {
  /** Arms the debounce and poll timers (default the live clock). */
  readonly clock?: ClockShape
  readonly debounceMs?: number
  /** 0 turns the safety poll off. */
  readonly pollMs?: number
}

/** A running watch. */
export interface TaskFileWatch {
  /** Stops watching; no callback runs afterwards. */
  readonly stop: () => void
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * Watches a tasks file that other processes replace by rename (so the directory is watched, not the
 * file's inode). Calls `onChange` once with the current contents shortly after starting, then after every
 * change of the file's text, debounced: with the new view (a missing file is an empty one), or with the
 * error when the file is corrupt or unreadable. A text seen last time is not reported again, so a
 * rewrite with identical content is silent. When `.claude/` does not exist yet, its parent is watched
 * until it appears. Callbacks run on timers, never inside `watchTaskFile`.
 *
 * @example
 * const watch = watchTaskFile(taskFilePath(project), (change) => {
 *   if (Result.isSuccess(change)) reschedule(change.success.tasks)
 *   else console.error(change.failure.code, change.failure.message) // keep the last good schedule
 * })
 * // later: watch.stop()
 */
export function watchTaskFile(
  path: string,
  onChange: (change: TaskFileChange) => void,
  options: TaskFileWatchOptions = {},
): TaskFileWatch {
  const clock = options.clock ?? liveClock
  const debounceMs = options.debounceMs ?? DEFAULT_TASK_WATCH_DEBOUNCE_MS
  const pollMs = options.pollMs ?? DEFAULT_TASK_WATCH_POLL_MS
  const dir = dirname(path)
  const fileName = basename(path)
  const dirName = basename(dir)
  let stopped = false
  let watcher: FSWatcher | undefined
  let watchedDir: string | undefined
  let debounce: TimerHandle | undefined
  let pendingSince = 0
  let poll: TimerHandle | undefined
  /** The text last reported (`null`: missing), or the last I/O error message; undefined before the first. */
  let last: { readonly text: string | null } | { readonly io: string } | undefined

  const closeWatcher = () => {
    watcher?.close()
    watcher = undefined
    watchedDir = undefined
  }

  const arm = () => {
    const target = isDirectory(dir) ? dir : dirname(dir)
    if (watcher !== undefined && watchedDir === target) return
    closeWatcher()
    try {
      const w = watch(target, { persistent: false }, (_event, name) => {
        const relevant = name === null || name === (target === dir ? fileName : dirName)
        if (relevant) schedule()
      })
      // The directory was removed or cannot be watched any more: the next poll or event re-arms.
      w.on("error", () => {
        if (watcher === w) closeWatcher()
        schedule()
      })
      watcher = w
      watchedDir = target
    } catch {
      // Not watchable (missing, permissions): the poll still reads the file.
    }
  }

  const reload = () => {
    if (stopped) return
    arm()
    let text: string | null
    try {
      text = readTextIfExists(path)
    } catch (error) {
      const failure = taskIoError(path, "read", path, error)
      if (last !== undefined && "io" in last && last.io === failure.message) return
      last = { io: failure.message }
      onChange(Result.fail(failure))
      return
    }
    if (last !== undefined && "text" in last && last.text === text) return
    last = { text }
    onChange(parseTaskFile(text, path))
  }

  // Trailing debounce, but a steady stream of events cannot hold a reload off for more than 10 windows.
  function schedule() {
    if (stopped) return
    const now = clock.now()
    if (debounce !== undefined) {
      if (now - pendingSince >= debounceMs * 10) return
      clock.clearTimeout(debounce)
    } else {
      pendingSince = now
    }
    debounce = clock.setTimeout(() => {
      debounce = undefined
      reload()
    }, debounceMs)
  }

  const armPoll = () => {
    if (pollMs <= 0 || stopped) return
    poll = clock.setTimeout(() => {
      poll = undefined
      reload()
      armPoll()
    }, pollMs)
  }

  arm()
  schedule()
  armPoll()
  return {
    stop: () => {
      stopped = true
      closeWatcher()
      if (debounce !== undefined) clock.clearTimeout(debounce)
      if (poll !== undefined) clock.clearTimeout(poll)
      debounce = undefined
      poll = undefined
    },
  }
}
