import * as fs from "node:fs"
import { EventLogError } from "./eventLogError.js"

/** Contents of a `<stream>.aglog.lock` file. */
interface LockOwner {
  readonly pid: number
  readonly token: string
  readonly acquiredAt: number
}

let counter = 0

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM"
  }
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(lockPath, "utf8")) as Partial<LockOwner>
    return typeof parsed.pid === "number" && typeof parsed.token === "string"
      ? { pid: parsed.pid, token: parsed.token, acquiredAt: Number(parsed.acquiredAt) }
      : undefined
  } catch {
    return undefined
  }
}

/** A held writer lock; `release` removes the file if it is still ours. */
export interface StreamLock {
  readonly path: string
  readonly release: () => void
}

/**
 * Takes the advisory writer lock of a stream: `<log>.lock`, created with O_EXCL and holding
 * `{ pid, token, acquiredAt }`. A lock whose pid is alive — this process included — means another
 * writer (`AlreadyOpen`); a lock whose pid is dead, or that is unreadable, is stale (its writer
 * crashed) and is replaced once. Advisory: it keeps agenthost processes apart, not other programs.
 */
export function acquireStreamLock(lockPath: string, stream: string, now: number): StreamLock {
  const owner: LockOwner = { pid: process.pid, token: `${process.pid}-${++counter}-${now}`, acquiredAt: now }
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(lockPath, "wx", 0o644)
      try {
        fs.writeSync(fd, JSON.stringify(owner))
      } finally {
        fs.closeSync(fd)
      }
      return {
        path: lockPath,
        release: () => {
          if (readOwner(lockPath)?.token === owner.token) fs.rmSync(lockPath, { force: true })
        },
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== "EEXIST") {
        throw new EventLogError({
          reason: code === "EACCES" || code === "EPERM" || code === "EROFS" ? "Unreadable" : "WriteFailed",
          stream,
          location: lockPath,
          message: `cannot create writer lock ${lockPath}: ${(err as Error).message}`,
          cause: err,
        })
      }
    }
    const holder = readOwner(lockPath)
    if (attempt === 0 && (holder === undefined || !isAlive(holder.pid))) {
      fs.rmSync(lockPath, { force: true })
      continue
    }
    const who = holder ? `pid ${holder.pid}${holder.pid === process.pid ? " (this process)" : ""}` : "unknown"
    throw new EventLogError({
      reason: "AlreadyOpen",
      stream,
      location: lockPath,
      message: `event log stream ${stream} already has a writer: ${who}, lock file ${lockPath}`,
    })
  }
}
