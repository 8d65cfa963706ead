import * as Result from "effect/Result"
import { type CronSchedule, parseCronExpression } from "./cronExpression.js"
import { wallClockEngine } from "./wallClockEngine.js"
import { hostTimeZone, isValidTimeZone } from "./zoneOffset.js"
import { zoneSegmentAt } from "./zoneTransitions.js"

const MINUTE = 60_000
const DAY = 86_400_000

/**
 * cronie treats a clock jump of more than 3 hours as the clock being reset, not daylight-saving time: in such
 * a gap nothing missed runs, and in such an overlap every job runs again.
 */
export const DST_SHIFT_LIMIT_MS = 3 * 3_600_000

/** No next run within this horizon means none: the longest real wait (Feb 29 on a given weekday) is ~40 years. */
export const NEXT_RUN_HORIZON_MS = 100 * 366 * DAY

/** Date's own range, less the horizon. */
const MAX_FROM_MS = 8.64e15 - NEXT_RUN_HORIZON_MS - DAY

/**
 * The first time strictly after `fromMs` at which `cron` fires in `tz` (default: the host's zone), with
 * Vixie cron's semantics and cronie's daylight-saving policy:
 * - spring forward: a fixed-time job (minute and hour fields not starting with `*`) whose time falls in the
 *   gap runs once, at the first minute after the gap; a wildcard job skips the missing minutes;
 * - fall back: a fixed-time job runs on the first pass only; a wildcard job on both.
 *
 * Returns null when there is no run within {@link NEXT_RUN_HORIZON_MS} (`0 0 30 2 *`), and — like the seed's
 * signature — for an invalid expression or zone: check those with `parseCronExpression` / `checkTimeZone`
 * to get the coded error.
 *
 * @example
 * // 02:30 does not exist on 2026-03-08 in New York: the fixed-time job runs at 03:00 EDT.
 * nextCronRunMs("30 2 * * *", Date.parse("2026-03-08T00:00:00-05:00"), "America/New_York")
 * // => Date.parse("2026-03-08T03:00:00-04:00")
 */
export function nextCronRunMs(cron: string, fromMs: number, tz?: string): number | null {
  const parsed = parseCronExpression(cron)
  if (Result.isFailure(parsed)) return null
  const zone = tz ?? hostTimeZone()
  if (!isValidTimeZone(zone)) return null
  return nextRunOfSchedule(parsed.success, fromMs, zone)
}

/**
 * {@link nextCronRunMs} for an already parsed schedule and a valid zone.
 *
 * Walks the zone's stretches of constant offset. Within one, wall-clock time and instants correspond one to
 * one, so cron-parser's next matching wall-clock minute `w` maps to the instant `w - offset`. At a boundary:
 * - a gap (offset grows): walls in `[end + before, end + after)` have no instant; a fixed-time job with a
 *   match there fires at the boundary, everything else carries on after the gap;
 * - an overlap (offset shrinks): walls in `[end + after, end + before)` come round again; a wildcard job
 *   looks at them again, a fixed-time job continues from where the first pass stopped.
 */
export function nextRunOfSchedule(schedule: CronSchedule, fromMs: number, zone: string): number | null {
  if (!schedule.satisfiable || !Number.isFinite(fromMs) || Math.abs(fromMs) > MAX_FROM_MS) return null
  const engine = wallClockEngine(schedule)
  const limit = fromMs + NEXT_RUN_HORIZON_MS
  const first = Math.floor(fromMs / MINUTE) * MINUTE + MINUTE
  let segment = zoneSegmentAt(zone, first)
  let lo: number
  if (segment.start === first) {
    // The offset changes at the very first candidate minute: treat it as a boundary seen from before.
    segment = zoneSegmentAt(zone, first - 1)
    lo = segment.end + segment.offset
  } else {
    lo = first + segment.offset
    const repeated = segment.prevOffset - segment.offset
    if (schedule.fixedTime && repeated > 0 && repeated <= DST_SHIFT_LIMIT_MS) {
      // Inside the second pass of an overlap: the fixed-time job already ran on the first.
      lo = Math.max(lo, segment.start + segment.prevOffset)
    }
  }
  let wall = engine.firstMatchAtOrAfter(lo)
  for (;;) {
    // An instant is within ±14 h of its wall-clock time; a day of slack covers every zone.
    if (wall === null || wall - DAY > limit) return null
    if (wall < segment.end + segment.offset) return wall - segment.offset
    const boundary = segment.end
    const next = zoneSegmentAt(zone, boundary)
    const shift = next.offset - segment.offset
    const dst = Math.abs(shift) <= DST_SHIFT_LIMIT_MS
    if (shift > 0 && dst && schedule.fixedTime && wall < boundary + next.offset) return boundary
    const nextLo = shift < 0 && dst && schedule.fixedTime ? boundary + segment.offset : boundary + next.offset
    // `wall` is the first match at or after `lo`, so it stays valid for any bound in [lo, wall].
    if (nextLo < lo || nextLo > wall) wall = engine.firstMatchAtOrAfter(nextLo)
    lo = nextLo
    segment = next
  }
}
