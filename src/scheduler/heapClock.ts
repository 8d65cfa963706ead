import type { ClockShape, TimerHandle } from "../adapters/clock.js"
import { type HeapEntry, TimerHeap } from "./timerHeap.js"

/**
 * Node turns a `setTimeout` delay above 2^31 - 1 ms (~24.8 days) into 1 ms. A monthly or yearly task is
 * further away than that, so the base timer never waits longer; on waking early it simply re-arms.
 */
export const MAX_BASE_TIMER_MS = 2 ** 31 - 1

/** A clock whose timers live in one heap behind a single timer of the clock below it. */
export interface HeapClock extends ClockShape {
  /** Timers waiting in the heap. */
  readonly pending: () => number
  /** Due time of the earliest one. */
  readonly nextDue: () => number | undefined
  /** Timers armed on the clock below: 0 or 1, however many are pending. */
  readonly baseTimers: () => number
  /** Drops every pending timer and the base timer; later `setTimeout`s still work. */
  readonly clear: () => void
}

/** Options of {@link makeHeapClock}. */
export interface HeapClockOptions {
  /** A timer callback threw: the others still run. Default: rethrown on a later tick, so it is not lost. */
  readonly onError?: (error: unknown) => void
}

type Callback = () => void

/**
 * A {@link ClockShape} that keeps its timers in a {@link TimerHeap} and arms one timer of `base` for the
 * earliest, re-armed whenever the head changes. Given to the scheduler's machine runtime, it lets every
 * cronTaskMachine keep its own `delays` (the machine stays unchanged, its events and replay exact) while
 * 100k armed tasks cost one real timer and no polling: idle CPU is zero between fires.
 *
 * Semantics match the clock below: a callback runs once the base clock's `now()` has reached its due time;
 * due callbacks run in `(due, arming order)`; one armed by a callback and already due runs in the same
 * wake. On a {@link ManualClock} base, `advance` therefore fires heap timers exactly as it would its own.
 *
 * @example
 * const timers = makeHeapClock(liveClock)
 * const runtime = makeMachineRuntime(writer, { clock: timers })
 */
export function makeHeapClock(base: ClockShape, options: HeapClockOptions = {}): HeapClock {
  const heap = new TimerHeap<Callback>()
  let armed: { readonly handle: TimerHandle; readonly due: number } | undefined
  let draining = false

  const report = (error: unknown) => {
    if (options.onError !== undefined) options.onError(error)
    else
      queueMicrotask(() => {
        throw error
      })
  }

  const disarm = () => {
    if (armed === undefined) return
    base.clearTimeout(armed.handle)
    armed = undefined
  }

  const rearm = () => {
    if (draining) return
    const head = heap.peek()
    if (head === undefined) {
      disarm()
      return
    }
    if (armed !== undefined && armed.due === head.due) return
    disarm()
    const delay = Math.min(Math.max(0, head.due - base.now()), MAX_BASE_TIMER_MS)
    armed = { due: head.due, handle: base.setTimeout(wake, delay) }
  }

  function wake(): void {
    armed = undefined
    draining = true
    try {
      for (;;) {
        const head = heap.peek()
        if (head === undefined || head.due > base.now()) break
        heap.pop()
        try {
          head.value()
        } catch (error) {
          report(error)
        }
      }
    } finally {
      draining = false
    }
    rearm()
  }

  return {
    now: () => base.now(),
    setTimeout: (fn, ms) => {
      const delay = Number.isFinite(ms) ? Math.max(0, ms) : 0
      const entry = heap.push(base.now() + delay, fn)
      if (heap.peek() === entry) rearm()
      return entry
    },
    clearTimeout: (handle) => {
      if (typeof handle !== "object" || handle === null) return
      const entry = handle as HeapEntry<Callback>
      const wasHead = heap.peek() === entry
      if (heap.remove(entry) && wasHead) rearm()
    },
    pending: () => heap.size,
    nextDue: () => heap.peek()?.due,
    baseTimers: () => (armed === undefined ? 0 : 1),
    clear: () => {
      heap.clear()
      disarm()
    },
  }
}
