import { LruCache } from "./lruCache.js"
import { zoneOffsetMs } from "./zoneOffset.js"

const MINUTE = 60_000
const DAY = 86_400_000

/** A change of a zone's UTC offset: from `at` on, the offset is `after` (it was `before`). */
export interface ZoneTransition {
  readonly at: number
  readonly before: number
  readonly after: number
}

/** A zone's offset changes within one UTC year, `start < at ≤ end`. */
interface YearTable {
  readonly start: number
  readonly end: number
  /** Offset at `start` (a transition exactly at `start` is in the previous year's table). */
  readonly startOffset: number
  readonly transitions: ReadonlyArray<ZoneTransition>
}

/**
 * A stretch of constant offset around an instant. `end` is the next transition, or the end of the instant's
 * UTC year when there is none (a boundary where nothing changes, so callers need not look further ahead).
 */
export interface ZoneSegment {
  readonly offset: number
  /** The transition that began this offset, if it lies in the same UTC year or the day before; else -∞. */
  readonly start: number
  /** Offset before `start` (equal to `offset` when `start` is -∞). */
  readonly prevOffset: number
  readonly end: number
}

/** ~1.5 ms to build a table (one offset a day, then bisection): computed once per zone and year. */
const tables = new LruCache<string, YearTable>(4096)

function yearStart(year: number): number {
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  return new Date(0).setUTCFullYear(year, 0, 1)
}

/**
 * The zone's transitions in a UTC year. Samples the offset once a day and bisects to the minute where it
 * changes, so two changes that cancel out within one day would be missed — no zone has had such a pair.
 */
function yearTable(zone: string, year: number): YearTable {
  return tables.getOrCompute(`${zone}\u0000${year}`, () => {
    const start = yearStart(year)
    const end = yearStart(year + 1)
    const startOffset = zoneOffsetMs(zone, start)
    const transitions: ZoneTransition[] = []
    let previous = start
    let previousOffset = startOffset
    for (let sample = start + DAY; sample <= end; sample += DAY) {
      const sampleOffset = zoneOffsetMs(zone, sample)
      // Several changes may fall between two samples (different end offsets): find them left to right.
      while (sampleOffset !== previousOffset) {
        let lo = previous
        let hi = sample
        while (hi - lo > MINUTE) {
          const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE
          if (zoneOffsetMs(zone, mid) === previousOffset) lo = mid
          else hi = mid
        }
        const after = zoneOffsetMs(zone, hi)
        transitions.push({ at: hi, before: previousOffset, after })
        previous = hi
        previousOffset = after
      }
      previous = sample
    }
    return { start, end, startOffset, transitions }
  })
}

/** The constant-offset stretch containing `instant` in `zone` (a valid zone; see `checkTimeZone`). */
export function zoneSegmentAt(zone: string, instant: number): ZoneSegment {
  const table = yearTable(zone, new Date(instant).getUTCFullYear())
  let offset = table.startOffset
  let start = Number.NEGATIVE_INFINITY
  let prevOffset = offset
  let end = table.end
  for (const t of table.transitions) {
    if (t.at <= instant) {
      offset = t.after
      start = t.at
      prevOffset = t.before
    } else {
      end = t.at
      break
    }
  }
  if (start === Number.NEGATIVE_INFINITY && instant - table.start < DAY) {
    const last = yearTable(zone, new Date(table.start - 1).getUTCFullYear()).transitions.at(-1)
    if (last !== undefined && last.at > instant - DAY) {
      start = last.at
      prevOffset = last.before
    }
  }
  return { offset, start, prevOffset, end }
}
