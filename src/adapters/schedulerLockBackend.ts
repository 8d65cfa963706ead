import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs"
import { type ClockShape, liveClock } from "./clock.js"
import { liveIds } from "./ids.js"
import { liveProcessTable, type ProcessTable } from "./processInfo.js"
import { SchedulerLockError } from "./schedulerLockError.js"
import {
  acquireProgram,
  DEFAULT_CORRUPT_GRACE_MS,
  inspectProgram,
  type LockOp,
  type LockProgramInput,
  releaseProgram,
  runLockProgram,
} from "./schedulerLockProtocol.js"
import {
  type FileSnapshot,
  type LockActor,
  type LockDecision,
  type LockInspection,
  type LockResult,
  schedulerLockPath,
} from "./schedulerLockRecord.js"

/** Options of one acquisition. */
export interface AcquireOptions {
  /** The pid to record; defaults to this process (or the memory world's own pid). */
  readonly pid?: number
  /** Called with each ownership decision, in order, so it can be logged. */
  readonly onDecision?: (decision: LockDecision) => void
  /** How long a torn lock file counts as mid-write rather than stale (default 5 s). */
  readonly corruptGraceMs?: number
}

/** Options of a release. */
export interface ReleaseOptions {
  readonly pid?: number
  readonly onDecision?: (decision: LockDecision) => void
}

/**
 * The options that release a lock taken with `options`: the same pid and decision sink, and nothing else
 * (a release judges claims with the default grace, whatever the acquisition used).
 */
export function releaseOptionsOf(options: AcquireOptions | undefined): ReleaseOptions {
  return {
    ...(options?.pid === undefined ? {} : { pid: options.pid }),
    ...(options?.onDecision === undefined ? {} : { onDecision: options.onDecision }),
  }
}

/**
 * The lock's synchronous core, over real files or the memory world. Synchronous on purpose: a release
 * must run inside a process `exit` handler, and a retry loop on a manual clock must take the lock inside
 * `advance()`. Failures throw {@link SchedulerLockError}.
 */
export interface SchedulerLockBackend {
  readonly tryAcquire: (projectDir: string, sessionId: string, options?: AcquireOptions) => LockResult
  /** Removes the lock if this pid holds it for `sessionId`; true when it did. */
  readonly release: (projectDir: string, sessionId: string, options?: ReleaseOptions) => boolean
  readonly inspect: (projectDir: string) => LockInspection
  /** The clock retry loops should arm their timers on. */
  readonly clock: ClockShape
  /** True when the lock belongs to this OS process, so process exit should release it. */
  readonly processBound: boolean
}

/** What a backend is built from: an executor of file/process ops and the process table it probes. */
export interface LockEnvironment {
  /** Executes every op but `decide`. */
  readonly execute: (op: LockOp) => unknown
  readonly table: ProcessTable
  readonly defaultPid: number
  readonly clock: ClockShape
  readonly processBound: boolean
}

function invalid(path: string, message: string): SchedulerLockError {
  return new SchedulerLockError({ reason: "Invalid", path, message })
}

/** Builds a backend: validates arguments, runs the protocol's programs on the environment. */
export function makeLockBackend(env: LockEnvironment): SchedulerLockBackend {
  const actor = (pid: number): LockActor => {
    const startTime = env.table.probe(pid).startTime
    return { pid, ...(startTime === undefined ? {} : { procStart: startTime }), host: env.table.hostId }
  }
  let defaultActor: LockActor | undefined
  const selfOf = (lockPath: string, pid: number | undefined): LockActor => {
    if (pid === undefined) {
      defaultActor ??= actor(env.defaultPid)
      return defaultActor
    }
    if (!Number.isSafeInteger(pid) || pid <= 0) throw invalid(lockPath, `invalid pid ${pid} for ${lockPath}`)
    return actor(pid)
  }
  const input = (
    projectDir: string,
    sessionId: string,
    options: { readonly pid?: number; readonly corruptGraceMs?: number } | undefined,
  ): LockProgramInput => {
    const lockPath = schedulerLockPath(projectDir)
    if (typeof sessionId !== "string" || sessionId === "" || sessionId.length > 1024) {
      throw invalid(lockPath, `invalid session id ${JSON.stringify(sessionId)} for ${lockPath}`)
    }
    const grace = options?.corruptGraceMs ?? DEFAULT_CORRUPT_GRACE_MS
    if (!Number.isFinite(grace) || grace < 0) {
      throw invalid(lockPath, `invalid corruptGraceMs ${grace} for ${lockPath}`)
    }
    return { lockPath, sessionId, self: selfOf(lockPath, options?.pid), corruptGraceMs: grace }
  }
  const executor =
    (onDecision: ((decision: LockDecision) => void) | undefined) =>
    (op: LockOp): unknown => {
      if (op.op !== "decide") return env.execute(op)
      onDecision?.(op.decision)
      return undefined
    }
  return {
    tryAcquire: (projectDir, sessionId, options) =>
      runLockProgram(acquireProgram(input(projectDir, sessionId, options)), executor(options?.onDecision)),
    release: (projectDir, sessionId, options) =>
      runLockProgram(releaseProgram(input(projectDir, sessionId, options)), executor(options?.onDecision)),
    inspect: (projectDir) =>
      runLockProgram(inspectProgram(schedulerLockPath(projectDir)), executor(undefined)),
    clock: env.clock,
    processBound: env.processBound,
  }
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined
}

/** Reads at most this much of a lock file: anything longer is not ours and parses as torn anyway. */
const MAX_READ_BYTES = 64 * 1024

function readSnapshot(path: string): FileSnapshot | undefined {
  let fd: number
  try {
    fd = openSync(path, "r")
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined
    throw error
  }
  try {
    const st = fstatSync(fd, { bigint: true })
    const buffer = Buffer.alloc(Math.min(Number(st.size), MAX_READ_BYTES))
    let filled = 0
    while (filled < buffer.length) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, filled)
      if (n === 0) break
      filled += n
    }
    return {
      text: buffer.subarray(0, filled).toString("utf8"),
      ino: String(st.ino),
      mtimeMs: Number(st.mtimeMs),
    }
  } finally {
    closeSync(fd)
  }
}

/** Filesystems without hard links answer `link` with one of these; claims then fall back to O_EXCL. */
const NO_LINK_CODES = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK"])

function createComplete(path: string, tmp: string, text: string): boolean {
  writeFileSync(tmp, text, { flag: "wx", mode: 0o644 })
  try {
    linkSync(tmp, path)
    return true
  } catch (error) {
    const code = errnoOf(error)
    if (code === "EEXIST") return false
    if (code === undefined || !NO_LINK_CODES.has(code)) throw error
  } finally {
    rmSync(tmp, { force: true })
  }
  try {
    writeFileSync(path, text, { flag: "wx", mode: 0o644 })
    return true
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return false
    throw error
  }
}

function performLive(op: Exclude<LockOp, { op: "decide" }>, clock: ClockShape, table: ProcessTable): unknown {
  switch (op.op) {
    case "mkdir":
      mkdirSync(op.dir, { recursive: true })
      return undefined
    case "read":
      return readSnapshot(op.path)
    case "openExcl": {
      let fd: number
      try {
        fd = openSync(op.path, "wx", 0o644)
      } catch (error) {
        if (errnoOf(error) === "EEXIST") return undefined
        throw error
      }
      return { handle: fd, ino: String(fstatSync(fd, { bigint: true }).ino) }
    }
    case "write": {
      const bytes = Buffer.from(op.text, "utf8")
      let written = 0
      while (written < bytes.length) written += writeSync(op.handle, bytes, written, bytes.length - written)
      return undefined
    }
    case "close":
      closeSync(op.handle)
      return undefined
    case "ino":
      try {
        return String(statSync(op.path, { bigint: true }).ino)
      } catch (error) {
        if (errnoOf(error) === "ENOENT") return undefined
        throw error
      }
    case "createComplete":
      return createComplete(op.path, op.tmp, op.text)
    case "replace":
      writeFileSync(op.tmp, op.text, { flag: "wx", mode: 0o644 })
      try {
        renameSync(op.tmp, op.path)
      } catch (error) {
        rmSync(op.tmp, { force: true })
        throw error
      }
      return undefined
    case "unlink":
      try {
        unlinkSync(op.path)
        return true
      } catch (error) {
        if (errnoOf(error) === "ENOENT") return false
        throw error
      }
    case "list":
      try {
        return readdirSync(op.dir)
      } catch (error) {
        if (errnoOf(error) === "ENOENT") return []
        throw error
      }
    case "now":
      return clock.now()
    case "nonce":
      return liveIds.uuid().replaceAll("-", "")
    case "probe":
      return table.probe(op.pid)
  }
}

function opTarget(op: LockOp): string {
  switch (op.op) {
    case "mkdir":
    case "list":
      return op.dir
    case "read":
    case "openExcl":
    case "ino":
    case "createComplete":
    case "replace":
    case "unlink":
      return op.path
    default:
      return ""
  }
}

/** Executes ops on real files, turning unexpected errors into `AGH_LOCK_IO` naming the file and op. */
export function liveLockExecutor(
  clock: ClockShape = liveClock,
  table: ProcessTable = liveProcessTable,
): (op: LockOp) => unknown {
  return (op) => {
    if (op.op === "decide") return undefined
    try {
      return performLive(op, clock, table)
    } catch (error) {
      if (error instanceof SchedulerLockError) throw error
      const path = opTarget(op)
      const code = errnoOf(error) ?? String(error)
      throw new SchedulerLockError({
        reason: "Io",
        path,
        message: `scheduler lock: ${op.op} ${path} failed: ${code}`,
        cause: error,
      })
    }
  }
}

/** The backend over real files, this process's pid and the real process table. */
export function liveSchedulerLockBackend(
  clock: ClockShape = liveClock,
  table: ProcessTable = liveProcessTable,
): SchedulerLockBackend {
  return makeLockBackend({
    execute: liveLockExecutor(clock, table),
    table,
    defaultPid: process.pid,
    clock,
    processBound: true,
  })
}
