import * as Result from "effect/Result"
import { CronError, type CronFieldName } from "./cronError.js"
import { LruCache } from "./lruCache.js"

/**
 * A parsed 5-field cron expression with Vixie cron's meaning. The value sets are what the fields expand to;
 * the `*Star` flags record whether a field's text starts with `*`, which is what Vixie cron (and cronie) use
 * to decide the day rule and the daylight-saving policy — not whether the set happens to be full.
 */
export interface CronSchedule {
  /** The expression as given. */
  readonly expression: string
  /** The five fields after `@keyword` expansion, e.g. `0 0 * * *` for `@daily`. */
  readonly fields: string
  readonly minutes: ReadonlyArray<number>
  readonly hours: ReadonlyArray<number>
  readonly daysOfMonth: ReadonlyArray<number>
  readonly months: ReadonlyArray<number>
  /** 0 = Sunday … 6 = Saturday (a written `7` is Sunday too). */
  readonly daysOfWeek: ReadonlyArray<number>
  readonly minuteStar: boolean
  readonly hourStar: boolean
  readonly dayOfMonthStar: boolean
  readonly dayOfWeekStar: boolean
  /**
   * Neither minute nor hour starts with `*`: a job "at a fixed time". In a spring-forward gap it runs once
   * at the first minute after the gap; in a fall-back overlap it runs on the first pass only.
   */
  readonly fixedTime: boolean
  /**
   * `either` when both day fields are restricted (neither starts with `*`): a day matches if either field
   * does. Otherwise `both`: the day must match both fields (a field starting with `*` matches on its own
   * terms, so `*\/2` in day-of-month still means odd days).
   */
  readonly dayRule: "either" | "both"
  /** False when no day of any year can match (e.g. `0 0 30 2 *`): such a schedule never fires. */
  readonly satisfiable: boolean
}

interface FieldSpec {
  readonly name: CronFieldName
  readonly label: string
  readonly min: number
  readonly max: number
  /** Three-letter names, value = index + `nameBase`. */
  readonly names?: ReadonlyArray<string>
  readonly nameBase?: number
}

const FIELDS: ReadonlyArray<FieldSpec> = [
  { name: "minute", label: "minute", min: 0, max: 59 },
  { name: "hour", label: "hour", min: 0, max: 23 },
  { name: "dayOfMonth", label: "day-of-month", min: 1, max: 31 },
  {
    name: "month",
    label: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    nameBase: 1,
  },
  // Vixie cron's day-of-week runs 0-7 with both ends Sunday.
  {
    name: "dayOfWeek",
    label: "day-of-week",
    min: 0,
    max: 7,
    names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    nameBase: 0,
  },
]

/** Vixie cron's keywords. `@reboot` is refused: there is no boot for a scheduled task to run at. */
const KEYWORDS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
}

/** Longest day of each month (February: 29, it happens in leap years). */
const MAX_DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Longer expressions are never meaningful (listing every value of every field takes ~400 characters). */
const MAX_EXPRESSION_LENGTH = 1024

/** Parses are cached by expression text; parsing dominates scheduling cost (../shared/PERF.md). */
const PARSE_CACHE_CAPACITY = 1024

const cache = new LruCache<string, Result.Result<CronSchedule, CronError>>(PARSE_CACHE_CAPACITY)

/**
 * Parses a 5-field cron expression (or an `@keyword`) with Vixie cron's grammar: lists, ranges, steps on
 * ranges and `*`, month and weekday names (case-insensitive), `0` and `7` both Sunday, ranges ending in
 * Sunday (`MON-SUN`), repeated values. Refuses `N/step` (Vixie cron does), Quartz extensions (`L W # ? H`)
 * and seconds fields. Results, errors included, are cached (bounded LRU), so calling it per fire is cheap.
 *
 * @example
 * const parsed = parseCronExpression("*\/15 9-17 * * mon-fri")
 * if (Result.isFailure(parsed)) console.error(parsed.failure.code, parsed.failure.message)
 */
export function parseCronExpression(expression: string): Result.Result<CronSchedule, CronError> {
  if (typeof expression !== "string") {
    return Result.fail(
      new CronError({
        reason: "InvalidExpression",
        message: `invalid cron expression ${String(expression)}: not a string`,
      }),
    )
  }
  return cache.getOrCompute(expression, parseUncached)
}

function parseUncached(expression: string): Result.Result<CronSchedule, CronError> {
  const fail = (message: string, field?: CronFieldName) =>
    Result.fail(
      new CronError({
        reason: "InvalidExpression",
        message: `invalid cron expression ${JSON.stringify(expression)}: ${message}`,
        value: expression,
        ...(field === undefined ? {} : { field }),
      }),
    )
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    return fail(`longer than ${MAX_EXPRESSION_LENGTH} characters`)
  }
  let text = expression.trim()
  if (text === "") return fail("it is empty")
  if (text.startsWith("@")) {
    const keyword = text.toLowerCase()
    if (keyword === "@reboot") return fail("@reboot is not supported: a scheduled task has no boot to run at")
    const expansion = KEYWORDS[keyword]
    if (expansion === undefined) {
      return fail(`unknown keyword ${text} (known: ${Object.keys(KEYWORDS).join(" ")})`)
    }
    text = expansion
  }
  const parts = text.split(/\s+/)
  if (parts.length !== FIELDS.length) {
    return fail(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`)
  }
  const sets: number[][] = []
  for (let i = 0; i < FIELDS.length; i++) {
    const spec = FIELDS[i]!
    const part = parts[i]!
    const parsed = parseField(spec, part)
    if (typeof parsed === "string")
      return fail(`${spec.label} field ${JSON.stringify(part)}: ${parsed}`, spec.name)
    sets.push(parsed)
  }
  const [minutes, hours, daysOfMonth, months, rawDaysOfWeek] = sets as [
    number[],
    number[],
    number[],
    number[],
    number[],
  ]
  const daysOfWeek = uniqueSorted(rawDaysOfWeek.map((d) => d % 7))
  const [minuteStar, hourStar, dayOfMonthStar, dayOfWeekStar] = [0, 1, 2, 4].map((i) =>
    parts[i]!.startsWith("*"),
  )
  const dayRule = dayOfMonthStar || dayOfWeekStar ? "both" : "either"
  const satisfiable =
    dayRule === "either" || months.some((m) => daysOfMonth.some((d) => d <= (MAX_DAYS_IN_MONTH[m - 1] ?? 0)))
  return Result.succeed({
    expression,
    fields: parts.join(" "),
    minutes: uniqueSorted(minutes),
    hours: uniqueSorted(hours),
    daysOfMonth: uniqueSorted(daysOfMonth),
    months: uniqueSorted(months),
    daysOfWeek,
    minuteStar: minuteStar!,
    hourStar: hourStar!,
    dayOfMonthStar: dayOfMonthStar!,
    dayOfWeekStar: dayOfWeekStar!,
    fixedTime: !minuteStar && !hourStar,
    dayRule,
    satisfiable,
  })
}

/** The field's values, or why the text is not a valid field. */
function parseField(spec: FieldSpec, text: string): number[] | string {
  const values: number[] = []
  for (const item of text.split(",")) {
    if (item === "") return "has an empty list item"
    const slash = item.split("/")
    if (slash.length > 2) return `${JSON.stringify(item)} has more than one "/"`
    const [range, stepText] = slash as [string, string | undefined]
    let low: number
    let high: number
    if (range === "*") {
      low = spec.min
      high = spec.max
    } else {
      const bounds = range.split("-")
      if (bounds.length > 2) return `${JSON.stringify(item)} is not a value or a range`
      const first = parseValue(spec, bounds[0]!)
      if (typeof first === "string") return first
      low = first
      if (bounds.length === 1) {
        if (stepText !== undefined) {
          return `a step needs a range or "*" (Vixie cron refuses ${item}; write ${range}-${spec.max}/${stepText})`
        }
        high = low
      } else {
        const second = parseValue(spec, bounds[1]!)
        if (typeof second === "string") return second
        // `MON-SUN`, `fri-sun`: the name "sun" ending a range means day 7, as the numeral 7 would.
        high = spec.name === "dayOfWeek" && second === 0 && low > 0 && /^sun$/i.test(bounds[1]!) ? 7 : second
        if (low > high) return `range ${low}-${high} runs backwards`
      }
    }
    let step = 1
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        return `step ${JSON.stringify(stepText)} in ${JSON.stringify(item)} is not a whole number ≥ 1`
      }
      step = Number(stepText)
    }
    for (let v = low; v <= high; v += step) values.push(v)
  }
  return values
}

function parseValue(spec: FieldSpec, token: string): number | string {
  if (/^\d+$/.test(token)) {
    const n = Number(token)
    if (n < spec.min || n > spec.max) return `value ${token} is out of range ${spec.min}-${spec.max}`
    return n
  }
  if (spec.names !== undefined && /^[a-z]{3}$/i.test(token)) {
    const index = spec.names.indexOf(token.toLowerCase())
    if (index >= 0) return index + (spec.nameBase ?? 0)
  }
  if (token === "") return "a range is missing a bound"
  if (token === "*") return `"*" cannot be a range bound`
  if (/[#?]|^L$|^\d*[LW]$|^LW$|^H/i.test(token)) {
    return `${JSON.stringify(token)}: L, W, #, ? and H are not Vixie cron syntax`
  }
  return spec.names === undefined
    ? `${JSON.stringify(token)} is not a number`
    : `${JSON.stringify(token)} is neither a number nor a ${spec.label} name (${spec.names[0]}-${spec.names.at(-1)})`
}

function uniqueSorted(values: ReadonlyArray<number>): number[] {
  return [...new Set(values)].sort((a, b) => a - b)
}
