import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { messageOf } from "../errors/messageOf.js"
import type { LogWriter } from "../eventlog/eventLog.js"
import { EventLogError } from "../eventlog/eventLogError.js"
import type { LogRecord, RecordBody } from "../eventlog/logRecord.js"

/**
 * Group append in front of a {@link LogWriter}: records enqueued while an append is in flight wait and go
 * out together in the next one, in order. So a burst of events costs one append (one fsync under `batch`
 * or `always` durability) instead of one each, and nobody waits for a commit that does not cover them.
 */
export interface LogBatcher {
  /** Queues a record; resolves with it (seq and time assigned) once the writer acknowledged it. */
  readonly enqueue: (body: RecordBody) => Promise<LogRecord>
  /**
   * Resolves once everything enqueued so far is acknowledged. Rejects with the first append failure since
   * the previous flush, so a failure nobody awaited (a delayed event's record, a note) is still reported.
   */
  readonly flush: () => Promise<void>
}

interface Waiting {
  readonly body: RecordBody
  readonly resolve: (record: LogRecord) => void
  readonly reject: (error: EventLogError) => void
}

const asLogError = (cause: Cause.Cause<EventLogError>, stream: string): EventLogError => {
  const error = Cause.squash(cause)
  return error instanceof EventLogError
    ? error
    : new EventLogError({
        reason: "WriteFailed",
        stream,
        message: `append to ${stream} failed: ${messageOf(error)}`,
        cause: error,
      })
}

/** A {@link LogBatcher} over `writer`; `onError` hears of every failed append. */
export function makeLogBatcher(writer: LogWriter, onError?: (error: EventLogError) => void): LogBatcher {
  let waiting: Waiting[] = []
  let inFlight = false
  let scheduled = false
  let last: Promise<unknown> = Promise.resolve()
  let unreported: EventLogError | undefined

  const kick = () => {
    if (inFlight || scheduled || waiting.length === 0) return
    scheduled = true
    // A microtask, not right away: everything sent synchronously in this tick joins the same append.
    queueMicrotask(run)
  }

  const append = async (batch: ReadonlyArray<Waiting>): Promise<void> => {
    const exit = await Effect.runPromiseExit(writer.append(batch.map((w) => w.body)))
    if (Exit.isSuccess(exit)) {
      const records = exit.value
      for (let i = 0; i < batch.length; i++) (batch[i] as Waiting).resolve(records[i] as LogRecord)
      return
    }
    const error = asLogError(exit.cause, writer.stream)
    if (error.reason === "BadRecord" && batch.length > 1) {
      // Nothing of a refused append is written: retry one by one so only the bad record is lost.
      for (const w of batch) await append([w])
      return
    }
    unreported ??= error
    onError?.(error)
    for (const w of batch) w.reject(error)
  }

  const run = () => {
    scheduled = false
    if (inFlight || waiting.length === 0) return
    const batch = waiting
    waiting = []
    inFlight = true
    void append(batch).then(() => {
      inFlight = false
      kick()
    })
  }

  return {
    enqueue: (body) => {
      const promise = new Promise<LogRecord>((resolve, reject) => {
        waiting.push({ body, resolve, reject })
      })
      // Callers may drop the promise (delayed events, notes); the failure is kept for flush instead.
      promise.catch(() => {})
      last = promise
      kick()
      return promise
    },
    flush: async () => {
      await last.catch(() => {})
      const error = unreported
      unreported = undefined
      if (error !== undefined) throw error
    },
  }
}
