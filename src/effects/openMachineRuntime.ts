import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Clock, type ClockShape } from "../adapters/clock.js"
import { EventLog, type OpenOptions } from "../eventlog/eventLog.js"
import { type MachineRuntime, makeMachineRuntime } from "./machineRuntime.js"
import { openScoped } from "./openScoped.js"

/**
 * Opens `stream` for writing and runs a {@link MachineRuntime} on it for the life of the scope. When the
 * scope closes, every actor is stopped and every record flushed before the writer closes.
 */
export const scopedMachineRuntime = Effect.fnUntraced(function* (stream: string, options?: OpenOptions) {
  const log = yield* EventLog
  const clock = yield* Clock
  const writer = yield* log.open(stream, options)
  const runtime = makeMachineRuntime(writer, { clock })
  // Added after open, so it runs before the writer's own finalizer closes it.
  yield* Effect.addFinalizer(() =>
    Effect.promise(async () => {
      runtime.stopAll()
      await runtime.flushAsync().catch(() => {})
    }),
  )
  return runtime
})

/** Options of {@link openMachineRuntime}. */
export interface OpenMachineRuntimeOptions<E> {
  /** The event-log backend, e.g. `fileEventLogLayer({ dir })` or `memoryEventLogLayer`. */
  readonly eventLog: Layer.Layer<EventLog, E, Clock>
  readonly clock: ClockShape
  readonly stream: string
  readonly open?: OpenOptions
}

/** A runtime opened from plain async code, and the way to close it. */
export interface OpenedMachineRuntime {
  readonly runtime: MachineRuntime
  /** Stops the actors, flushes, closes the writer. */
  readonly close: () => Promise<void>
}

/**
 * {@link scopedMachineRuntime} for code that does not use Effect.
 *
 * @example
 * const { runtime, close } = await openMachineRuntime({
 *   eventLog: fileEventLogLayer({ dir: "/var/lib/agenthost/logs" }),
 *   clock: liveClock,
 *   stream: "s_0123",
 * })
 * try { ... } finally { await close() }
 */
export async function openMachineRuntime<E>(
  options: OpenMachineRuntimeOptions<E>,
): Promise<OpenedMachineRuntime> {
  const layer = options.eventLog.pipe(Layer.provide(Layer.succeed(Clock, options.clock)))
  const { value, close } = await openScoped(
    scopedMachineRuntime(options.stream, options.open).pipe(
      Effect.provide(Layer.merge(layer, Layer.succeed(Clock, options.clock))),
    ),
  )
  return { runtime: value, close }
}
