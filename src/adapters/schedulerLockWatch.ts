import type { ClockShape, TimerHandle } from "./clock.js"
import { releaseOnProcessExit } from "./releaseOnExit.js"
import {
  type AcquireOptions,
  liveSchedulerLockBackend,
  releaseOptionsOf,
  type SchedulerLockBackend,
} from "./schedulerLockBackend.js"
import { SchedulerLockError } from "./schedulerLockError.js"
import type { LockInspection, LockResult, SchedulerLockRecord } from "./schedulerLockRecord.js"

/** Where the lock lives and how a hold ends. */
export interface HoldOptions extends AcquireOptions {
  /** Real files by default; a `MemoryLockWorld` backend in tests. */
  readonly backend?: SchedulerLockBackend
  /** Release on process exit and on SIGINT/SIGTERM/SIGHUP (default true; ignored off real files). */
  readonly releaseOnExit?: boolean
}

/** A held (or refused) lock. */
export interface SchedulerLockHold {
  readonly result: LockResult
  /** Releases the lock if it was acquired and removes the exit hooks. Idempotent; true if it removed it. */
  readonly release: () => boolean
}

function exitHook(
  backend: SchedulerLockBackend,
  options: HoldOptions | undefined,
  release: () => void,
): () => void {
  if (!backend.processBound || options?.releaseOnExit === false) return () => {}
  return releaseOnProcessExit(release)
}

/**
 * Tries once to take the lock and, if it did, releases it when the process exits or is ended by
 * SIGINT, SIGTERM or SIGHUP (SIGKILL leaves it for stale recovery).
 *
 * @example
 * const hold = await holdSchedulerLock(projectDir, sessionId)
 * if (!hold.result.acquired) console.error(hold.result.error.message)
 * // ... drive the project's tasks ...
 * hold.release()
 */
export async function holdSchedulerLock(
  projectDir: string,
  sessionId: string,
  options?: HoldOptions,
): Promise<SchedulerLockHold> {
  const backend = options?.backend ?? liveSchedulerLockBackend()
  const result = backend.tryAcquire(projectDir, sessionId, options)
  if (!result.acquired) return { result, release: () => false }
  const releaseOptions = releaseOptionsOf(options)
  let done = false
  const release = (): boolean => {
    if (done) return false
    done = true
    unhook()
    return backend.release(projectDir, sessionId, releaseOptions)
  }
  const unhook = exitHook(backend, options, () => {
    release()
  })
  return { result, release }
}

/** How a watcher retries and whom it tells. */
export interface WatchOptions extends HoldOptions {
  /** Timers are armed here; defaults to the backend's clock (the wall clock for real files). */
  readonly clock?: ClockShape
  /** Retry period while not holding, and ownership check period while holding (default 1000 ms). */
  readonly intervalMs?: number
  readonly onAcquired?: (lock: SchedulerLockRecord) => void
  /** The lock stopped being ours (removed or replaced by someone else); the watcher contends again. */
  readonly onLost?: (seen: LockInspection) => void
  /** An attempt failed with an I/O error; the watcher keeps trying. */
  readonly onError?: (error: SchedulerLockError) => void
}

/** A running watcher. */
export interface SchedulerLockWatch {
  readonly holding: () => boolean
  readonly lock: () => SchedulerLockRecord | undefined
  /** Stops the watcher and releases the lock if it holds it. */
  readonly stop: () => void
}

/** Default retry period: a dead holder's tasks are taken over within about this long. */
export const DEFAULT_LOCK_RETRY_MS = 1_000

function sameRecord(a: SchedulerLockRecord, b: SchedulerLockRecord): boolean {
  return (
    a.sessionId === b.sessionId && a.pid === b.pid && a.acquiredAt === b.acquiredAt && a.nonce === b.nonce
  )
}

/**
 * Keeps trying to take the lock every `intervalMs` on the clock, calls `onAcquired` once it has it, then
 * checks every `intervalMs` that it still does (calling `onLost` and contending again if not). The first
 * attempt runs on the clock too (after 0 ms), so callbacks never run inside this call.
 *
 * @example
 * const watch = watchSchedulerLock(projectDir, sessionId, {
 *   onAcquired: () => scheduler.start(),
 *   onLost: () => scheduler.pause(),
 *   onDecision: (d) => log.append(d),
 * })
 */
export function watchSchedulerLock(
  projectDir: string,
  sessionId: string,
  options: WatchOptions = {},
): SchedulerLockWatch {
  const backend = options.backend ?? liveSchedulerLockBackend()
  const clock = options.clock ?? backend.clock
  const intervalMs = options.intervalMs ?? DEFAULT_LOCK_RETRY_MS
  const ownerOptions = releaseOptionsOf(options)
  let held: SchedulerLockRecord | undefined
  let timer: TimerHandle | undefined
  let stopped = false
  let unhook = (): void => {}

  const release = (): void => {
    const wasHeld = held
    held = undefined
    unhook()
    unhook = () => {}
    if (wasHeld !== undefined) backend.release(projectDir, sessionId, ownerOptions)
  }

  const attempt = (): void => {
    const result = backend.tryAcquire(projectDir, sessionId, options)
    if (!result.acquired) return
    held = result.lock
    unhook = exitHook(backend, options, release)
    options.onAcquired?.(result.lock)
  }

  const check = (mine: SchedulerLockRecord): void => {
    const seen = backend.inspect(projectDir)
    if (seen.state === "held" && sameRecord(seen.holder, mine)) return
    held = undefined
    unhook()
    unhook = () => {}
    options.onDecision?.({
      type: "lost",
      lockPath: seen.lockPath,
      sessionId,
      ...(seen.state === "held"
        ? {
            holder: {
              sessionId: seen.holder.sessionId,
              pid: seen.holder.pid,
              acquiredAt: seen.holder.acquiredAt,
            },
          }
        : {}),
    })
    options.onLost?.(seen)
  }

  const tick = (): void => {
    timer = undefined
    if (stopped) return
    try {
      if (held === undefined) attempt()
      else check(held)
    } catch (error) {
      if (!(error instanceof SchedulerLockError)) throw error
      options.onError?.(error)
    }
    if (!stopped) timer = clock.setTimeout(tick, intervalMs)
  }

  timer = clock.setTimeout(tick, 0)
  return {
    holding: () => held !== undefined,
    lock: () => held,
    stop: () => {
      if (stopped) return
      stopped = true
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
      release()
    },
  }
}
