import { describe, expect, it } from "vitest"
import { jitteredNextCronRunMs, jitterFrac, oneShotJitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { type CronJitterConfig, DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"

const at = (iso: string) => Date.parse(iso)
const MIN = 60_000

describe("jitterFrac", () => {
  it("is the first 8 hex digits over 2^32", () => {
    expect(jitterFrac("00000000")).toBe(0)
    expect(jitterFrac("80000000")).toBe(0.5)
    expect(jitterFrac("40000000")).toBe(0.25)
    expect(jitterFrac("ffffffff")).toBe(0xffffffff / 2 ** 32)
    expect(jitterFrac("deadbeef-and-more")).toBe(0xdeadbeef / 2 ** 32)
    expect(jitterFrac("00000001")).toBe(1 / 2 ** 32)
  })

  it("is 0 for an id that is not hex", () => {
    expect(jitterFrac("zzzzzzzz")).toBe(0)
    expect(jitterFrac("")).toBe(0)
    expect(jitterFrac("-1234567")).toBe(0)
  })
})

describe("jitteredNextCronRunMs (recurring)", () => {
  it("delays by frac * recurringFrac * (t2 - t1)", () => {
    // t1 00:10, t2 00:20: 0.25 * 0.1 * 10 min = 15 s.
    expect(
      jitteredNextCronRunMs("*/10 * * * *", at("2026-01-01T00:00:30Z"), "40000000", undefined, "UTC"),
    ).toBe(at("2026-01-01T00:10:15Z"))
    // t1 09:00, t2 17:00: 0.0625 * 0.1 * 8 h = 3 min.
    expect(
      jitteredNextCronRunMs("0 9,17 * * *", at("2026-01-01T08:00:00Z"), "10000000", undefined, "UTC"),
    ).toBe(at("2026-01-01T09:03:00Z"))
  })

  it("caps the delay at recurringCapMs", () => {
    // Daily, frac ~1: 0.1 * 24 h = 2.4 h, capped at 15 min.
    expect(jitteredNextCronRunMs("0 0 * * *", at("2026-01-01T12:00:00Z"), "ffffffff", undefined, "UTC")).toBe(
      at("2026-01-02T00:15:00Z"),
    )
    // 0.5 * 0.1 * 8 h = 24 min, capped at 15 min.
    expect(
      jitteredNextCronRunMs("0 9,17 * * *", at("2026-01-01T08:00:00Z"), "80000000", undefined, "UTC"),
    ).toBe(at("2026-01-01T09:15:00Z"))
  })

  it("uses the given config", () => {
    const cfg: CronJitterConfig = {
      ...DEFAULT_CRON_JITTER_CONFIG,
      recurringFrac: 0.5,
      recurringCapMs: 30 * MIN,
    }
    // 0.5 * 0.5 * 60 min = 15 min.
    expect(jitteredNextCronRunMs("0 * * * *", at("2026-01-01T00:10:00Z"), "80000000", cfg, "UTC")).toBe(
      at("2026-01-01T01:15:00Z"),
    )
    const none: CronJitterConfig = { ...DEFAULT_CRON_JITTER_CONFIG, recurringFrac: 0 }
    expect(jitteredNextCronRunMs("0 * * * *", at("2026-01-01T00:10:00Z"), "ffffffff", none, "UTC")).toBe(
      at("2026-01-01T01:00:00Z"),
    )
  })

  it("truncates to whole milliseconds", () => {
    // 1/2^32 * 0.1 * 60 000 ms is a few nanoseconds.
    expect(jitteredNextCronRunMs("* * * * *", at("2026-01-01T00:00:00Z"), "00000001", undefined, "UTC")).toBe(
      at("2026-01-01T00:01:00Z"),
    )
    // 0xdeadbeef / 2^32 * 0.1 * 60 000 = 5217.0... ms
    expect(jitteredNextCronRunMs("* * * * *", at("2026-01-01T00:00:00Z"), "deadbeef", undefined, "UTC")).toBe(
      at("2026-01-01T00:01:00Z") + Math.floor((0xdeadbeef / 2 ** 32) * 0.1 * 60_000),
    )
  })

  it("takes t1 and t2 in the task's zone", () => {
    // New York, fall back: 01:00 EDT then 01:00 EST are 1 h apart, so the delay is 0.5 * 0.1 * 1 h = 3 min.
    expect(
      jitteredNextCronRunMs(
        "0 * * * *",
        at("2026-11-01T00:30:00-04:00"),
        "80000000",
        undefined,
        "America/New_York",
      ),
    ).toBe(at("2026-11-01T01:03:00-04:00"))
  })

  it("is null when there is no run, or for an invalid expression or zone", () => {
    expect(jitteredNextCronRunMs("0 0 30 2 *", 0, "80000000", undefined, "UTC")).toBeNull()
    expect(jitteredNextCronRunMs("5/15 * * * *", 0, "80000000", undefined, "UTC")).toBeNull()
    expect(jitteredNextCronRunMs("* * * * *", 0, "80000000", undefined, "Not/AZone")).toBeNull()
  })
})

describe("oneShotJitteredNextCronRunMs", () => {
  it("fires early on minutes divisible by oneShotMinuteMod", () => {
    // 0.5 * 90 s = 45 s early.
    expect(
      oneShotJitteredNextCronRunMs("0 9 * * *", at("2026-01-01T08:00:00Z"), "80000000", undefined, "UTC"),
    ).toBe(at("2026-01-01T08:59:15Z"))
    expect(
      oneShotJitteredNextCronRunMs("30 9 * * *", at("2026-01-01T08:00:00Z"), "40000000", undefined, "UTC"),
    ).toBe(at("2026-01-01T09:29:37.500Z"))
  })

  it("fires on time on other minutes", () => {
    expect(
      oneShotJitteredNextCronRunMs("7 9 * * *", at("2026-01-01T08:00:00Z"), "ffffffff", undefined, "UTC"),
    ).toBe(at("2026-01-01T09:07:00Z"))
    expect(
      oneShotJitteredNextCronRunMs("15 9 * * *", at("2026-01-01T08:00:00Z"), "ffffffff", undefined, "UTC"),
    ).toBe(at("2026-01-01T09:15:00Z"))
  })

  it("applies the floor and the modulus from the config", () => {
    const cfg: CronJitterConfig = {
      ...DEFAULT_CRON_JITTER_CONFIG,
      oneShotFloorMs: 30_000,
      oneShotMinuteMod: 15,
    }
    // 30 s + 0.5 * (90 - 30) s = 60 s early.
    expect(
      oneShotJitteredNextCronRunMs("15 9 * * *", at("2026-01-01T08:00:00Z"), "80000000", cfg, "UTC"),
    ).toBe(at("2026-01-01T09:14:00Z"))
  })

  it("never fires before now", () => {
    const now = at("2026-01-01T08:59:50Z")
    expect(oneShotJitteredNextCronRunMs("0 9 * * *", now, "ffffffff", undefined, "UTC")).toBe(now)
  })

  it("reads the minute in the task's zone", () => {
    // Kathmandu is UTC+05:45: local 09:00 is 03:15 UTC, a minute not divisible by 30 in UTC.
    expect(
      oneShotJitteredNextCronRunMs(
        "0 9 * * *",
        at("2026-01-01T00:00:00Z"),
        "80000000",
        undefined,
        "Asia/Kathmandu",
      ),
    ).toBe(at("2026-01-01T09:00:00+05:45") - 45_000)
  })

  it("is null when there is no run", () => {
    expect(oneShotJitteredNextCronRunMs("0 0 31 4 *", 0, "80000000", undefined, "UTC")).toBeNull()
  })
})
