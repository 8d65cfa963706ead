import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { cronExpressionArb, dstCronExpressionArb } from "../../src/cron/cronArbitraries.js"
import { nextCronRunMs } from "../../src/cron/nextCronRun.js"
import { oracleNextRun, oracleTransitions } from "../support/cronOracle.js"

const DAY = 86_400_000
const HOUR = 3_600_000

const ZONES = [
  "UTC",
  "America/New_York",
  "Europe/London",
  "Australia/Lord_Howe",
  "Asia/Kolkata",
  "America/Sao_Paulo",
  "Pacific/Chatham",
  "Asia/Kathmandu",
  "America/Havana",
  "America/Santiago",
  "Africa/Casablanca",
  "Europe/Dublin",
]

/** Zones with daylight-saving time, and ones that changed their clocks at midnight or by a day. */
const DST_ZONES = [
  "America/New_York",
  "Europe/London",
  "Australia/Lord_Howe",
  "America/Sao_Paulo",
  "Pacific/Chatham",
  "America/Havana",
  "America/Santiago",
  "Africa/Casablanca",
  "Europe/Dublin",
  "Pacific/Apia",
  "Asia/Tehran",
]

const instant1990to2040 = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 11, 31) })

/** The wrapper agrees with the oracle on the first run after `from`, within the oracle's scan window. */
function agrees(expr: string, from: number, zone: string, scanMs: number): void {
  const oracle = oracleNextRun(expr, from, zone, scanMs)
  const actual = nextCronRunMs(expr, from, zone)
  const where = `${expr} in ${zone} after ${new Date(from).toISOString()}`
  if (oracle.kind === "found") {
    expect(actual === null ? null : new Date(actual).toISOString(), where).toBe(
      new Date(oracle.at).toISOString(),
    )
  } else {
    expect(actual === null || actual > from + scanMs, `${where}: oracle found none`).toBe(true)
  }
}

const transitionCache = new Map<string, number[]>()
function transitions(zone: string, year: number): number[] {
  const key = `${zone} ${year}`
  let found = transitionCache.get(key)
  if (found === undefined) {
    found = oracleTransitions(zone, year)
    transitionCache.set(key, found)
  }
  return found
}

describe("nextCronRunMs ≡ brute-force oracle", () => {
  it("for random Vixie expressions, zones and instants in 1990-2040", () => {
    fc.assert(
      fc.property(cronExpressionArb, fc.constantFrom(...ZONES), instant1990to2040, (expr, zone, from) => {
        agrees(expr, from, zone, 400 * DAY)
      }),
      { numRuns: 200 },
    )
  })

  it("around daylight-saving transitions, for three runs in a row", () => {
    const nearTransition = fc
      .record({
        zone: fc.constantFrom(...DST_ZONES),
        year: fc.integer({ min: 1990, max: 2040 }),
        pick: fc.nat(),
        shift: fc.integer({ min: -30 * HOUR, max: 3 * HOUR }),
      })
      .map(({ zone, year, pick, shift }) => {
        const ts = transitions(zone, year)
        return ts.length === 0 ? null : { zone, from: ts[pick % ts.length]! + shift }
      })
      .filter((x) => x !== null)
    fc.assert(
      fc.property(dstCronExpressionArb, nearTransition, (expr, { zone, from }) => {
        let t = from
        for (let i = 0; i < 3; i++) {
          agrees(expr, t, zone, 80 * DAY)
          const next = nextCronRunMs(expr, t, zone)
          if (next === null) return
          t = next
        }
      }),
      { numRuns: 300 },
    )
  })
})
