import { describe, expect, it } from "vitest"
import { nextCronRunMs } from "../../src/cron/nextCronRun.js"
import { formatIsoInZone } from "../../src/cron/zonedIso.js"
import { oracleNextRun } from "../support/cronOracle.js"

/** The next `expected.length` runs after `from`, as ISO in the zone — from the wrapper and from the oracle. */
function runs(expr: string, zone: string, from: string, count: number) {
  const wrapper: string[] = []
  const oracle: string[] = []
  let t = Date.parse(from)
  let o = t
  for (let i = 0; i < count; i++) {
    const next = nextCronRunMs(expr, t, zone)
    if (next === null) break
    wrapper.push(formatIsoInZone(next, zone))
    t = next
  }
  for (let i = 0; i < count; i++) {
    const next = oracleNextRun(expr, o, zone)
    if (next.kind === "none") break
    oracle.push(formatIsoInZone(next.at, zone))
    o = next.at
  }
  return { wrapper, oracle }
}

function expectRuns(expr: string, zone: string, from: string, expected: string[]) {
  const { wrapper, oracle } = runs(expr, zone, from, expected.length)
  expect(wrapper).toEqual(expected)
  // The same expectations validate the oracle the property tests rely on.
  expect(oracle).toEqual(expected)
}

describe("nextCronRunMs: Vixie cron where cron-parser differs", () => {
  it("accepts repeated values", () => {
    expectRuns("0 0 1-10,5 * *", "UTC", "2026-01-04T12:00:00Z", [
      "2026-01-05T00:00:00+00:00",
      "2026-01-06T00:00:00+00:00",
    ])
  })

  it("reads 0 and 7 both as Sunday", () => {
    // 2026-01-07 is a Wednesday.
    expectRuns("0 12 * * 6,0,7", "UTC", "2026-01-07T00:00:00Z", [
      "2026-01-10T12:00:00+00:00",
      "2026-01-11T12:00:00+00:00",
      "2026-01-17T12:00:00+00:00",
    ])
  })

  it("accepts ranges ending in Sunday", () => {
    expectRuns("0 9 * * fri-sun", "UTC", "2026-01-05T00:00:00Z", [
      "2026-01-09T09:00:00+00:00",
      "2026-01-10T09:00:00+00:00",
      "2026-01-11T09:00:00+00:00",
      "2026-01-16T09:00:00+00:00",
    ])
    expectRuns("30 6 * * MON-SUN", "UTC", "2026-01-10T07:00:00Z", [
      "2026-01-11T06:30:00+00:00",
      "2026-01-12T06:30:00+00:00",
    ])
  })

  it("ANDs the day fields when one starts with * (so */2 still means odd days)", () => {
    // Odd days that are Mondays: Jan 5 and 19, Feb 9 and 23 (cron-parser ORs them: Jan 1, 3, 5, ...).
    expectRuns("0 0 */2 * 1", "UTC", "2026-01-01T00:00:00Z", [
      "2026-01-05T00:00:00+00:00",
      "2026-01-19T00:00:00+00:00",
      "2026-02-09T00:00:00+00:00",
      "2026-02-23T00:00:00+00:00",
    ])
    // The 1st of a month that is a Sunday (`*/7` in day-of-week is {0, 7}).
    expectRuns("0 0 1 * */7", "UTC", "2026-01-01T00:00:00Z", [
      "2026-02-01T00:00:00+00:00",
      "2026-03-01T00:00:00+00:00",
      "2026-11-01T00:00:00+00:00",
    ])
  })

  it("ORs the day fields when both are restricted, even when one lists every day", () => {
    expectRuns("0 0 1,15 * 5", "UTC", "2026-01-01T00:00:00Z", [
      "2026-01-02T00:00:00+00:00",
      "2026-01-09T00:00:00+00:00",
      "2026-01-15T00:00:00+00:00",
      "2026-01-16T00:00:00+00:00",
    ])
    expectRuns("0 0 1-31 * 1", "UTC", "2026-01-01T00:00:00Z", [
      "2026-01-02T00:00:00+00:00",
      "2026-01-03T00:00:00+00:00",
    ])
  })

  it("expands @keywords", () => {
    expectRuns("@hourly", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T01:00:00+00:00"])
    expectRuns("@daily", "UTC", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00+00:00"])
    expectRuns("@midnight", "UTC", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00+00:00"])
    expectRuns("@weekly", "UTC", "2026-01-01T00:00:00Z", ["2026-01-04T00:00:00+00:00"])
    expectRuns("@monthly", "UTC", "2026-01-01T00:00:00Z", ["2026-02-01T00:00:00+00:00"])
    expectRuns("@yearly", "UTC", "2026-01-01T00:00:00Z", ["2027-01-01T00:00:00+00:00"])
    expectRuns("@annually", "UTC", "2026-01-01T00:00:00Z", ["2027-01-01T00:00:00+00:00"])
  })
})

describe("nextCronRunMs: calendar", () => {
  it("is strictly after fromMs, from any millisecond", () => {
    const at = Date.parse("2026-01-01T10:00:00Z")
    expect(nextCronRunMs("0 10 * * *", at, "UTC")).toBe(Date.parse("2026-01-02T10:00:00Z"))
    expect(nextCronRunMs("0 10 * * *", at - 1, "UTC")).toBe(at)
    expect(nextCronRunMs("* * * * *", at + 59_999, "UTC")).toBe(at + 60_000)
  })

  it("finds Feb 29 in the next leap year", () => {
    expectRuns("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", ["2028-02-29T00:00:00+00:00"])
    expect(nextCronRunMs("0 0 29 2 *", Date.parse("2028-03-01T00:00:00Z"), "UTC")).toBe(
      Date.parse("2032-02-29T00:00:00Z"),
    )
  })

  it("returns null for a day that never comes", () => {
    expect(nextCronRunMs("0 0 30 2 *", Date.parse("2026-01-01T00:00:00Z"), "UTC")).toBeNull()
    expect(nextCronRunMs("0 0 31 2,4,6 *", Date.parse("2026-01-01T00:00:00Z"), "UTC")).toBeNull()
    // A weekday rescues an impossible day of month (OR), even on Feb 30.
    expect(nextCronRunMs("0 0 30 2 1", Date.parse("2026-01-01T00:00:00Z"), "UTC")).toBe(
      Date.parse("2026-02-02T00:00:00Z"),
    )
  })

  it("returns null for an invalid expression, zone or instant", () => {
    expect(nextCronRunMs("5/15 * * * *", 0, "UTC")).toBeNull()
    expect(nextCronRunMs("* * * * *", 0, "Mars/Olympus_Mons")).toBeNull()
    expect(nextCronRunMs("* * * * *", Number.NaN, "UTC")).toBeNull()
    expect(nextCronRunMs("* * * * *", 8.64e15, "UTC")).toBeNull()
  })

  it("uses the zone's local time, including half- and quarter-hour offsets", () => {
    expectRuns("0 9 * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z", ["2026-01-01T09:00:00+05:30"])
    expectRuns("0 9 * * *", "Asia/Kathmandu", "2026-01-01T00:00:00Z", ["2026-01-01T09:00:00+05:45"])
  })

  it("defaults to the host's zone", () => {
    const from = Date.parse("2026-06-01T00:00:00Z")
    const host = new Intl.DateTimeFormat().resolvedOptions().timeZone
    expect(nextCronRunMs("17 13 * * *", from)).toBe(nextCronRunMs("17 13 * * *", from, host))
  })
})

describe("nextCronRunMs: spring forward (cronie)", () => {
  // America/New_York, 2026-03-08: 02:00 EST becomes 03:00 EDT.
  const ny = "America/New_York"

  it("runs a fixed-time job in the gap once, at the first minute after it", () => {
    expectRuns("30 2 * * *", ny, "2026-03-07T12:00:00-05:00", [
      "2026-03-08T03:00:00-04:00",
      "2026-03-09T02:30:00-04:00",
    ])
    expectRuns("0,15,30,45 2 * * *", ny, "2026-03-07T12:00:00-05:00", [
      "2026-03-08T03:00:00-04:00",
      "2026-03-09T02:00:00-04:00",
    ])
    // The gap's catch-up and 03:00 itself are one run; 03:30 runs as usual.
    expectRuns("0,30 2,3 * * *", ny, "2026-03-08T01:00:00-05:00", [
      "2026-03-08T03:00:00-04:00",
      "2026-03-08T03:30:00-04:00",
    ])
  })

  it("starts from inside the minute before the gap", () => {
    expectRuns("30 2 * * *", ny, "2026-03-08T01:59:30-05:00", ["2026-03-08T03:00:00-04:00"])
  })

  it("lets a wildcard job skip the missing minutes", () => {
    expectRuns("*/30 2 * * *", ny, "2026-03-07T12:00:00-05:00", [
      "2026-03-09T02:00:00-04:00",
      "2026-03-09T02:30:00-04:00",
    ])
    expectRuns("0 * * * *", ny, "2026-03-08T01:30:00-05:00", [
      "2026-03-08T03:00:00-04:00",
      "2026-03-08T04:00:00-04:00",
    ])
    expectRuns("*/15 * * * *", ny, "2026-03-08T01:50:00-05:00", [
      "2026-03-08T03:00:00-04:00",
      "2026-03-08T03:15:00-04:00",
    ])
  })

  it("handles Lord Howe's 30-minute shift (02:00 becomes 02:30)", () => {
    // cron-parser skips the whole day here; cronie runs the job at 02:30.
    expectRuns("15 2 * * *", "Australia/Lord_Howe", "2025-10-04T12:00:00+10:30", [
      "2025-10-05T02:30:00+11:00",
      "2025-10-06T02:15:00+11:00",
    ])
    expectRuns("*/10 2 * * *", "Australia/Lord_Howe", "2025-10-05T01:55:00+10:30", [
      "2025-10-05T02:30:00+11:00",
      "2025-10-05T02:40:00+11:00",
    ])
  })

  it("handles Chatham's quarter-hour zone (02:45 becomes 03:45)", () => {
    expectRuns("0 3 * * *", "Pacific/Chatham", "2026-09-26T12:00:00+12:45", [
      "2026-09-27T03:45:00+13:45",
      "2026-09-28T03:00:00+13:45",
    ])
  })

  it("handles a gap at midnight (São Paulo 2018: 00:00 became 01:00)", () => {
    expectRuns("30 0 * * *", "America/Sao_Paulo", "2018-11-03T12:00:00-03:00", [
      "2018-11-04T01:00:00-02:00",
      "2018-11-05T00:30:00-02:00",
    ])
  })

  it("treats a jump of more than 3 hours as a clock change: nothing missed runs (Samoa skipped 2011-12-30)", () => {
    expectRuns("0 12 * * *", "Pacific/Apia", "2011-12-29T13:00:00-10:00", [
      "2011-12-31T12:00:00+14:00",
      "2012-01-01T12:00:00+14:00",
    ])
  })
})

describe("nextCronRunMs: fall back (cronie)", () => {
  // America/New_York, 2026-11-01: 02:00 EDT becomes 01:00 EST.
  const ny = "America/New_York"

  it("runs a fixed-time job on the first pass only", () => {
    expectRuns("30 1 * * *", ny, "2026-11-01T00:00:00-04:00", [
      "2026-11-01T01:30:00-04:00",
      "2026-11-02T01:30:00-05:00",
    ])
    expectRuns("0 1 * * *", ny, "2026-11-01T00:30:00-04:00", [
      "2026-11-01T01:00:00-04:00",
      "2026-11-02T01:00:00-05:00",
    ])
  })

  it("does not run a fixed-time job when starting inside the second pass", () => {
    expectRuns("30 1 * * *", ny, "2026-11-01T01:10:00-05:00", ["2026-11-02T01:30:00-05:00"])
  })

  it("runs a wildcard job on both passes", () => {
    expectRuns("*/30 1 * * *", ny, "2026-11-01T00:50:00-04:00", [
      "2026-11-01T01:00:00-04:00",
      "2026-11-01T01:30:00-04:00",
      "2026-11-01T01:00:00-05:00",
      "2026-11-01T01:30:00-05:00",
      "2026-11-02T01:00:00-05:00",
    ])
    expectRuns("@hourly", ny, "2026-11-01T00:30:00-04:00", [
      "2026-11-01T01:00:00-04:00",
      "2026-11-01T01:00:00-05:00",
      "2026-11-01T02:00:00-05:00",
    ])
  })

  it("runs a wildcard job on the second pass when starting late in the first", () => {
    expectRuns("15 * * * *", ny, "2026-11-01T01:40:00-04:00", [
      "2026-11-01T01:15:00-05:00",
      "2026-11-01T02:15:00-05:00",
    ])
  })

  it("handles Lord Howe's 30-minute overlap (02:00 becomes 01:30)", () => {
    const lh = "Australia/Lord_Howe"
    expectRuns("45 1 * * *", lh, "2026-04-05T01:00:00+11:00", [
      "2026-04-05T01:45:00+11:00",
      "2026-04-06T01:45:00+10:30",
    ])
    expectRuns("*/15 1 * * *", lh, "2026-04-05T01:40:00+11:00", [
      "2026-04-05T01:45:00+11:00",
      "2026-04-05T01:30:00+10:30",
      "2026-04-05T01:45:00+10:30",
      "2026-04-06T01:00:00+10:30",
    ])
  })

  it("handles an overlap before midnight (São Paulo 2019: 00:00 became 23:00)", () => {
    expectRuns("30 23 * * *", "America/Sao_Paulo", "2019-02-16T12:00:00-02:00", [
      "2019-02-16T23:30:00-02:00",
      "2019-02-17T23:30:00-03:00",
    ])
  })
})
