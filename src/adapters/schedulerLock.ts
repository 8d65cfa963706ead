import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { Clock, type ClockShape } from "./clock.js"
import { MemoryLockWorld } from "./memoryLockWorld.js"
import { releaseOnProcessExit } from "./releaseOnExit.js"
import {
  type AcquireOptions,
  liveSchedulerLockBackend,
  type ReleaseOptions,
  releaseOptionsOf,
  type SchedulerLockBackend,
} from "./schedulerLockBackend.js"
import { SchedulerLockError } from "./schedulerLockError.js"
import type { LockInspection, LockResult, SchedulerLockRecord } from "./schedulerLockRecord.js"
import { type SchedulerLockWatch, type WatchOptions, watchSchedulerLock } from "./schedulerLockWatch.js"

/**
 * The scheduler lock (SPEC §7): one process per project drives its scheduled tasks. Real files in
 * `layer`, a {@link MemoryLockWorld} with a fake process table in `layerTest`; both pass
 * test/adapters/schedulerLockContract.ts.
 */
export interface SchedulerLockShape {
  /** One attempt; refusal is a result (`acquired: false`, with an `AGH_LOCK_HELD` error to print). */
  readonly tryAcquire: (
    projectDir: string,
    sessionId: string,
    options?: AcquireOptions,
  ) => Effect.Effect<LockResult, SchedulerLockError>
  /** Removes the lock if this process holds it for `sessionId`; true when it did. */
  readonly release: (
    projectDir: string,
    sessionId: string,
    options?: ReleaseOptions,
  ) => Effect.Effect<boolean, SchedulerLockError>
  /** What the lock file says now, unjudged. */
  readonly inspect: (projectDir: string) => Effect.Effect<LockInspection, SchedulerLockError>
  /**
   * Holds the lock for the scope: fails with `AGH_LOCK_HELD` if refused, releases when the scope closes
   * (and, on real files, if the process exits or is signalled first).
   */
  readonly hold: (
    projectDir: string,
    sessionId: string,
    options?: AcquireOptions,
  ) => Effect.Effect<SchedulerLockRecord, SchedulerLockError, Scope.Scope>
  /** A retry loop on the service's clock (see `watchSchedulerLock`), stopped when the scope closes. */
  readonly watch: (
    projectDir: string,
    sessionId: string,
    options?: Omit<WatchOptions, "backend" | "clock">,
  ) => Effect.Effect<SchedulerLockWatch, never, Scope.Scope>
}

function lockFailure(error: unknown): SchedulerLockError {
  // Anything else is a bug: let it surface as a defect rather than pass for an I/O error.
  if (error instanceof SchedulerLockError) return error
  throw error
}

/** Wraps a synchronous backend as the Effect service. */
export function makeSchedulerLock(backend: SchedulerLockBackend): SchedulerLockShape {
  const attempt = (f: () => LockResult) => Effect.try({ try: f, catch: lockFailure })
  return {
    tryAcquire: Effect.fn("SchedulerLock.tryAcquire")(function* (projectDir, sessionId, options) {
      return yield* attempt(() => backend.tryAcquire(projectDir, sessionId, options))
    }),
    release: Effect.fn("SchedulerLock.release")(function* (projectDir, sessionId, options) {
      return yield* Effect.try({
        try: () => backend.release(projectDir, sessionId, options),
        catch: lockFailure,
      })
    }),
    inspect: Effect.fn("SchedulerLock.inspect")(function* (projectDir) {
      return yield* Effect.try({ try: () => backend.inspect(projectDir), catch: lockFailure })
    }),
    hold: (projectDir, sessionId, options) => {
      const ownerOptions = releaseOptionsOf(options)
      const releaseNow = () => {
        try {
          backend.release(projectDir, sessionId, ownerOptions)
        } catch {
          // A lock we cannot remove goes stale once we are gone; nothing better to do in a finalizer.
        }
      }
      return Effect.acquireRelease(
        Effect.gen(function* () {
          const result = yield* attempt(() => backend.tryAcquire(projectDir, sessionId, options))
          if (!result.acquired) return yield* Effect.fail(result.error)
          const unhook = backend.processBound ? releaseOnProcessExit(releaseNow) : () => {}
          return { lock: result.lock, unhook }
        }),
        ({ unhook }) =>
          Effect.sync(() => {
            unhook()
            releaseNow()
          }),
      ).pipe(Effect.map(({ lock }) => lock))
    },
    watch: (projectDir, sessionId, options) =>
      Effect.acquireRelease(
        Effect.sync(() => watchSchedulerLock(projectDir, sessionId, { ...options, backend })),
        (watch) => Effect.sync(() => watch.stop()),
      ),
  }
}

/** The scheduler-lock port. */
export class SchedulerLock extends Context.Service<SchedulerLock, SchedulerLockShape>()(
  "agenthost/adapters/SchedulerLock",
) {
  /** Real files, this process's pid, timestamps and retries on the `Clock` service. */
  static readonly layer: Layer.Layer<SchedulerLock, never, Clock> = Layer.effect(
    SchedulerLock,
    Effect.gen(function* () {
      const clock = yield* Clock
      return makeSchedulerLock(liveSchedulerLockBackend(clock))
    }),
  )

  /**
   * In memory: `world` holds the files and the fake process table (keep a reference to kill pids, fake
   * start times, advance its clock); the service acts as process `pid` of it (default 1000).
   */
  static layerTest(
    world: MemoryLockWorld = new MemoryLockWorld(),
    options?: { readonly pid?: number },
  ): Layer.Layer<SchedulerLock> {
    return Layer.succeed(SchedulerLock, makeSchedulerLock(world.backend(options)))
  }
}

/** Options of the plain-function API. */
export interface PlainLockOptions extends AcquireOptions {
  /** Where `acquiredAt` comes from (default the wall clock). */
  readonly clock?: ClockShape
}

let defaultBackend: SchedulerLockBackend | undefined

function backendFor(clock: ClockShape | undefined): SchedulerLockBackend {
  if (clock !== undefined) return liveSchedulerLockBackend(clock)
  defaultBackend ??= liveSchedulerLockBackend()
  return defaultBackend
}

/**
 * Tries once to take `<projectDir>/.claude/scheduled_tasks.lock` for `sessionId` (SPEC §7, §10).
 * Resolves with the outcome — `acquired`, or refused with the holder and an `AGH_LOCK_HELD` error —
 * and rejects with a {@link SchedulerLockError} (`AGH_LOCK_IO`, `AGH_LOCK_INVALID`) on failure.
 *
 * @example
 * const result = await tryAcquireSchedulerLock(process.cwd(), sessionId, { onDecision: log })
 * if (!result.acquired) console.error(`${result.error.code}: ${result.error.message}`)
 */
export function tryAcquireSchedulerLock(
  projectDir: string,
  sessionId: string,
  options?: PlainLockOptions,
): Promise<LockResult> {
  return new Promise((resolve) =>
    resolve(backendFor(options?.clock).tryAcquire(projectDir, sessionId, options)),
  )
}

/** Removes the lock if this process holds it for `sessionId`; resolves true when it did (SPEC §10). */
export function releaseSchedulerLock(
  projectDir: string,
  sessionId: string,
  options?: ReleaseOptions,
): Promise<boolean> {
  return new Promise((resolve) => resolve(backendFor(undefined).release(projectDir, sessionId, options)))
}
