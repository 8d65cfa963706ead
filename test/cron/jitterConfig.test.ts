import { Result } from "effect"
import { describe, expect, it } from "vitest"
import type { CronError } from "../../src/cron/cronError.js"
import {
  type CronJitterConfig,
  DEFAULT_CRON_JITTER_CONFIG,
  validateCronJitterConfig,
} from "../../src/cron/jitterConfig.js"

const MIN = 60_000

function refused(input: unknown, base?: CronJitterConfig): CronError {
  const r = validateCronJitterConfig(input, base)
  if (Result.isSuccess(r)) throw new Error(`expected ${JSON.stringify(input)} to be refused`)
  expect(r.failure.code).toBe("AGH_CRON_CONFIG_INVALID")
  expect(r.failure.reason).toBe("InvalidJitterConfig")
  return r.failure
}

describe("DEFAULT_CRON_JITTER_CONFIG", () => {
  it("holds SPEC §7's defaults and is frozen", () => {
    expect(DEFAULT_CRON_JITTER_CONFIG).toEqual({
      recurringFrac: 0.1,
      recurringCapMs: 15 * MIN,
      oneShotMaxMs: 90_000,
      oneShotFloorMs: 0,
      oneShotMinuteMod: 30,
      recurringMaxAgeMs: 7 * 24 * 60 * MIN,
    })
    expect(Object.isFrozen(DEFAULT_CRON_JITTER_CONFIG)).toBe(true)
  })
})

describe("validateCronJitterConfig", () => {
  it("accepts a complete valid config, including the bounds", () => {
    const edge = {
      recurringFrac: 1,
      recurringCapMs: 30 * MIN,
      oneShotMaxMs: 30 * MIN,
      oneShotFloorMs: 30 * MIN,
      oneShotMinuteMod: 60,
      recurringMaxAgeMs: 0,
    }
    const r = validateCronJitterConfig(edge)
    expect(Result.isSuccess(r) && r.success).toEqual(edge)
    expect(Result.isSuccess(validateCronJitterConfig(DEFAULT_CRON_JITTER_CONFIG))).toBe(true)
  })

  it("merges a partial config over a base, leaving the base untouched", () => {
    const base = DEFAULT_CRON_JITTER_CONFIG
    const r = validateCronJitterConfig({ recurringFrac: 0.25 }, base)
    expect(Result.isSuccess(r) && r.success).toEqual({ ...base, recurringFrac: 0.25 })
    expect(base.recurringFrac).toBe(0.1)
  })

  it("refuses out-of-range values, naming each field and its value", () => {
    expect(refused({ ...DEFAULT_CRON_JITTER_CONFIG, recurringFrac: 1.5 }).message).toBe(
      "invalid cron jitter config: recurringFrac: Expected a value between 0 and 1, got 1.5",
    )
    expect(refused({ recurringCapMs: 30 * MIN + 1 }, DEFAULT_CRON_JITTER_CONFIG).message).toBe(
      "invalid cron jitter config: recurringCapMs: Expected a value between 0 and 1800000, got 1800001",
    )
    const both = refused({ oneShotMinuteMod: 0, oneShotMaxMs: -1 }, DEFAULT_CRON_JITTER_CONFIG).message
    expect(both).toContain("oneShotMaxMs: Expected a value between 0 and 1800000, got -1")
    expect(both).toContain("oneShotMinuteMod: Expected a value between 1 and 60, got 0")
  })

  it("refuses a modulus that is not a whole number and non-finite numbers", () => {
    expect(refused({ oneShotMinuteMod: 7.5 }, DEFAULT_CRON_JITTER_CONFIG).message).toContain(
      "oneShotMinuteMod: Expected an integer, got 7.5",
    )
    expect(refused({ recurringFrac: Number.NaN }, DEFAULT_CRON_JITTER_CONFIG).message).toContain(
      "recurringFrac",
    )
    expect(refused({ recurringMaxAgeMs: -1 }, DEFAULT_CRON_JITTER_CONFIG).message).toContain(
      "recurringMaxAgeMs: Expected a value greater than or equal to 0, got -1",
    )
  })

  it("refuses a floor above the maximum", () => {
    expect(refused({ oneShotFloorMs: 100_000 }, DEFAULT_CRON_JITTER_CONFIG).message).toBe(
      "invalid cron jitter config: oneShotFloorMs: must not exceed oneShotMaxMs (90000), got 100000",
    )
  })

  it("refuses unknown keys, missing keys and non-objects", () => {
    expect(refused({ recuringFrac: 0.2 }, DEFAULT_CRON_JITTER_CONFIG).message).toContain(
      "recuringFrac: Unexpected key with value 0.2",
    )
    expect(refused({ recurringFrac: 0.2 }).message).toContain("recurringCapMs: Missing key")
    expect(refused("fast").message).toBe('invalid cron jitter config: Expected object, got "fast"')
    expect(refused(null, DEFAULT_CRON_JITTER_CONFIG).message).toBe(
      "invalid cron jitter config: Expected object, got null",
    )
  })
})
