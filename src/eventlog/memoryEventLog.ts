import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import { Clock } from "../adapters/clock.js"
import {
  EventLog,
  type EventLogShape,
  invalidStreamError,
  isValidStreamName,
  type LogWriter,
  type OpenOptions,
} from "./eventLog.js"
import { EventLogError } from "./eventLogError.js"
import {
  LOG_FORMAT_NAME,
  LOG_FORMAT_VERSION,
  type LogHeader,
  type LogRecord,
  type RecordBody,
} from "./logRecord.js"

interface MemoryStream {
  readonly header: LogHeader
  readonly records: LogRecord[]
  readonly followers: Set<(record: LogRecord) => void>
  open: boolean
}

/**
 * In-memory event log: the reference implementation of the port. Records are deep-copied on append so a
 * caller mutating its objects afterwards cannot rewrite history (the file backend gives the same
 * guarantee by encoding).
 */
export const makeMemoryEventLog = Effect.gen(function* () {
  const clock = yield* Clock
  const streams = new Map<string, MemoryStream>()

  const checkName = (stream: string) =>
    isValidStreamName(stream) ? Effect.void : Effect.fail(invalidStreamError(stream))

  const notFound = (stream: string) =>
    new EventLogError({
      reason: "NotFound",
      stream,
      message: `no event log stream ${JSON.stringify(stream)}`,
    })

  const open: EventLogShape["open"] = (stream, options?: OpenOptions) =>
    Effect.gen(function* () {
      yield* checkName(stream)
      let entry = streams.get(stream)
      const created = entry === undefined
      if (entry === undefined) {
        entry = {
          header: {
            format: LOG_FORMAT_NAME,
            version: LOG_FORMAT_VERSION,
            stream,
            createdAt: clock.now(),
            meta: structuredClone(options?.meta ?? {}),
          },
          records: [],
          followers: new Set(),
          open: false,
        }
        streams.set(stream, entry)
      }
      if (entry.open) {
        return yield* new EventLogError({
          reason: "AlreadyOpen",
          stream,
          message: `event log stream ${stream} already has a writer`,
        })
      }
      const s = entry
      s.open = true
      let closed = false
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          s.open = false
          closed = true
        }),
      )
      const writer: LogWriter = {
        stream,
        header: s.header,
        report: { created, lastSeq: s.records.length, truncatedBytes: 0 },
        lastSeq: () => s.records.length,
        append: (bodies: ReadonlyArray<RecordBody>) =>
          Effect.suspend(() => {
            if (closed) {
              return Effect.fail(
                new EventLogError({
                  reason: "Closed",
                  stream,
                  message: `event log stream ${stream} is closed`,
                }),
              )
            }
            const at = clock.now()
            // Copy every body before storing any, so a body that cannot be stored appends nothing.
            let copies: RecordBody[]
            try {
              copies = bodies.map((body) => structuredClone(body))
            } catch (cause) {
              return Effect.fail(
                new EventLogError({
                  reason: "BadRecord",
                  stream,
                  message: `cannot append to event log stream ${stream}: ${String(cause)}`,
                  cause,
                }),
              )
            }
            const out: LogRecord[] = []
            for (const body of copies) {
              const record: LogRecord = { seq: s.records.length + 1, at, body }
              s.records.push(record)
              out.push(record)
              for (const follower of s.followers) follower(record)
            }
            return Effect.succeed(out)
          }),
      }
      return writer
    })

  const header: EventLogShape["header"] = (stream) =>
    Effect.suspend(() => {
      if (!isValidStreamName(stream)) return Effect.fail(invalidStreamError(stream))
      const s = streams.get(stream)
      return s ? Effect.succeed(s.header) : Effect.fail(notFound(stream))
    })

  const read: EventLogShape["read"] = (stream, options) => {
    const after = options?.afterSeq ?? 0
    if (!isValidStreamName(stream)) return Stream.fail(invalidStreamError(stream))
    if (!options?.follow) {
      return Stream.suspend(() => {
        const s = streams.get(stream)
        return s ? Stream.fromIterable(s.records.slice(after)) : Stream.fail(notFound(stream))
      })
    }
    return Stream.callback<LogRecord, EventLogError>((queue) =>
      Effect.gen(function* () {
        const s = streams.get(stream)
        if (!s) return yield* Queue.fail(queue, notFound(stream))
        for (const r of s.records.slice(after)) Queue.offerUnsafe(queue, r)
        const follower = (r: LogRecord) => {
          if (r.seq > after) Queue.offerUnsafe(queue, r)
        }
        s.followers.add(follower)
        yield* Effect.addFinalizer(() => Effect.sync(() => s.followers.delete(follower)))
      }),
    )
  }

  const list: EventLogShape["list"] = () => Effect.sync(() => [...streams.keys()].sort())

  return EventLog.of({ open, header, read, list })
})

/** The memory backend as a layer (needs a {@link Clock}). */
export const memoryEventLogLayer: Layer.Layer<EventLog, never, Clock> = Layer.effect(
  EventLog,
  makeMemoryEventLog,
)
