import * as fs from "node:fs"
import { onAppended } from "./appendSignals.js"

/** How often a follower re-reads when nothing told it the file changed (`fs.watch` can miss events). */
export const FOLLOW_POLL_MS = 250

/**
 * Wakes a follower when its file may have grown: an in-process append, an `fs.watch` event, or a
 * poll tick, whichever is first. `changes` counts wake-ups so a change that lands between a reader's
 * last read and its call to {@link FollowSignal.wait} is not lost.
 *
 * Its timer is Node's own and referenced: a `replay --follow` must stay alive while it waits, and the
 * poll paces file I/O rather than anything a machine observes, so the injected clock has no say.
 */
export class FollowSignal {
  private count = 0
  private wake: (() => void) | undefined
  private readonly unsubscribe: () => void
  private readonly watcher: fs.FSWatcher | undefined

  constructor(path: string, pollMs: number = FOLLOW_POLL_MS) {
    this.pollMs = pollMs
    this.unsubscribe = onAppended(path, this.bump)
    let watcher: fs.FSWatcher | undefined
    try {
      watcher = fs.watch(path, { persistent: false }, this.bump)
      // A watcher that fails (file removed, inotify limits) leaves the poll to do the work.
      watcher.on("error", () => watcher?.close())
    } catch {
      watcher = undefined
    }
    this.watcher = watcher
  }

  private readonly pollMs: number

  /** Wake-ups so far; pass it to {@link FollowSignal.wait}. */
  get changes(): number {
    return this.count
  }

  private readonly bump = (): void => {
    this.count++
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Resolves at the next wake-up after `seen` (at once if one already happened), or on abort. */
  wait(seen: number, signal?: AbortSignal): Promise<void> {
    if (this.count !== seen || signal?.aborted) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(this.bump, this.pollMs)
      const onAbort = () => this.bump()
      signal?.addEventListener("abort", onAbort, { once: true })
      this.wake = () => {
        clearTimeout(timer)
        signal?.removeEventListener("abort", onAbort)
        resolve()
      }
    })
  }

  close(): void {
    this.unsubscribe()
    this.watcher?.close()
    this.bump()
  }
}
