import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { jitteredNextCronRunMs, jitterFrac, oneShotJitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { type CronJitterConfig, validateCronJitterConfig } from "../../src/cron/jitterConfig.js"
import { nextCronRunMs } from "../../src/cron/nextCronRun.js"
import { zoneOffsetMs } from "../../src/cron/zoneOffset.js"

const MIN = 60_000

const ZONES = ["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham"]

const taskIdArb = fc.stringMatching(/^[0-9a-f]{8}$/)

/** Expressions that fire often enough to keep cron-parser's month walking out of the run time. */
const frequentCronArb = fc
  .tuple(
    fc.constantFrom("*", "*/5", "0", "0,30", "15", "*/7", "0-10", "59"),
    fc.constantFrom("*", "*/2", "9", "0-5", "1,2,3", "23"),
    fc.constantFrom("*", "*/2", "1-15"),
    fc.constantFrom("*", "1-6"),
    fc.constantFrom("*", "1-5", "0,6"),
  )
  .map((f) => f.join(" "))

const configArb: fc.Arbitrary<CronJitterConfig> = fc
  .record({
    recurringFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    recurringCapMs: fc.integer({ min: 0, max: 30 * MIN }),
    oneShotMaxMs: fc.integer({ min: 0, max: 30 * MIN }),
    floorShare: fc.double({ min: 0, max: 1, noNaN: true }),
    oneShotMinuteMod: fc.integer({ min: 1, max: 60 }),
    recurringMaxAgeMs: fc.nat(),
  })
  .map(({ floorShare, ...c }) => ({ ...c, oneShotFloorMs: Math.floor(c.oneShotMaxMs * floorShare) }))

const fromArb = fc.integer({ min: Date.UTC(1995, 0, 1), max: Date.UTC(2040, 0, 1) })

describe("jitter properties", () => {
  it("recurring: never early, never more than the cap or the fraction of the interval late, before t2", () => {
    fc.assert(
      fc.property(
        frequentCronArb,
        fc.constantFrom(...ZONES),
        fromArb,
        taskIdArb,
        configArb,
        (cron, zone, from, id, cfg) => {
          const t1 = nextCronRunMs(cron, from, zone)
          const t2 = t1 === null ? null : nextCronRunMs(cron, t1, zone)
          fc.pre(t1 !== null && t2 !== null)
          const fire = jitteredNextCronRunMs(cron, from, id, cfg, zone)!
          expect(fire).toBeGreaterThanOrEqual(t1!)
          expect(fire - t1!).toBeLessThanOrEqual(cfg.recurringCapMs)
          expect(fire - t1!).toBeLessThanOrEqual(cfg.recurringFrac * (t2! - t1!))
          expect(fire).toBeLessThan(t2!)
          // Deterministic, and exactly the formula.
          expect(jitteredNextCronRunMs(cron, from, id, cfg, zone)).toBe(fire)
          expect(fire).toBe(
            t1! + Math.floor(Math.min(jitterFrac(id) * cfg.recurringFrac * (t2! - t1!), cfg.recurringCapMs)),
          )
        },
      ),
      { numRuns: 150 },
    )
  })

  it("one-shot: never before now, never after t1, early only on divisible minutes and by at most the max", () => {
    fc.assert(
      fc.property(
        frequentCronArb,
        fc.constantFrom(...ZONES),
        fromArb,
        taskIdArb,
        configArb,
        (cron, zone, from, id, cfg) => {
          const t1 = nextCronRunMs(cron, from, zone)
          fc.pre(t1 !== null)
          const fire = oneShotJitteredNextCronRunMs(cron, from, id, cfg, zone)!
          expect(fire).toBeGreaterThanOrEqual(from)
          expect(fire).toBeLessThanOrEqual(t1!)
          expect(t1! - fire).toBeLessThanOrEqual(cfg.oneShotMaxMs)
          const localMinute = new Date(t1! + zoneOffsetMs(zone, t1!)).getUTCMinutes()
          if (localMinute % cfg.oneShotMinuteMod !== 0) expect(fire).toBe(t1)
          else if (t1! - cfg.oneShotMaxMs > from)
            expect(t1! - fire).toBeGreaterThanOrEqual(cfg.oneShotFloorMs)
          expect(oneShotJitteredNextCronRunMs(cron, from, id, cfg, zone)).toBe(fire)
        },
      ),
      { numRuns: 150 },
    )
  })

  it("spreads tasks by id: a larger jitterFrac never fires a recurring task earlier", () => {
    fc.assert(
      fc.property(frequentCronArb, fromArb, taskIdArb, taskIdArb, (cron, from, a, b) => {
        const [lo, hi] = jitterFrac(a) <= jitterFrac(b) ? [a, b] : [b, a]
        const early = jitteredNextCronRunMs(cron, from, lo, undefined, "UTC")
        const late = jitteredNextCronRunMs(cron, from, hi, undefined, "UTC")
        expect(early === null || late === null || early <= late).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  it("validateCronJitterConfig accepts every config within the bounds and refuses any field pushed out", () => {
    const outOfRange: ReadonlyArray<readonly [keyof CronJitterConfig, number]> = [
      ["recurringFrac", 1.01],
      ["recurringFrac", -0.01],
      ["recurringCapMs", 30 * MIN + 1],
      ["oneShotMaxMs", -1],
      ["oneShotMinuteMod", 61],
      ["oneShotMinuteMod", 0],
      ["recurringMaxAgeMs", -1],
    ]
    fc.assert(
      fc.property(configArb, fc.constantFrom(...outOfRange), (cfg, [key, bad]) => {
        const ok = validateCronJitterConfig(cfg)
        expect(Result.isSuccess(ok) && ok.success).toEqual(cfg)
        const refused = validateCronJitterConfig({ ...cfg, [key]: bad })
        expect(Result.isFailure(refused) && refused.failure.message).toContain(key)
      }),
      { numRuns: 200 },
    )
  })
})
