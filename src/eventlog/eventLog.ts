import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import { EventLogError } from "./eventLogError.js"
import type { LogHeader, LogRecord, RecordBody } from "./logRecord.js"

/**
 * How an append is acknowledged:
 * - `always`: after the record is on stable storage (fdatasync per append call);
 * - `batch`: after a group commit that covers every append of a short window (the default);
 * - `none`: as soon as the backend has the bytes (the OS may still lose them on power loss).
 */
export type Durability = "always" | "batch" | "none"

export const DEFAULT_DURABILITY: Durability = "batch"

/** What opening a stream found and repaired. */
export interface OpenReport {
  /** True when the stream did not exist and was created by this open. */
  readonly created: boolean
  /** Highest `seq` already in the stream (0 when empty). */
  readonly lastSeq: number
  /** Bytes of a torn tail (a crash mid-append) that were cut off, with code `AGH_LOG_TORN_TAIL`. */
  readonly truncatedBytes: number
  /** Where the torn tail began, when there was one. */
  readonly truncatedAt?: number
  /**
   * Set when the open repaired the log: `code` is `AGH_LOG_TORN_TAIL` and `message` names the file, the
   * byte offset and the bytes cut, ready to print or log.
   */
  readonly warning?: { readonly code: string; readonly message: string }
}

/** The single writer of one stream. */
export interface LogWriter {
  readonly stream: string
  readonly header: LogHeader
  readonly report: OpenReport
  /** Highest seq assigned so far (appended, possibly not yet acknowledged). */
  readonly lastSeq: () => number
  /**
   * Appends records in order, assigning consecutive `seq`s and `at` from the clock. Completes only once
   * the writer's durability holds for all of them. Calls are ordered: records of a later call never get
   * lower seqs than those of an earlier one, even while the earlier one waits for its commit.
   */
  readonly append: (
    bodies: ReadonlyArray<RecordBody>,
  ) => Effect.Effect<ReadonlyArray<LogRecord>, EventLogError>
}

export interface OpenOptions {
  /** Facts to put in the header when the stream is created (ignored when it exists). */
  readonly meta?: Readonly<Record<string, unknown>>
  /** Overrides the backend's default durability for this writer. */
  readonly durability?: Durability
}

export interface ReadOptions {
  /** Only records with `seq > afterSeq`. */
  readonly afterSeq?: number
  /** Keep the stream open and emit records as they are appended (`replay --follow`). */
  readonly follow?: boolean
}

/**
 * The event-log port. Backends: file (one append-only file per stream) and memory. Nothing here is
 * file-specific, so a database- or broker-backed log can implement it too; every backend must pass
 * test/eventlog/eventLogContract.ts.
 */
export interface EventLogShape {
  /**
   * Opens (creating if absent) the stream for writing. One writer per stream at a time; the writer is
   * closed, with everything flushed and committed, when the scope closes.
   */
  readonly open: (
    stream: string,
    options?: OpenOptions,
  ) => Effect.Effect<LogWriter, EventLogError, Scope.Scope>
  /** The stream's header, or `NotFound`. */
  readonly header: (stream: string) => Effect.Effect<LogHeader, EventLogError>
  /** Records in seq order, streamed: a reader never needs the whole log in memory. */
  readonly read: (stream: string, options?: ReadOptions) => Stream.Stream<LogRecord, EventLogError>
  /** Names of the streams that exist. */
  readonly list: () => Effect.Effect<ReadonlyArray<string>, EventLogError>
}

export class EventLog extends Context.Service<EventLog, EventLogShape>()("agenthost/eventlog/EventLog") {}

/** Stream names are confined to a safe alphabet so no backend can be walked out of its root. */
export const STREAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export function isValidStreamName(name: string): boolean {
  return STREAM_NAME_PATTERN.test(name) && !name.includes("..")
}

/** The error every backend gives for a name {@link isValidStreamName} refuses (`AGH_LOG_INVALID_STREAM`). */
export function invalidStreamError(stream: string): EventLogError {
  return new EventLogError({
    reason: "InvalidStream",
    stream,
    message: `invalid stream name ${JSON.stringify(stream)}`,
  })
}
