import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { formatIsoInZone, parseIsoInZone } from "../../src/cron/zonedIso.js"
import { checkTimeZone, isValidTimeZone, zoneOffsetMs } from "../../src/cron/zoneOffset.js"
import { zoneSegmentAt } from "../../src/cron/zoneTransitions.js"

const at = (iso: string) => Date.parse(iso)

describe("formatIsoInZone", () => {
  it("writes the wall-clock time with the zone's offset at that instant", () => {
    expect(formatIsoInZone(at("2026-03-08T07:00:00Z"), "America/New_York")).toBe("2026-03-08T03:00:00-04:00")
    expect(formatIsoInZone(at("2026-03-08T06:59:00Z"), "America/New_York")).toBe("2026-03-08T01:59:00-05:00")
    expect(formatIsoInZone(at("2026-01-01T00:00:00Z"), "UTC")).toBe("2026-01-01T00:00:00+00:00")
    expect(formatIsoInZone(at("2026-01-01T00:00:00Z"), "Pacific/Chatham")).toBe("2026-01-01T13:45:00+13:45")
    expect(formatIsoInZone(at("2026-01-01T00:00:00Z"), "America/St_Johns")).toBe("2025-12-31T20:30:00-03:30")
  })

  it("shows milliseconds only when there are some", () => {
    expect(formatIsoInZone(at("2026-01-01T00:10:15.250Z"), "UTC")).toBe("2026-01-01T00:10:15.250+00:00")
  })
})

describe("parseIsoInZone", () => {
  it("takes an explicit offset or Z as the instant", () => {
    expect(parseIsoInZone("2026-03-08T03:00:00-04:00", "UTC")).toBe(at("2026-03-08T07:00:00Z"))
    expect(parseIsoInZone("2026-03-08T07:00:00Z", "Asia/Tokyo")).toBe(at("2026-03-08T07:00:00Z"))
  })

  it("reads a time without offset as wall-clock time in the zone", () => {
    expect(parseIsoInZone("2026-01-15T09:30", "Europe/London")).toBe(at("2026-01-15T09:30:00Z"))
    expect(parseIsoInZone("2026-07-15T09:30:00", "Europe/London")).toBe(at("2026-07-15T08:30:00Z"))
    expect(parseIsoInZone("2026-07-15", "Asia/Kolkata")).toBe(at("2026-07-14T18:30:00Z"))
  })

  it("picks the first pass in an overlap and the end of a gap", () => {
    expect(parseIsoInZone("2026-11-01T01:30", "America/New_York")).toBe(at("2026-11-01T01:30:00-04:00"))
    expect(parseIsoInZone("2026-03-08T02:30", "America/New_York")).toBe(at("2026-03-08T03:00:00-04:00"))
  })

  it("refuses what is not an ISO date-time", () => {
    for (const bad of [
      "tomorrow",
      "2026-02-30T00:00",
      "2026-01-01T24:00",
      "2026-1-1",
      "2026-01-01T12:00+99:99",
    ]) {
      expect(parseIsoInZone(bad, "UTC")).toBeNull()
    }
  })
})

describe("zones", () => {
  it("validates zone names with a coded error", () => {
    expect(isValidTimeZone("Europe/London")).toBe(true)
    expect(isValidTimeZone("")).toBe(false)
    const r = checkTimeZone("Mars/Olympus_Mons")
    expect(Result.isFailure(r) && r.failure.code).toBe("AGH_CRON_INVALID")
    expect(Result.isFailure(r) && r.failure.message).toBe(
      'unknown time zone "Mars/Olympus_Mons" (expected an IANA name such as Europe/London)',
    )
  })

  it("reads offsets, east positive", () => {
    expect(zoneOffsetMs("America/New_York", at("2026-01-01T00:00:00Z"))).toBe(-5 * 3_600_000)
    expect(zoneOffsetMs("Asia/Kathmandu", at("2026-01-01T00:00:00Z"))).toBe(5.75 * 3_600_000)
    expect(zoneOffsetMs("UTC", at("2026-01-01T00:00:00Z"))).toBe(0)
  })

  it("finds the stretch of constant offset around an instant, to the minute", () => {
    const s = zoneSegmentAt("America/New_York", at("2026-06-01T00:00:00Z"))
    expect(s).toEqual({
      offset: -4 * 3_600_000,
      start: at("2026-03-08T07:00:00Z"),
      prevOffset: -5 * 3_600_000,
      end: at("2026-11-01T06:00:00Z"),
    })
    const justAfter = zoneSegmentAt("America/New_York", at("2026-03-08T07:00:00Z"))
    expect(justAfter.start).toBe(at("2026-03-08T07:00:00Z"))
    expect(justAfter.prevOffset).toBe(-5 * 3_600_000)
    // Nothing earlier in the year (or the day before): no known start.
    expect(zoneSegmentAt("America/New_York", at("2026-02-01T00:00:00Z")).start).toBe(Number.NEGATIVE_INFINITY)
    // No transition left this year: the stretch ends at the year's end.
    expect(zoneSegmentAt("America/New_York", at("2026-12-01T00:00:00Z")).end).toBe(at("2027-01-01T00:00:00Z"))
    expect(zoneSegmentAt("Australia/Lord_Howe", at("2026-04-04T12:00:00Z")).end).toBe(
      at("2026-04-04T15:00:00Z"),
    )
  })
})
