import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs"
import { dirname } from "node:path"
import { type ClockShape, liveClock } from "../adapters/clock.js"
import { liveIds } from "../adapters/ids.js"
import { liveProcessTable, type ProcessTable } from "../adapters/processInfo.js"

/** A write lock older than this belongs to a writer that crashed: a read-modify-write takes milliseconds. */
export const DEFAULT_TASK_FILE_LOCK_STALE_MS = 10_000

/** What a holder writes into the lock file, so a waiter can tell a crashed holder from a live one. */
export interface TaskFileLockRecord {
  readonly pid: number
  /** The holder's pid namespace (see `ProcessTable.hostId`): pids of other hosts are not probed. */
  readonly host: string
  readonly acquiredAt: number
  /** Tells this holder's lock from a later one at the same path, so release never removes another's. */
  readonly nonce: string
}

/** Options of {@link tryLockTaskFile}. */
export interface TaskFileLockOptions {
  /** Wall clock for lock ages (compared with the lock file's mtime); default the live clock. */
  readonly clock?: ClockShape
  /** Age after which a lock is removed as stale (default {@link DEFAULT_TASK_FILE_LOCK_STALE_MS}). */
  readonly staleMs?: number
  /** Where holders' pids are probed (default the live process table). */
  readonly processTable?: ProcessTable
}

/** One attempt's outcome: the lock with its release, or who holds it. */
export type TaskFileLockAttempt =
  | { readonly acquired: true; readonly release: () => void }
  | { readonly acquired: false; readonly holder: string }

/** `<tasks file>.lock`: the write lock of a tasks file (not the scheduler lock, `scheduled_tasks.lock`). */
export function taskFileLockPath(filePath: string): string {
  return `${filePath}.lock`
}

function readRecord(lockPath: string): TaskFileLockRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(lockPath, "utf8")) as Partial<TaskFileLockRecord>
    return typeof value.pid === "number" && typeof value.nonce === "string"
      ? (value as TaskFileLockRecord)
      : undefined
  } catch {
    // Missing, or caught between its creation and its write: judged by age alone.
    return undefined
  }
}

function openExclusive(lockPath: string): number | undefined {
  try {
    return openSync(lockPath, "wx", 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined
    throw error
  }
}

function create(lockPath: string, record: TaskFileLockRecord): boolean {
  let fd: number | undefined
  try {
    fd = openExclusive(lockPath)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
    // The first writer of a project creates `.claude/`; another may have created it and the lock meanwhile.
    mkdirSync(dirname(lockPath), { recursive: true })
    fd = openExclusive(lockPath)
  }
  if (fd === undefined) return false
  try {
    writeSync(fd, JSON.stringify(record))
  } finally {
    closeSync(fd)
  }
  return true
}

/**
 * Removes the stale lock with inode `ino`. It is renamed aside first and checked: if the rename caught a
 * fresh lock that replaced the stale one in the meantime, that lock is put back (unless yet another exists).
 */
function breakStale(lockPath: string, ino: number, nonce: string): void {
  const aside = `${lockPath}.stale.${process.pid}.${nonce}`
  try {
    renameSync(lockPath, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return
    throw error
  }
  try {
    if (statSync(aside).ino !== ino) {
      try {
        linkSync(aside, lockPath)
      } catch {
        // Another lock took the path: its writer goes first; the one we caught can no longer be restored.
      }
    }
  } finally {
    unlinkSync(aside)
  }
}

/**
 * One attempt at the write lock of `filePath`: an O_EXCL-created `<file>.lock` holding
 * {@link TaskFileLockRecord}. A lock whose holder is dead (same host) or whose file is older than
 * `staleMs` is removed and the attempt repeated once. Synchronous; throws system errors.
 */
export function tryLockTaskFile(filePath: string, options: TaskFileLockOptions = {}): TaskFileLockAttempt {
  const clock = options.clock ?? liveClock
  const table = options.processTable ?? liveProcessTable
  const staleMs = options.staleMs ?? DEFAULT_TASK_FILE_LOCK_STALE_MS
  const lockPath = taskFileLockPath(filePath)
  const record: TaskFileLockRecord = {
    pid: process.pid,
    host: table.hostId,
    acquiredAt: clock.now(),
    nonce: liveIds.uuid(),
  }
  const release = () => {
    // Only our own lock: if ours was broken as stale, the file now belongs to someone else.
    if (readRecord(lockPath)?.nonce !== record.nonce) return
    try {
      unlinkSync(lockPath)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
    }
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    if (create(lockPath, record)) return { acquired: true, release }
    let stat: ReturnType<typeof statSync>
    try {
      stat = statSync(lockPath)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue
      throw error
    }
    const holder = readRecord(lockPath)
    const age = clock.now() - stat.mtimeMs
    const dead = holder !== undefined && holder.host === table.hostId && !table.probe(holder.pid).alive
    if (attempt === 0 && (dead || age > staleMs)) {
      breakStale(lockPath, stat.ino, record.nonce)
      continue
    }
    const who = holder === undefined ? "a writer" : `pid ${holder.pid}`
    return { acquired: false, holder: `${who} (${lockPath}, ${Math.max(0, Math.round(age))} ms old)` }
  }
  return { acquired: false, holder: `a writer (${lockPath})` }
}
