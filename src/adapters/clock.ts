import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
/** A timer handle returned by {@link ClockShape.setTimeout}. Opaque to callers. */
export type TimerHandle = { readonly __timer: unique symbol } | number | object

/**
 * The one place that reads wall time or arms timers. Synchronous on purpose: xstate's `clock` option
 * (`{ setTimeout, clearTimeout }`) calls it from inside a transition, and every record's `at` comes from
 * `now()` on the hot path.
 */
export interface ClockShape {
  /** Epoch milliseconds. */
  readonly now: () => number
  readonly setTimeout: (fn: () => void, ms: number) => TimerHandle
  readonly clearTimeout: (handle: TimerHandle) => void
}

/** Wall clock and Node timers. */
export const liveClock: ClockShape = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms))
    // A pending machine delay must never keep the process alive on its own.
    t.unref?.()
    return t
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

interface ManualTimer {
  readonly id: number
  readonly due: number
  readonly fn: () => void
}

/**
 * A clock that only moves when told to. Timers fire in due order (ties in arming order) during
 * {@link ManualClock.advance}; a timer armed by a firing timer that falls inside the window fires too.
 *
 * @example
 * const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"))
 * clock.setTimeout(() => console.log("fired"), 1000)
 * clock.advance(1000) // prints "fired"
 */
export class ManualClock implements ClockShape {
  private current: number
  private nextId = 1
  private timers: ManualTimer[] = []

  constructor(startMs = 0) {
    this.current = startMs
  }

  readonly now = (): number => this.current

  readonly setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const timer = { id: this.nextId++, due: this.current + Math.max(0, ms), fn }
    this.timers.push(timer)
    return timer.id
  }

  readonly clearTimeout = (handle: TimerHandle): void => {
    this.timers = this.timers.filter((t) => t.id !== handle)
  }

  /** Number of armed timers. */
  get pending(): number {
    return this.timers.length
  }

  /** Due time of the earliest armed timer, if any. */
  nextDue(): number | undefined {
    let best: number | undefined
    for (const t of this.timers) if (best === undefined || t.due < best) best = t.due
    return best
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.current + ms)
  }

  /** Moves time to `targetMs` (never backwards), firing due timers in order. */
  advanceTo(targetMs: number): void {
    for (;;) {
      let next: ManualTimer | undefined
      for (const t of this.timers) {
        if (
          t.due <= targetMs &&
          (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))
        ) {
          next = t
        }
      }
      if (next === undefined) break
      const fired = next
      this.timers = this.timers.filter((t) => t !== fired)
      this.current = Math.max(this.current, fired.due)
      fired.fn()
    }
    this.current = Math.max(this.current, targetMs)
  }

  /** Sets the time without firing anything (a process restart after downtime, say). */
  jumpTo(targetMs: number): void {
    this.current = targetMs
  }
}

/**
 * The clock port. `layer` is the wall clock; `layerTest(clock)` provides a {@link ManualClock} the test
 * keeps a reference to and advances.
 */
export class Clock extends Context.Service<Clock, ClockShape>()("agenthost/adapters/Clock") {
  static readonly layer: Layer.Layer<Clock> = Layer.succeed(Clock, liveClock)
  static layerTest(clock: ManualClock = new ManualClock()): Layer.Layer<Clock> {
    return Layer.succeed(Clock, clock)
  }
}
