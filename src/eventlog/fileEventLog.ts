import * as fs from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { Clock } from "../adapters/clock.js"
import { appendSignalKey } from "./appendSignals.js"
import {
  DEFAULT_DURABILITY,
  type Durability,
  EventLog,
  type EventLogShape,
  invalidStreamError,
  isValidStreamName,
  type LogWriter,
} from "./eventLog.js"
import type { EventLogError } from "./eventLogError.js"
import { LogAppender } from "./logAppender.js"
import { fileFailure, fileNotFound } from "./logFileErrors.js"
import { openLogFile } from "./logFileOpen.js"
import { readLogFile, readLogFileHeader } from "./logFileReader.js"
import { LOG_FORMAT_NAME, LOG_FORMAT_VERSION, type LogRecord, type RecordBody } from "./logRecord.js"
import { acquireStreamLock } from "./streamLock.js"

/** File extension of a stream's log: `<dir>/<stream>.aglog`. */
export const LOG_FILE_EXTENSION = ".aglog"

/** Default group-commit window of `batch` durability. */
export const DEFAULT_BATCH_WINDOW_MS = 2

/** Options of {@link fileEventLogLayer}. */
export interface FileEventLogOptions {
  /** Directory of the log files (created on first open), e.g. `<home>/logs`. */
  readonly dir: string
  /** Default durability of writers; `batch` unless set. */
  readonly durability?: Durability
  /** Longest a `batch` append waits for others to share its fdatasync. Default 2 ms. */
  readonly batchWindowMs?: number
  /** Read size of scans and readers. Default 256 KiB. */
  readonly chunkBytes?: number
}

/** The file a stream lives in. */
export function logFilePath(dir: string, stream: string): string {
  return join(dir, `${stream}${LOG_FILE_EXTENSION}`)
}

/**
 * The file backend of the event log: one append-only file per stream (format in docs/eventlog.md).
 * Seqs are assigned and frames encoded synchronously per append call, so appends are ordered and
 * gap-free however many are in flight; they are written at once (`none`) or at the end of the current
 * event-loop task together with the task's other appends (`batch`, `always`), and acknowledged per the
 * writer's durability (see LogAppender and GroupCommit). Each writer holds an
 * advisory lock file `<stream>.aglog.lock` so that two processes never append to one stream.
 */
export const makeFileEventLog = (options: FileEventLogOptions) =>
  Effect.gen(function* () {
    const clock = yield* Clock
    const { dir } = options
    const defaultDurability = options.durability ?? DEFAULT_DURABILITY
    const windowMs = options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS

    const open: EventLogShape["open"] = (stream, openOptions) =>
      Effect.gen(function* () {
        if (!isValidStreamName(stream)) return yield* invalidStreamError(stream)
        const path = logFilePath(dir, stream)
        yield* Effect.try({
          try: () => fs.mkdirSync(dir, { recursive: true }),
          catch: (err) => fileFailure(dir, err, "create the directory of", { stream, writing: true }),
        })
        yield* Effect.acquireRelease(
          Effect.try({
            try: () => acquireStreamLock(`${path}.lock`, stream, clock.now()),
            catch: (err) => fileFailure(`${path}.lock`, err, "lock", { stream, writing: true }),
          }),
          (lock) => Effect.sync(() => lock.release()),
        )
        const file = yield* Effect.acquireRelease(
          Effect.tryPromise({
            try: () =>
              openLogFile(
                path,
                stream,
                () => ({
                  format: LOG_FORMAT_NAME,
                  version: LOG_FORMAT_VERSION,
                  stream,
                  createdAt: clock.now(),
                  meta: openOptions?.meta ?? {},
                }),
                options.chunkBytes,
              ),
            catch: (err) => fileFailure(path, err, "open", { stream, writing: true }),
          }),
          (f) => Effect.sync(() => fs.closeSync(f.fd)),
        )
        const appender = new LogAppender({
          fd: file.fd,
          path,
          stream,
          clock,
          durability: openOptions?.durability ?? defaultDurability,
          batchWindowMs: windowMs,
          end: file.end,
          lastSeq: file.lastSeq,
          signalKey: appendSignalKey(path),
        })
        yield* Effect.addFinalizer(() =>
          Effect.callback<void>((resume) => appender.close(() => resume(Effect.void))),
        )
        const append = (bodies: ReadonlyArray<RecordBody>) =>
          Effect.callback<ReadonlyArray<LogRecord>, EventLogError>((resume) =>
            appender.append(bodies, (err, records) =>
              resume(err ? Effect.fail(err) : Effect.succeed(records)),
            ),
          )

        const writer: LogWriter = {
          stream,
          header: file.header,
          report: file.report,
          lastSeq: () => appender.lastSeq,
          append,
        }
        return writer
      })

    const header: EventLogShape["header"] = (stream) => {
      if (!isValidStreamName(stream)) return Effect.fail(invalidStreamError(stream))
      const path = logFilePath(dir, stream)
      return readLogFileHeader(path).pipe(
        Effect.mapError((e) => (e.reason === "NotFound" ? fileNotFound(path, stream) : e)),
      )
    }

    const read: EventLogShape["read"] = (stream, readOptions) => {
      if (!isValidStreamName(stream)) return Stream.fail(invalidStreamError(stream))
      return readLogFile(logFilePath(dir, stream), {
        ...readOptions,
        stream,
        ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
      })
    }

    const list: EventLogShape["list"] = () =>
      Effect.try({
        try: () => {
          let names: string[]
          try {
            names = fs.readdirSync(dir)
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return []
            throw err
          }
          return names
            .filter((n) => n.endsWith(LOG_FILE_EXTENSION))
            .map((n) => n.slice(0, -LOG_FILE_EXTENSION.length))
            .filter(isValidStreamName)
            .sort()
        },
        catch: (err) => fileFailure(dir, err, "list the directory of"),
      })

    return EventLog.of({ open, header, read, list })
  })

/**
 * The file backend as a layer (needs a {@link Clock}: record times come from it).
 *
 * @example
 * const layer = fileEventLogLayer({ dir: join(home, "logs") }).pipe(Layer.provide(Clock.layer))
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const log = yield* EventLog
 *     const writer = yield* log.open("s_1", { meta: { kind: "session" } })
 *     yield* writer.append([{ type: "note", code: "hello", message: "first record" }])
 *   }),
 * )
 */
export const fileEventLogLayer = (options: FileEventLogOptions): Layer.Layer<EventLog, never, Clock> =>
  Layer.effect(EventLog, makeFileEventLog(options))
