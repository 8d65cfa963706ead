import { type CronExpression, CronExpressionParser } from "cron-parser"
import type { CronSchedule } from "./cronExpression.js"

const DAY = 86_400_000

/** Enough for a day-of-week filter to reach any day it can (Feb 29 on a given weekday: a handful of leap years). */
const MAX_FILTERED_CANDIDATES = 1000

/**
 * Finds matching wall-clock times: local date and time written as if it were UTC ("floating" time), so a
 * day is always 24 hours and there is no daylight-saving time. cron-parser does this calendar arithmetic
 * (month lengths, leap years, weekdays) in its UTC mode; the zone and its DST policy are the caller's.
 */
export interface WallClockEngine {
  /** The first matching wall-clock minute at or after `wallMs`, or null if cron-parser finds none. */
  readonly firstMatchAtOrAfter: (wallMs: number) => number | null
}

/** One engine per parsed schedule; schedules are cached by the parser, so engines live as long as they do. */
const engines = new WeakMap<CronSchedule, WallClockEngine>()

/** The cron-parser engine for `schedule` (compiled on first use). */
export function wallClockEngine(schedule: CronSchedule): WallClockEngine {
  let engine = engines.get(schedule)
  if (engine === undefined) {
    engine = compile(schedule)
    engines.set(schedule, engine)
  }
  return engine
}

const list = (values: ReadonlyArray<number>, size: number) =>
  values.length === size ? "*" : values.join(",")

/**
 * Translates Vixie semantics into an expression cron-parser evaluates the same way. cron-parser treats a day
 * field as unrestricted only when it is exactly `*` and ORs two restricted day fields, so:
 * - `either` (Vixie's OR) with a full field is every day: `* *`;
 * - `both` (Vixie's AND) with one full field is the other field alone, which cron-parser does right;
 * - `both` with two partial fields (`*\/2` and `1`) cannot be said to cron-parser: it gets the day-of-month
 *   alone and the weekday is filtered here.
 */
function compile(schedule: CronSchedule): WallClockEngine {
  const domFull = schedule.daysOfMonth.length === 31
  const dowFull = schedule.daysOfWeek.length === 7
  const doms = list(schedule.daysOfMonth, 31)
  const dows = list(schedule.daysOfWeek, 7)
  let domField = doms
  let dowField = dows
  let weekdayFilter: ReadonlyArray<boolean> | undefined
  if (schedule.dayRule === "either") {
    if (domFull || dowFull) [domField, dowField] = ["*", "*"]
  } else if (!domFull && !dowFull) {
    dowField = "*"
    weekdayFilter = Array.from({ length: 7 }, (_, d) => schedule.daysOfWeek.includes(d))
  }
  const hours = list(schedule.hours, 24)
  const text = `0 ${list(schedule.minutes, 60)} ${hours} ${domField} ${list(schedule.months, 12)} ${dowField}`
  let expression: CronExpression
  try {
    // currentDate is set on every use; giving one here keeps cron-parser from reading the wall clock.
    expression = CronExpressionParser.parse(text, { tz: "UTC", currentDate: 0 })
  } catch {
    // Unreachable for what parseCronExpression accepts (impossible days never get here); if cron-parser
    // ever disagrees, the schedule has no run rather than a crash in the scheduler.
    return { firstMatchAtOrAfter: () => null }
  }
  return {
    firstMatchAtOrAfter: (wallMs) => {
      let from = wallMs
      for (let i = 0; i < MAX_FILTERED_CANDIDATES; i++) {
        // cron-parser returns the first time strictly after its current date.
        expression.reset(new Date(from - 1))
        let found: number
        try {
          found = expression.next().getTime()
        } catch {
          // cron-parser gives up after 10 000 steps (decades of skipped months): nothing within reach.
          return null
        }
        if (weekdayFilter === undefined) return found
        // 1970-01-01 was a Thursday (4).
        const weekday = (((Math.floor(found / DAY) + 4) % 7) + 7) % 7
        if (weekdayFilter[weekday]) return found
        from = Math.floor(found / DAY) * DAY + DAY
      }
      return null
    },
  }
}
