import * as Result from "effect/Result"
import { parseCronExpression } from "./cronExpression.js"
import { type CronJitterConfig, DEFAULT_CRON_JITTER_CONFIG } from "./jitterConfig.js"
import { nextRunOfSchedule } from "./nextCronRun.js"
import { hostTimeZone, isValidTimeZone } from "./zoneOffset.js"
import { zoneSegmentAt } from "./zoneTransitions.js"

const MINUTE = 60_000

/**
 * Where in its jitter window a task fires: `parseInt(id.slice(0, 8), 16) / 2^32`, in [0, 1). Stable per task
 * id, so a task fires at the same offset every time and tasks with different ids spread out. An id that is
 * not hex yields 0 (no jitter).
 */
export function jitterFrac(taskId: string): number {
  const frac = Number.parseInt(taskId.slice(0, 8), 16) / 2 ** 32
  return frac >= 0 && frac < 1 ? frac : 0
}

function resolveZone(tz: string | undefined): string | null {
  const zone = tz ?? hostTimeZone()
  return isValidTimeZone(zone) ? zone : null
}

/** The parsed schedule, its zone and its first run after `fromMs`; null when any of them does not exist. */
function firstRunAfter(cron: string, fromMs: number, tz: string | undefined) {
  const parsed = parseCronExpression(cron)
  const zone = resolveZone(tz)
  if (Result.isFailure(parsed) || zone === null) return null
  const t1 = nextRunOfSchedule(parsed.success, fromMs, zone)
  return t1 === null ? null : { schedule: parsed.success, zone, t1 }
}

/**
 * When a recurring task fires next: `t1 + min(jitterFrac(id) * recurringFrac * (t2 - t1), recurringCapMs)`,
 * with `t1`, `t2` the next two cron times after `fromMs` (pass `lastFiredAt ?? createdAt`). Never early,
 * never more than `recurringCapMs` late, always before `t2`. The delay is truncated to whole milliseconds.
 * `tz` is the task's zone (default: the host's), an extra argument after the seed's four.
 * Null for a schedule with no next run, an invalid expression or an invalid zone.
 *
 * @example
 * // Hourly, id "80000000" (frac 0.5): 0.5 * 0.1 * 60 min = 3 min late.
 * jitteredNextCronRunMs("0 * * * *", Date.parse("2026-01-01T00:10:00Z"), "80000000", undefined, "UTC")
 * // => Date.parse("2026-01-01T01:03:00Z")
 */
export function jitteredNextCronRunMs(
  cron: string,
  fromMs: number,
  taskId: string,
  cfg: CronJitterConfig = DEFAULT_CRON_JITTER_CONFIG,
  tz?: string,
): number | null {
  const first = firstRunAfter(cron, fromMs, tz)
  if (first === null) return null
  const { schedule, zone, t1 } = first
  const t2 = nextRunOfSchedule(schedule, t1, zone)
  // No following run means no interval to take a fraction of.
  if (t2 === null) return t1
  return t1 + Math.floor(Math.min(jitterFrac(taskId) * cfg.recurringFrac * (t2 - t1), cfg.recurringCapMs))
}

/**
 * When a one-shot task fires: its cron time `t1`, pulled `oneShotFloorMs + jitterFrac(id) * (oneShotMaxMs -
 * oneShotFloorMs)` early when `t1`'s local minute is divisible by `oneShotMinuteMod` (so tasks set for
 * "9:00" do not all start together), but never before `fromMs` (now). The lead is truncated to whole
 * milliseconds. `tz` as for {@link jitteredNextCronRunMs}.
 *
 * @example
 * // Due 09:00 (minute 0), id "80000000": 45 s early.
 * oneShotJitteredNextCronRunMs("0 9 * * *", Date.parse("2026-01-01T08:00:00Z"), "80000000", undefined, "UTC")
 * // => Date.parse("2026-01-01T08:59:15Z")
 */
export function oneShotJitteredNextCronRunMs(
  cron: string,
  fromMs: number,
  taskId: string,
  cfg: CronJitterConfig = DEFAULT_CRON_JITTER_CONFIG,
  tz?: string,
): number | null {
  const first = firstRunAfter(cron, fromMs, tz)
  if (first === null) return null
  const { zone, t1 } = first
  const localMinute = ((Math.floor((t1 + zoneSegmentAt(zone, t1).offset) / MINUTE) % 60) + 60) % 60
  if (localMinute % cfg.oneShotMinuteMod !== 0) return t1
  const lead = cfg.oneShotFloorMs + jitterFrac(taskId) * (cfg.oneShotMaxMs - cfg.oneShotFloorMs)
  return Math.max(fromMs, t1 - Math.floor(lead))
}
