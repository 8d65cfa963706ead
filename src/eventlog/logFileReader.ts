import * as fs from "node:fs"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { EventLogError } from "./eventLogError.js"
import { FollowSignal } from "./followSignal.js"
import type { FrameReader } from "./frameReader.js"
import { badFrame, fileFailure } from "./logFileErrors.js"
import { openRegularFile } from "./logFileOpen.js"
import { openHeader } from "./logFileScan.js"
import type { LogHeader, LogRecord } from "./logRecord.js"
import { PayloadDecoder, peekRecordSeq } from "./recordCodec.js"

/** Options of {@link readLogFile}. */
export interface ReadLogFileOptions {
  /** Only records with `seq > afterSeq`. */
  readonly afterSeq?: number
  /** Keep reading as the file grows (a live writer, `replay --follow`) instead of ending at its end. */
  readonly follow?: boolean
  /** Bytes per read; memory stays near this plus the largest record. Default 256 KiB. */
  readonly chunkBytes?: number
  /** Stream name to put in a `NotFound` error (the `EventLog.read` of the file backend passes it). */
  readonly stream?: string
}

/** Opens `path` for reading; it must be a regular file. */
export function openForRead(path: string, stream?: string): Effect.Effect<number, EventLogError> {
  const opts = stream === undefined ? {} : { stream }
  return Effect.try({
    try: () => openRegularFile(path, fs.constants.O_RDONLY),
    catch: (err) => fileFailure(path, err, "open", opts),
  })
}

const scopedFd = (path: string, stream?: string) =>
  Effect.acquireRelease(openForRead(path, stream), (fd) => Effect.sync(() => fs.closeSync(fd)))

const headerIncomplete = (path: string, size: number, why: string) =>
  badFrame(path, size, `log header incomplete (${why}); opening the stream for writing repairs it`)

/**
 * The header of the log file at `path`: `NotFound` when there is none, `Unreadable` when it cannot be
 * read, `BadFrame` or `UnknownVersion` when it is not a log this build understands.
 *
 * @example
 * const header = await Effect.runPromise(readLogFileHeader("/home/me/.agenthost/logs/s_1.aglog"))
 */
export function readLogFileHeader(path: string): Effect.Effect<LogHeader, EventLogError> {
  return Effect.scoped(
    Effect.gen(function* () {
      const fd = yield* scopedFd(path)
      const opened = yield* Effect.tryPromise({
        try: () => openHeader(fd, path, new PayloadDecoder()),
        catch: (err) => fileFailure(path, err, "read"),
      })
      if (opened.kind === "tornHeader") return yield* headerIncomplete(path, opened.size, opened.why)
      return opened.header
    }),
  )
}

/**
 * The records of the log file at `path`, in seq order, read in chunks (a 1 GB log streams in constant
 * memory). Without `follow` the stream ends at the last complete record: a record being written at
 * this moment, or a torn tail left by a crash, is not an error. With `follow` it then waits for more
 * (in-process appends wake it at once; other writers via `fs.watch`, with a poll as fallback). A corrupt
 * record followed by more data fails the stream with `BadFrame` naming the file and byte offset.
 *
 * @example
 * await Effect.runPromise(
 *   readLogFile(path, { afterSeq: 10 }).pipe(Stream.runForEach((r) => Effect.log(r.seq, r.body.type))),
 * )
 */
export function readLogFile(
  path: string,
  options: ReadLogFileOptions = {},
): Stream.Stream<LogRecord, EventLogError> {
  const afterSeq = options.afterSeq ?? 0
  const follow = options.follow === true
  return Stream.scoped(
    Stream.fromPull(
      Effect.gen(function* () {
        const fd = yield* scopedFd(path, options.stream)
        const signal = follow
          ? yield* Effect.acquireRelease(
              Effect.sync(() => new FollowSignal(path)),
              (s) => Effect.sync(() => s.close()),
            )
          : undefined
        const decoder = new PayloadDecoder()
        let frames: FrameReader | undefined
        let lastSeq = 0
        let retriedAt = -1

        const next = async (abort: AbortSignal): Promise<LogRecord[] | undefined> => {
          for (;;) {
            const seen = signal?.changes ?? 0
            if (frames === undefined) {
              const opened = await openHeader(fd, path, decoder, options.chunkBytes)
              if (opened.kind === "header") {
                frames = opened.frames
                continue
              }
              if (!signal) throw headerIncomplete(path, opened.size, opened.why)
            } else {
              const batch = await frames.next()
              if (batch.kind === "frames") {
                const out = decodeBatch(batch.buf, batch.base, batch.spans)
                if (out.length > 0) return out
                continue
              }
              if (batch.kind === "bad") {
                // A concurrent writer's bytes may have been read half-copied: look once more before failing.
                if (retriedAt === batch.offset) throw badFrame(path, batch.offset, batch.why)
                retriedAt = batch.offset
                frames.reset()
                continue
              }
              if (!signal) return undefined
              frames.reset()
            }
            await signal.wait(seen, abort)
            if (abort.aborted) return undefined
          }
        }

        const decodeBatch = (buf: Buffer, base: number, spans: number[]): LogRecord[] => {
          const out: LogRecord[] = []
          for (let i = 0; i < spans.length; i += 3) {
            const offset = base + spans[i]!
            const start = spans[i + 1]!
            const end = spans[i + 2]!
            const peeked = peekRecordSeq(buf, start, end)
            if (peeked !== undefined && peeked <= afterSeq && peeked === lastSeq + 1) {
              lastSeq = peeked
              continue
            }
            let decoded: ReturnType<PayloadDecoder["decode"]>
            try {
              decoded = decoder.decode(buf.subarray(start, end))
            } catch (cause) {
              throw badFrame(path, offset, String(cause))
            }
            if (decoded.kind !== "record") throw badFrame(path, offset, "a second header frame")
            const { record } = decoded
            if (record.seq !== lastSeq + 1) {
              throw badFrame(path, offset, `record seq ${record.seq} where ${lastSeq + 1} was expected`)
            }
            lastSeq = record.seq
            if (record.seq > afterSeq) out.push(record)
          }
          retriedAt = -1
          return out
        }

        return Effect.tryPromise({
          try: (abort) => next(abort),
          catch: (err) => fileFailure(path, err, "read"),
        }).pipe(
          Effect.flatMap((records) =>
            records === undefined || records.length === 0
              ? Cause.done()
              : Effect.succeed(records as unknown as readonly [LogRecord, ...LogRecord[]]),
          ),
        )
      }),
    ),
  )
}
