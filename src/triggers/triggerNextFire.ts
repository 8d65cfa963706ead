import { jitteredNextCronRunMs } from "../cron/jitter.js"
import { type CronJitterConfig, DEFAULT_CRON_JITTER_CONFIG } from "../cron/jitterConfig.js"
import { type Trigger, triggerJitterId } from "./triggerTypes.js"

/**
 * When a trigger's schedule fires next after `fromMs`, with the recurring jitter of scheduled tasks
 * (SPEC §7: `t1 + min(jitterFrac * recurringFrac * (t2 - t1), recurringCapMs)`), the jitter id being the
 * first 8 hex characters of the trigger id. Pure. Null when the trigger has no schedule, is paused, or its
 * schedule never fires again. Triggers do not expire (`recurringMaxAgeMs` does not apply): a saved trigger
 * runs until it is paused or deleted.
 *
 * `fromMs` defaults to `trigger.schedule_from` (creation, last schedule change or re-enable, or last
 * scheduled fire), which is what the scheduler uses. A result in the past means a slot was missed while no
 * scheduler ran; the scheduler fires it once, then carries on from that fire.
 *
 * @example
 * // Every 5 minutes, trigger id trg_80000000…: 0.5 * 0.1 * 5 min = 15 s after each slot.
 * nextTriggerFireMs(trigger, Date.parse("2026-01-01T00:00:00Z")) // => Date.parse("2026-01-01T00:05:15Z")
 */
export function nextTriggerFireMs(
  trigger: Trigger,
  fromMs: number = trigger.schedule_from,
  cfg: CronJitterConfig = DEFAULT_CRON_JITTER_CONFIG,
): number | null {
  if (!trigger.enabled || trigger.schedule === null) return null
  return jitteredNextCronRunMs(
    trigger.schedule.cron,
    fromMs,
    triggerJitterId(trigger.id),
    cfg,
    trigger.schedule.tz,
  )
}
