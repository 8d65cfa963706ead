import { Effect, Exit, Scope, Stream } from "effect"
import { Clock, ManualClock } from "../../src/adapters/clock.js"
import { type MachineRuntime, makeMachineRuntime } from "../../src/effects/machineRuntime.js"
import type { EventLogShape, LogWriter } from "../../src/eventlog/eventLog.js"
import type { LogRecord } from "../../src/eventlog/logRecord.js"
import { makeMemoryEventLog } from "../../src/eventlog/memoryEventLog.js"

/** A machine runtime on a fresh memory log stream, driven by a ManualClock. */
export interface RuntimeHarness {
  readonly clock: ManualClock
  readonly log: EventLogShape
  readonly writer: LogWriter
  readonly runtime: MachineRuntime
  readonly stream: string
  /** Every record of the stream so far (flushes first). */
  readonly records: () => Promise<ReadonlyArray<LogRecord>>
  readonly close: () => Promise<void>
}

export async function runtimeHarness(
  stream = "s_test",
  clock = new ManualClock(1_700_000_000_000),
): Promise<RuntimeHarness> {
  const log = await Effect.runPromise(makeMemoryEventLog.pipe(Effect.provide(Clock.layerTest(clock))))
  const scope = await Effect.runPromise(Scope.make())
  const writer = await Effect.runPromise(log.open(stream).pipe(Scope.provide(scope)))
  const runtime = makeMachineRuntime(writer, { clock })
  return {
    clock,
    log,
    writer,
    runtime,
    stream,
    records: async () => {
      await runtime.flushAsync()
      return Effect.runPromise(Stream.runCollect(log.read(stream)))
    },
    close: async () => {
      runtime.stopAll()
      await runtime.flushAsync().catch(() => {})
      await Effect.runPromise(Scope.close(scope, Exit.void))
    },
  }
}
