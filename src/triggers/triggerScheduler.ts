import type { ClockShape, TimerHandle } from "../adapters/clock.js"
import { type CronJitterConfig, DEFAULT_CRON_JITTER_CONFIG } from "../cron/jitterConfig.js"
import { nextTriggerFireMs } from "./triggerNextFire.js"
import type { TriggerStore } from "./triggerStore.js"

/**
 * Node runs a timer of more than 2^31 - 1 ms at once; a long wait (a yearly schedule) is armed in steps
 * of at most this, re-checked at each step.
 */
export const MAX_TIMER_STEP_MS = 2 ** 31 - 1

/** Options of {@link TriggerScheduler}. */
export interface TriggerSchedulerOptions {
  readonly store: TriggerStore
  /** Where time and timers come from: `liveClock` in the host, a `ManualClock` in tests. */
  readonly clock: ClockShape
  /**
   * The jitter settings, read each time a timer is armed, so a change takes effect at the next arming
   * (call {@link TriggerScheduler.rearm} to apply it at once). Default: SPEC §7's defaults.
   */
  readonly jitter?: () => CronJitterConfig
  /** A fire that failed outside the store's own recording (store closed, trigger just deleted). */
  readonly onError?: (error: unknown, triggerId: string) => void
}

interface Armed {
  readonly due: number
  readonly handle: TimerHandle
}

/**
 * Fires scheduled triggers: one timer per enabled trigger with a schedule, armed on the injected clock for
 * {@link nextTriggerFireMs} (the cron time plus the trigger's jitter), firing through
 * `store.fireTrigger(id, now, "schedule")` — which records the run in the trigger's history — and re-armed
 * from that fire. Every store change re-arms the trigger it touched: a new schedule or a re-enable counts
 * from the change, pausing or deleting disarms. A slot that passed while no scheduler ran (host down) fires
 * once when the scheduler starts, not once per missed slot.
 *
 * @example
 * const scheduler = new TriggerScheduler({ store, clock: liveClock })
 * scheduler.start()
 * // ... on shutdown:
 * scheduler.stop()
 * await scheduler.whenIdle()
 */
export class TriggerScheduler {
  private readonly timers = new Map<string, Armed>()
  private readonly firing = new Map<string, Promise<void>>()
  /** When each trigger last fired here: even a fire the store failed to record consumes its slot. */
  private readonly firedAt = new Map<string, number>()
  private unsubscribe: (() => void) | undefined

  constructor(private readonly options: TriggerSchedulerOptions) {}

  /** Arms every scheduled trigger and follows the store's changes. Idempotent. */
  start(): void {
    if (this.unsubscribe !== undefined) return
    this.unsubscribe = this.options.store.subscribe((event) =>
      this.reconcile(event.type === "trigger.created" ? event.trigger.id : event.id),
    )
    this.rearm()
  }

  /** Disarms every timer and stops following the store. Fires already running finish (see whenIdle). */
  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    for (const armed of this.timers.values()) this.options.clock.clearTimeout(armed.handle)
    this.timers.clear()
  }

  /** Re-arms every trigger, e.g. after the jitter settings changed. */
  rearm(): void {
    if (this.unsubscribe === undefined) return
    for (const id of this.timers.keys()) this.reconcile(id, true)
    for (const trigger of this.options.store.list()) this.reconcile(trigger.id, true)
  }

  /** When each armed trigger fires next (epoch ms), by id. */
  armed(): ReadonlyMap<string, number> {
    return new Map([...this.timers].map(([id, armed]) => [id, armed.due]))
  }

  /** Resolves once no fire is in flight (each fire's run recorded in the store). */
  async whenIdle(): Promise<void> {
    while (this.firing.size > 0) await Promise.allSettled([...this.firing.values()])
  }

  private reconcile(id: string, force = false): void {
    if (this.unsubscribe === undefined || this.firing.has(id)) return
    const trigger = this.options.store.get(id)
    const cfg = this.options.jitter?.() ?? DEFAULT_CRON_JITTER_CONFIG
    if (trigger === undefined) this.firedAt.delete(id)
    const from = Math.max(trigger?.schedule_from ?? 0, this.firedAt.get(id) ?? 0)
    const due = trigger === undefined ? null : nextTriggerFireMs(trigger, from, cfg)
    const current = this.timers.get(id)
    if (current !== undefined) {
      if (!force && current.due === due) return
      this.options.clock.clearTimeout(current.handle)
      this.timers.delete(id)
    }
    if (due !== null) this.arm(id, due)
  }

  private arm(id: string, due: number): void {
    const delay = Math.min(Math.max(0, due - this.options.clock.now()), MAX_TIMER_STEP_MS)
    const handle = this.options.clock.setTimeout(() => this.onTimer(id, due), delay)
    this.timers.set(id, { due, handle })
  }

  private onTimer(id: string, due: number): void {
    this.timers.delete(id)
    if (this.unsubscribe === undefined) return
    if (this.options.clock.now() < due) {
      this.arm(id, due)
      return
    }
    const now = this.options.clock.now()
    this.firedAt.set(id, now)
    const fire = this.options.store
      .fireTrigger(id, now, "schedule")
      .then(
        () => undefined,
        (error: unknown) => this.options.onError?.(error, id),
      )
      .finally(() => {
        this.firing.delete(id)
        // The recorded fire moved the trigger's schedule_from past this slot: the next timer is the next slot.
        this.reconcile(id)
      })
    this.firing.set(id, fire)
  }
}
