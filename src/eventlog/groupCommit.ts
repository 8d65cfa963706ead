import * as fs from "node:fs"
import { performance } from "node:perf_hooks"

/** How a {@link GroupCommit} schedules its fdatasyncs. */
export interface GroupCommitOptions {
  /** `always`: sync as soon as a write is waiting; `batch`: coalesce writes first (see below). */
  readonly mode: "always" | "batch"
  /** Longest a write waits for company before its sync starts (batch mode). */
  readonly windowMs: number
  /** Syncs the file; injectable so tests can count syncs or make them fail. */
  readonly sync?: (fd: number, done: (err: Error | null) => void) => void
}

interface Waiter {
  readonly gen: number
  readonly done: (err: Error | undefined) => void
}

const fdatasync = (fd: number, done: (err: Error | null) => void) => fs.fdatasync(fd, done)

/**
 * Group commit for one file: every write gets a generation number; a waiter for generation `g` is
 * released by the first fdatasync that *started* after write `g`. One sync runs at a time, and
 * everything written while it runs is covered by the next one, so concurrent appenders share syncs.
 *
 * Batch mode starts a sync once the event loop has turned without new writes (everyone who was going
 * to append in this burst has), or when the oldest waiting write is `windowMs` old, whichever comes
 * first. So a lone append waits one sync, a burst shares one, and a steady stream syncs once a window.
 *
 * The window is real elapsed time on purpose, not the injected `Clock`: it paces disk I/O, which must
 * make progress while a test holds its manual clock still. For the same reason the timers are Node's
 * own (kept referenced, so a process waiting for an acknowledgement does not exit under it).
 */
export class GroupCommit {
  private gen = 0
  private durable = 0
  private readonly waiters: Waiter[] = []
  private syncing = false
  private scheduled = false
  private timer: NodeJS.Timeout | undefined
  private firstPendingAt = 0
  private writesSinceCheck = 0
  private quietChecks = 0
  private failure: Error | undefined
  private readonly sync: (fd: number, done: (err: Error | null) => void) => void

  constructor(
    private readonly fd: number,
    private readonly options: GroupCommitOptions,
  ) {
    this.sync = options.sync ?? fdatasync
  }

  /** The error of a failed sync: after one, nothing written can be vouched for. */
  get failed(): Error | undefined {
    return this.failure
  }

  /** Records that bytes were written; returns their generation. */
  noteWrite(): number {
    this.writesSinceCheck++
    return ++this.gen
  }

  /** Calls `done` once generation `gen` is on stable storage (or with the error that prevented it). */
  waitDurable(gen: number, done: (err: Error | undefined) => void): void {
    if (this.failure) {
      done(this.failure)
      return
    }
    if (this.durable >= gen) {
      done(undefined)
      return
    }
    if (this.waiters.length === 0) this.firstPendingAt = performance.now()
    this.waiters.push({ gen, done })
    this.schedule()
  }

  /** Syncs everything written so far, now; `done` runs when it is durable. Used on close. */
  flush(done: (err: Error | undefined) => void): void {
    if (this.failure) {
      done(this.failure)
      return
    }
    if (this.durable >= this.gen && !this.syncing) {
      done(undefined)
      return
    }
    this.waiters.push({ gen: this.gen, done })
    if (!this.syncing) this.startSync()
  }

  private schedule(): void {
    if (this.syncing || this.scheduled) return
    if (this.options.mode === "always" || this.options.windowMs <= 0) {
      this.startSync()
      return
    }
    this.scheduled = true
    this.writesSinceCheck = 0
    this.quietChecks = 0
    setImmediate(this.check)
  }

  private readonly check = (): void => {
    this.timer = undefined
    if (this.syncing || this.waiters.length === 0) {
      // A flush started a sync meanwhile; its completion takes care of whoever still waits.
      this.scheduled = false
      return
    }
    const elapsed = performance.now() - this.firstPendingAt
    const quiet = this.writesSinceCheck === 0
    this.writesSinceCheck = 0
    if (quiet || elapsed >= this.options.windowMs) {
      this.scheduled = false
      this.startSync()
      return
    }
    // Writes keep arriving: look again next turn, but only a couple of times before sleeping out the
    // rest of the window, so a busy loop never spins on setImmediate.
    if (++this.quietChecks < 3) setImmediate(this.check)
    else this.timer = setTimeout(this.check, this.options.windowMs - elapsed)
  }

  private startSync(): void {
    const target = this.gen
    this.syncing = true
    this.sync(this.fd, (err) => {
      this.syncing = false
      if (err) {
        this.failure = err
        for (const w of this.waiters.splice(0)) w.done(err)
        return
      }
      this.durable = Math.max(this.durable, target)
      let released = 0
      while (released < this.waiters.length && this.waiters[released]!.gen <= target) released++
      const done = this.waiters.splice(0, released)
      // Writes that came in during the sync have waited one already: sync again right away.
      if (this.waiters.length > 0) {
        this.firstPendingAt = performance.now()
        this.startSync()
      }
      for (const w of done) w.done(undefined)
    })
  }

  /** Cancels a pending timer (the writer is closing and flushes instead). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }
}
