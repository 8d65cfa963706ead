/**
 * A brute-force oracle for cron schedules, written from scratch and sharing no code with src/cron: its own
 * Vixie cron parser, local fields from `Intl.DateTimeFormat`, and cronie's main loop replayed minute by
 * minute (a "virtual time" that stays put while the clock repeats an hour, and catches up with fixed-time
 * jobs when the clock jumps forward). It skips ahead only across minutes that provably cannot fire (same
 * offset at both ends, and a local day or hour that does not match).
 */

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** cronie: jumps of more than 3 hours are clock changes, not daylight-saving time. */
const LARGE_JUMP = 3 * HOUR

interface OracleSpec {
  readonly minutes: ReadonlySet<number>
  readonly hours: ReadonlySet<number>
  readonly doms: ReadonlySet<number>
  readonly months: ReadonlySet<number>
  readonly dows: ReadonlySet<number>
  readonly fixed: boolean
  readonly both: boolean
}

const KEYWORDS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
}
const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

function oracleField(text: string, min: number, max: number, names?: string[], base = 0): Set<number> {
  const out = new Set<number>()
  const num = (s: string): number => {
    const n = /^\d+$/.test(s) ? Number(s) : names ? names.indexOf(s.toLowerCase()) + base : Number.NaN
    if (!(n >= min && n <= max) || (names && !/^\d+$/.test(s) && n < base)) throw new Error(`bad value ${s}`)
    return n
  }
  for (const item of text.split(",")) {
    const m = /^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:\/(\d+))?$/i.exec(item)
    if (!m) throw new Error(`bad item ${item}`)
    if (m[4] !== undefined && m[1] === undefined && m[3] === undefined) throw new Error(`N/step ${item}`)
    let lo = min
    let hi = max
    if (m[1] === undefined) {
      lo = num(m[2]!)
      hi = m[3] === undefined ? lo : num(m[3])
      if (names === DAY_NAMES && m[3]?.toLowerCase() === "sun" && lo > 0) hi = 7
    }
    const step = m[4] === undefined ? 1 : Number(m[4])
    if (step < 1 || lo > hi) throw new Error(`bad range ${item}`)
    for (let v = lo; v <= hi; v += step) out.add(v)
  }
  return out
}

/** Parses with Vixie cron's grammar; throws on anything Vixie cron refuses. */
export function oracleParse(expression: string): OracleSpec {
  let text = expression.trim()
  if (text.startsWith("@")) {
    const expanded = KEYWORDS[text.toLowerCase()]
    if (expanded === undefined) throw new Error(`unknown keyword ${text}`)
    text = expanded
  }
  const f = text.split(/\s+/)
  if (f.length !== 5) throw new Error("need 5 fields")
  const dows = new Set([...oracleField(f[4]!, 0, 7, DAY_NAMES)].map((d) => d % 7))
  return {
    minutes: oracleField(f[0]!, 0, 59),
    hours: oracleField(f[1]!, 0, 23),
    doms: oracleField(f[2]!, 1, 31),
    months: oracleField(f[3]!, 1, 12, MONTH_NAMES, 1),
    dows,
    fixed: !f[0]!.startsWith("*") && !f[1]!.startsWith("*"),
    both: f[2]!.startsWith("*") || f[4]!.startsWith("*"),
  }
}

/** Local fields of a minute, plus its wall-clock time written as if UTC. */
interface Local {
  readonly wall: number
  readonly month: number
  readonly day: number
  readonly weekday: number
  readonly hour: number
  readonly minute: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Local time of `instant` in `zone`, read with Intl. */
export function oracleLocal(zone: string, instant: number): Local {
  let f = formatters.get(zone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
    })
    formatters.set(zone, f)
  }
  // en-US with these options always reads "Mon, 1/2/1995, 00:00"; format() is 3× faster than formatToParts().
  const text = f.format(instant)
  const m = /^(\w{3}), (\d+)\/(\d+)\/(\d+), (\d{2}):(\d{2})$/.exec(text)
  if (m === null) throw new Error(`unexpected local time format ${JSON.stringify(text)}`)
  const [month, day, year, hour, minute] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ]
  return {
    wall: Date.UTC(year, month - 1, day, hour, minute),
    month,
    day,
    weekday: DAY_NAMES.indexOf(m[1]!.toLowerCase()),
    hour,
    minute,
  }
}

function wallFields(wall: number): Local {
  const d = new Date(wall)
  return {
    wall,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  }
}

function dayMatches(s: OracleSpec, l: Local): boolean {
  if (!s.months.has(l.month)) return false
  const dom = s.doms.has(l.day)
  const dow = s.dows.has(l.weekday)
  return s.both ? dom && dow : dom || dow
}

function matches(s: OracleSpec, l: Local): boolean {
  return s.minutes.has(l.minute) && s.hours.has(l.hour) && dayMatches(s, l)
}

/** Found: the first fire instant after `fromMs`. `none`: no fire in `(fromMs, fromMs + scanMs]`. */
export type OracleResult = { readonly kind: "found"; readonly at: number } | { readonly kind: "none" }

/**
 * The first instant strictly after `fromMs` at which cronie would run `expression` in `zone`, scanning at
 * most `scanMs` ahead.
 */
export function oracleNextRun(
  expression: string,
  fromMs: number,
  zone: string,
  scanMs = 2 * 366 * DAY,
): OracleResult {
  const s = oracleParse(expression)
  // Start the virtual clock early enough to know whether `fromMs` lies in the second pass of an overlap.
  let m = Math.floor(fromMs / MINUTE) * MINUTE - 4 * HOUR
  let vt = oracleLocal(zone, m).wall
  m += MINUTE
  let local = oracleLocal(zone, m)
  const end = fromMs + scanMs
  while (m <= end) {
    const diff = local.wall - vt
    let fires: boolean
    if (diff === MINUTE) {
      fires = matches(s, local)
      vt = local.wall
    } else if (diff > MINUTE && diff <= LARGE_JUMP) {
      // Clock jumped forward: wildcard jobs run for this minute; fixed-time jobs for every minute missed.
      fires = false
      if (s.fixed) {
        for (let w = vt + MINUTE; w <= local.wall && !fires; w += MINUTE) fires = matches(s, wallFields(w))
      } else {
        fires = matches(s, local)
      }
      vt = local.wall
    } else if (diff <= 0 && diff >= -LARGE_JUMP) {
      // Clock went back: wildcard jobs only, virtual time waits until the clock catches up.
      fires = !s.fixed && matches(s, local)
    } else {
      fires = matches(s, local)
      vt = local.wall
    }
    if (fires && m > fromMs) return { kind: "found", at: m }
    // Skip ahead over minutes that cannot fire: the rest of a non-matching day or hour, or to the next
    // matching minute of a matching hour, provided the offset is the same at both ends.
    let skip: number
    if (!dayMatches(s, local)) skip = DAY - (local.hour * 60 + local.minute) * MINUTE
    else if (!s.hours.has(local.hour)) skip = HOUR - local.minute * MINUTE
    else {
      let next = local.minute + 1
      while (next < 60 && !s.minutes.has(next)) next++
      skip = (next - local.minute) * MINUTE
    }
    if (skip > MINUTE) {
      const ahead = oracleLocal(zone, m + skip)
      if (ahead.wall - local.wall === skip) {
        vt = Math.max(vt, ahead.wall - MINUTE)
        m += skip
        local = ahead
        continue
      }
    }
    m += MINUTE
    local = oracleLocal(zone, m)
  }
  return { kind: "none" }
}

/**
 * Instants where the zone's offset changes during `year`, found by sampling every day and bisecting — used
 * only to pick interesting starting instants for property tests, never as an expected answer.
 */
export function oracleTransitions(zone: string, year: number): number[] {
  const offset = (t: number) => oracleLocal(zone, t).wall - Math.floor(t / MINUTE) * MINUTE
  const out: number[] = []
  const stop = Date.UTC(year + 1, 0, 1)
  let t = Date.UTC(year, 0, 1)
  let before = offset(t)
  // Weekly samples: a change and its reversal within a week would be missed, which only costs variety.
  for (; t < stop; t += 7 * DAY) {
    const after = offset(t + 7 * DAY)
    if (after !== before) {
      let lo = t
      let hi = t + 7 * DAY
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE
        if (offset(mid) === before) lo = mid
        else hi = mid
      }
      out.push(hi)
    }
    before = after
  }
  return out
}
