import { Result } from "effect"
import { describe, expect, it } from "vitest"
import type { CronError } from "../../src/cron/cronError.js"
import { type CronSchedule, parseCronExpression } from "../../src/cron/cronExpression.js"

function ok(expr: string): CronSchedule {
  const r = parseCronExpression(expr)
  if (Result.isFailure(r)) throw new Error(`expected ${expr} to parse: ${r.failure.message}`)
  return r.success
}

function err(expr: string): CronError {
  const r = parseCronExpression(expr)
  if (Result.isSuccess(r)) throw new Error(`expected ${expr} to be refused`)
  return r.failure
}

const range = (lo: number, hi: number, step = 1) => {
  const out: number[] = []
  for (let v = lo; v <= hi; v += step) out.push(v)
  return out
}

describe("parseCronExpression: what Vixie cron accepts", () => {
  it("expands lists, ranges and steps on ranges and *", () => {
    const s = ok("*/15 9-17/4 1,15 */3 1-5")
    expect(s.minutes).toEqual([0, 15, 30, 45])
    expect(s.hours).toEqual([9, 13, 17])
    expect(s.daysOfMonth).toEqual([1, 15])
    expect(s.months).toEqual([1, 4, 7, 10])
    expect(s.daysOfWeek).toEqual([1, 2, 3, 4, 5])
  })

  it("accepts repeated values", () => {
    expect(ok("0 0 1-10,5 * *").daysOfMonth).toEqual(range(1, 10))
  })

  it("reads 0 and 7 as Sunday, and * in day-of-week as 0-7", () => {
    expect(ok("0 0 * * 6,0,7").daysOfWeek).toEqual([0, 6])
    expect(ok("0 0 * * 7").daysOfWeek).toEqual([0])
    expect(ok("0 0 * * 5-7").daysOfWeek).toEqual([0, 5, 6])
    expect(ok("0 0 * * */7").daysOfWeek).toEqual([0])
    expect(ok("0 0 * * 1-7/2").daysOfWeek).toEqual([0, 1, 3, 5])
  })

  it("accepts names, case-insensitively, in lists and ranges, including ranges ending in Sunday", () => {
    expect(ok("0 0 * JAN,mar-May *").months).toEqual([1, 3, 4, 5])
    expect(ok("0 0 * * MON-SUN").daysOfWeek).toEqual(range(0, 6))
    expect(ok("0 0 * * fri-sun").daysOfWeek).toEqual([0, 5, 6])
    expect(ok("0 0 * * sun-tue").daysOfWeek).toEqual([0, 1, 2])
    expect(ok("0 0 * * sun-sun").daysOfWeek).toEqual([0])
  })

  it("expands @keywords, keeping Vixie's flags", () => {
    expect(ok("@daily")).toMatchObject({ fields: "0 0 * * *", fixedTime: true })
    expect(ok("@midnight").fields).toBe("0 0 * * *")
    expect(ok("@hourly")).toMatchObject({ fields: "0 * * * *", fixedTime: false })
    expect(ok("@weekly").fields).toBe("0 0 * * 0")
    expect(ok("@monthly").fields).toBe("0 0 1 * *")
    expect(ok("@yearly").fields).toBe("0 0 1 1 *")
    expect(ok("@annually").fields).toBe("0 0 1 1 *")
    expect(ok("  @DAILY ").fields).toBe("0 0 * * *")
  })

  it("tolerates surrounding and repeated whitespace", () => {
    expect(ok("  0\t9  * * 1 ").fields).toBe("0 9 * * 1")
  })

  it("records which fields start with *: the day rule and the DST class follow from that, not from the set", () => {
    expect(ok("0 0 */2 * 1")).toMatchObject({ dayRule: "both", dayOfMonthStar: true, dayOfWeekStar: false })
    expect(ok("0 0 1-31 * 1")).toMatchObject({ dayRule: "either" })
    expect(ok("0 0 1 * 1")).toMatchObject({ dayRule: "either" })
    expect(ok("0 0 * * *")).toMatchObject({ dayRule: "both" })
    expect(ok("30 2 * * *").fixedTime).toBe(true)
    expect(ok("0-59 0-23 * * *").fixedTime).toBe(true)
    expect(ok("*/5 2 * * *").fixedTime).toBe(false)
    expect(ok("30 * * * *").fixedTime).toBe(false)
  })

  it("marks schedules whose day never comes", () => {
    expect(ok("0 0 30 2 *").satisfiable).toBe(false)
    expect(ok("0 0 31 4,6,9,11 *").satisfiable).toBe(false)
    expect(ok("0 0 */31 2 *").satisfiable).toBe(true) // day 1
    expect(ok("0 0 29 2 *").satisfiable).toBe(true)
    expect(ok("0 0 30 2 1").satisfiable).toBe(true) // OR with Mondays
  })

  it("caches: the same text gives the same object", () => {
    expect(parseCronExpression("1 2 3 4 5")).toBe(parseCronExpression("1 2 3 4 5"))
  })
})

describe("parseCronExpression: what it refuses, with AGH_CRON_INVALID naming field and reason", () => {
  const cases: ReadonlyArray<readonly [string, string | undefined, string]> = [
    [
      "5/15 * * * *",
      "minute",
      'minute field "5/15": a step needs a range or "*" (Vixie cron refuses 5/15; write 5-59/15)',
    ],
    ["0 9 * * mon/2", "dayOfWeek", 'a step needs a range or "*" (Vixie cron refuses mon/2; write mon-7/2)'],
    ["60 * * * *", "minute", 'minute field "60": value 60 is out of range 0-59'],
    ["0 24 * * *", "hour", 'hour field "24": value 24 is out of range 0-23'],
    ["0 0 0 * *", "dayOfMonth", 'day-of-month field "0": value 0 is out of range 1-31'],
    ["0 0 * 13 *", "month", 'month field "13": value 13 is out of range 1-12'],
    ["0 0 * * 8", "dayOfWeek", 'day-of-week field "8": value 8 is out of range 0-7'],
    ["0 0 * * mon-fr", "dayOfWeek", '"fr" is neither a number nor a day-of-week name (sun-sat)'],
    ["0 0 * foo *", "month", '"foo" is neither a number nor a month name (jan-dec)'],
    ["mon * * * *", "minute", 'minute field "mon": "mon" is not a number'],
    ["0 17-9 * * *", "hour", "range 17-9 runs backwards"],
    ["*/0 * * * *", "minute", 'step "0" in "*/0" is not a whole number ≥ 1'],
    ["1,,2 * * * *", "minute", "has an empty list item"],
    ["1, * * * *", "minute", "has an empty list item"],
    ["1-2-3 * * * *", "minute", '"1-2-3" is not a value or a range'],
    ["*/2/3 * * * *", "minute", '"*/2/3" has more than one "/"'],
    ["-5 * * * *", "minute", "a range is missing a bound"],
    ["*-5 * * * *", "minute", '"*" cannot be a range bound'],
    ["0 0 L * *", "dayOfMonth", '"L": L, W, #, ? and H are not Vixie cron syntax'],
    ["0 0 15W * *", "dayOfMonth", "L, W, #, ? and H are not Vixie cron syntax"],
    ["0 0 ? * 1", "dayOfMonth", "L, W, #, ? and H are not Vixie cron syntax"],
    ["0 0 * * 5#3", "dayOfWeek", "L, W, #, ? and H are not Vixie cron syntax"],
    ["H * * * *", "minute", "L, W, #, ? and H are not Vixie cron syntax"],
    ["0 0 * *", undefined, "expected 5 fields (minute hour day-of-month month day-of-week), got 4"],
    ["0 0 0 * * *", undefined, "expected 5 fields (minute hour day-of-month month day-of-week), got 6"],
    ["", undefined, "it is empty"],
    ["   ", undefined, "it is empty"],
    ["@reboot", undefined, "@reboot is not supported: a scheduled task has no boot to run at"],
    ["@sometimes", undefined, "unknown keyword @sometimes"],
  ]

  for (const [expr, field, reason] of cases) {
    it(`refuses ${JSON.stringify(expr)}`, () => {
      const e = err(expr)
      expect(e.code).toBe("AGH_CRON_INVALID")
      expect(e.reason).toBe("InvalidExpression")
      expect(e.field).toBe(field)
      expect(e.value).toBe(expr)
      expect(e.message.startsWith(`invalid cron expression ${JSON.stringify(expr)}: `)).toBe(true)
      expect(e.message).toContain(reason)
    })
  }

  it("refuses absurdly long input without scanning it", () => {
    const e = err(`${"1,".repeat(600)}1 * * * *`)
    expect(e.message).toContain("longer than 1024 characters")
  })

  it("refuses a non-string", () => {
    const e = err(42 as unknown as string)
    expect(e.code).toBe("AGH_CRON_INVALID")
    expect(e.message).toBe("invalid cron expression 42: not a string")
  })
})
