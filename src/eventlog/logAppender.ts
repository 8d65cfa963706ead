import * as fs from "node:fs"
import type { ClockShape } from "../adapters/clock.js"
import { notifyAppended } from "./appendSignals.js"
import type { Durability } from "./eventLog.js"
import { EventLogError } from "./eventLogError.js"
import { GroupCommit } from "./groupCommit.js"
import { writeFully } from "./logFileOpen.js"
import type { LogRecord, RecordBody } from "./logRecord.js"
import { RecordEncoder } from "./recordCodec.js"

/** Where an {@link LogAppender} writes and how it acknowledges. */
export interface LogAppenderOptions {
  readonly fd: number
  readonly path: string
  readonly stream: string
  readonly clock: ClockShape
  readonly durability: Durability
  readonly batchWindowMs: number
  /** Offset where the next frame goes and the seq of the last record in the file. */
  readonly end: number
  readonly lastSeq: number
  /** Key of the file for in-process follow notifications (`appendSignalKey`). */
  readonly signalKey: string
}

type Done = (err: EventLogError | undefined, records: ReadonlyArray<LogRecord>) => void

interface Ticket {
  readonly records: ReadonlyArray<LogRecord>
  readonly done: Done
}

/**
 * The append side of one open log file. Seqs are assigned and frames encoded synchronously in
 * {@link LogAppender.append}, so calls are ordered and gap-free whatever their concurrency.
 *
 * With `none`, each call's frames are written before it returns. With `batch` and `always` the
 * frames of every call made in the same event-loop task are gathered and written with one write at
 * the end of that task (a microtask): no observer outside this thread can tell the difference, since
 * those calls are acknowledged only after a later fdatasync, and a burst of concurrent appends costs
 * one write syscall instead of one each.
 */
export class LogAppender {
  private readonly encoder = new RecordEncoder()
  private readonly commit: GroupCommit | undefined
  private end: number
  private seq: number
  /** File offset up to which bytes were already fdatasync'ed (`none` syncs once, on close). */
  private readonly openedEnd: number
  private closed = false
  private broken: EventLogError | undefined
  // Frames of the current task, waiting for the end-of-task write (batch/always only).
  private pending: Buffer = Buffer.allocUnsafe(0)
  private pendingLength = 0
  private pendingFirstSeq = 0
  private tickets: Ticket[] = []
  private flushQueued = false

  constructor(private readonly o: LogAppenderOptions) {
    this.end = o.end
    this.openedEnd = o.end
    this.seq = o.lastSeq
    this.commit =
      o.durability === "none"
        ? undefined
        : new GroupCommit(o.fd, { mode: o.durability, windowMs: o.batchWindowMs })
  }

  /** Highest seq assigned so far. */
  get lastSeq(): number {
    return this.seq
  }

  /** Appends `bodies`; `done` runs (possibly synchronously) once they are as durable as configured. */
  append(bodies: ReadonlyArray<RecordBody>, done: Done): void {
    const now = this.enqueue(bodies, done)
    if (now) done(now.err, now.records)
  }

  /** Assigns seqs and writes or queues the frames; returns the outcome when it is already known. */
  private enqueue(
    bodies: ReadonlyArray<RecordBody>,
    done: Done,
  ): { readonly err: EventLogError | undefined; readonly records: ReadonlyArray<LogRecord> } | undefined {
    const { path, stream } = this.o
    if (this.closed) {
      const message = `event log stream ${stream} (${path}) is closed`
      return { err: new EventLogError({ reason: "Closed", stream, location: path, message }), records: [] }
    }
    if (this.broken) return { err: this.broken, records: [] }
    if (bodies.length === 0) return { err: undefined, records: [] }
    const at = this.o.clock.now()
    const first = this.seq + 1
    let frames: Buffer
    try {
      frames = this.encoder.encodeFrames(first, at, bodies)
    } catch (err) {
      const e = err as Partial<EventLogError>
      const message = `cannot append to event log ${path}: ${e.message ?? String(err)}`
      const reason = e.reason ?? "BadRecord"
      return { err: new EventLogError({ reason, stream, location: path, message, cause: err }), records: [] }
    }
    const records: LogRecord[] = new Array(bodies.length)
    for (let i = 0; i < bodies.length; i++) records[i] = { seq: first + i, at, body: bodies[i]! }
    this.seq += bodies.length
    if (!this.commit) {
      const failure = this.write(frames, first)
      return failure ? { err: failure, records: [] } : { err: undefined, records }
    }
    if (this.pendingLength === 0) this.pendingFirstSeq = first
    const need = this.pendingLength + frames.length
    if (need > this.pending.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, 64 * 1024, this.pending.length * 2))
      this.pending.copy(bigger, 0, 0, this.pendingLength)
      this.pending = bigger
    }
    frames.copy(this.pending, this.pendingLength)
    this.pendingLength = need
    this.tickets.push({ records, done })
    if (!this.flushQueued) {
      this.flushQueued = true
      queueMicrotask(this.flush)
    }
    return undefined
  }

  /** Writes `frames` (records from `firstSeq`) at the end; on failure rolls the seq back and reports. */
  private write(frames: Buffer, firstSeq: number): EventLogError | undefined {
    try {
      writeFully(this.o.fd, frames, this.end)
    } catch (err) {
      const failure = this.failure(err, this.end)
      this.seq = firstSeq - 1
      try {
        fs.ftruncateSync(this.o.fd, this.end)
      } catch {
        // The file may now end in a partial frame: refuse further appends; reopening repairs it.
        this.broken = failure
      }
      return failure
    }
    this.end += frames.length
    notifyAppended(this.o.signalKey)
    return undefined
  }

  private readonly flush = (): void => {
    this.flushQueued = false
    const tickets = this.tickets
    if (tickets.length === 0) return
    this.tickets = []
    const length = this.pendingLength
    this.pendingLength = 0
    const failure = this.write(this.pending.subarray(0, length), this.pendingFirstSeq)
    if (failure) {
      for (const t of tickets) t.done(failure, [])
      return
    }
    const commit = this.commit!
    const gen = commit.noteWrite()
    const offset = this.end
    commit.waitDurable(gen, (err) => {
      if (err) this.broken ??= this.failure(err, offset)
      for (const t of tickets) t.done(err ? this.broken : undefined, err ? [] : t.records)
    })
  }

  private failure(err: unknown, offset: number): EventLogError {
    const { path, stream } = this.o
    return new EventLogError({
      reason: "WriteFailed",
      stream,
      location: path,
      offset,
      message: `cannot append to event log ${path} at byte offset ${offset}: ${(err as Error)?.message ?? String(err)}`,
      cause: err,
    })
  }

  /** Refuses further appends, writes what is gathered and syncs everything; `done` runs when durable. */
  close(done: () => void): void {
    this.closed = true
    this.flush()
    if (this.commit) {
      this.commit.dispose()
      // A failed final sync cannot be reported from here: the appends it covered have failed with
      // WriteFailed already, and the next open re-checks the file.
      this.commit.flush(() => done())
    } else if (this.end !== this.openedEnd) fs.fdatasync(this.o.fd, () => done())
    else done()
  }
}
