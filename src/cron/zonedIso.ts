import { zoneOffsetMs } from "./zoneOffset.js"
import { zoneSegmentAt } from "./zoneTransitions.js"

const HOUR = 3_600_000

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/**
 * ISO-8601 with the zone's offset at that instant, e.g. `2026-03-08T03:00:00-04:00`; milliseconds are shown
 * only when there are some (jittered times). Zero offsets print `+00:00`, so output is uniform.
 */
export function formatIsoInZone(instant: number, zone: string): string {
  const offset = zoneOffsetMs(zone, instant)
  const wall = new Date(instant + offset)
  const ms = wall.getUTCMilliseconds()
  const abs = Math.abs(Math.round(offset / 60_000))
  const sign = offset < 0 ? "-" : "+"
  const year = wall.getUTCFullYear()
  const yearText =
    year >= 0 && year <= 9999 ? pad(year, 4) : `${year < 0 ? "-" : "+"}${pad(Math.abs(year), 6)}`
  return (
    `${yearText}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}` +
    `${ms === 0 ? "" : `.${pad(ms, 3)}`}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  )
}

const LOCAL_ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/
const HAS_OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i

/**
 * Reads an ISO-8601 date-time. With an offset (or `Z`) it is that instant; without one it is wall-clock time
 * in `zone`: the earlier of two instants in a fall-back overlap, the first instant after a spring-forward
 * gap. Null when the text is not such a date-time.
 */
export function parseIsoInZone(text: string, zone: string): number | null {
  if (HAS_OFFSET.test(text) && text.includes("T")) {
    const instant = Date.parse(text)
    return Number.isFinite(instant) ? instant : null
  }
  const m = LOCAL_ISO.exec(text)
  if (m === null) return null
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) =>
    Number(v ?? 0),
  )
  const wall = Date.UTC(
    year!,
    month! - 1,
    day!,
    hour!,
    minute!,
    second!,
    Number((m[7] ?? "0").padEnd(3, "0")),
  )
  const check = new Date(wall)
  if (
    check.getUTCMonth() !== month! - 1 ||
    check.getUTCDate() !== day! ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  ) {
    return null
  }
  // An instant is within a day of its wall-clock time; the offsets a day either side cover both sides of
  // any transition nearby.
  const candidates = [zoneOffsetMs(zone, wall - 15 * HOUR), zoneOffsetMs(zone, wall + 15 * HOUR)]
    .map((offset) => wall - offset)
    .filter((instant) => instant + zoneOffsetMs(zone, instant) === wall)
  if (candidates.length > 0) return Math.min(...candidates)
  // In a gap: the first instant after it is where this zone's current stretch of offset begins.
  const afterGap = wall - zoneOffsetMs(zone, wall - 15 * HOUR)
  const start = zoneSegmentAt(zone, afterGap).start
  return Number.isFinite(start) ? start : afterGap
}
