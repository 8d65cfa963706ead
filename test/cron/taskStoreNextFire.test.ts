import { describe, expect, it } from "vitest"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { taskExpiresAtMs, taskNextFireMs } from "../../src/cron/taskStore.js"

const T0 = Date.parse("2026-01-01T00:10:00Z")
const base = { id: "80000000", cron: "0 * * * *", prompt: "p", createdAt: T0 }

describe("taskNextFireMs / taskExpiresAtMs", () => {
  it("recurring: the next hour after lastFiredAt ?? createdAt, jitterFrac 0.5 * 10 % of the hour late", () => {
    expect(taskNextFireMs({ ...base, recurring: true }, DEFAULT_CRON_JITTER_CONFIG, "UTC")).toBe(
      Date.parse("2026-01-01T01:03:00Z"),
    )
    const fired = { ...base, recurring: true, lastFiredAt: Date.parse("2026-01-01T05:03:00Z") }
    expect(taskNextFireMs(fired, DEFAULT_CRON_JITTER_CONFIG, "UTC")).toBe(Date.parse("2026-01-01T06:03:00Z"))
  })

  it("one-shot (recurring absent or false): up to 90 s early on :00, never before createdAt", () => {
    const early = Date.parse("2026-01-01T00:59:15Z")
    expect(taskNextFireMs(base, DEFAULT_CRON_JITTER_CONFIG, "UTC")).toBe(early)
    expect(taskNextFireMs({ ...base, recurring: false }, DEFAULT_CRON_JITTER_CONFIG, "UTC")).toBe(early)
    expect(taskNextFireMs({ ...base, cron: "0 0 30 2 *" }, DEFAULT_CRON_JITTER_CONFIG, "UTC")).toBeNull()
  })

  it("recurring tasks expire recurringMaxAgeMs after createdAt unless permanent; one-shots never do", () => {
    expect(taskExpiresAtMs({ ...base, recurring: true })).toBe(T0 + 7 * 86_400_000)
    expect(taskExpiresAtMs({ ...base, recurring: true, permanent: true })).toBeNull()
    expect(taskExpiresAtMs({ ...base, recurring: false })).toBeNull()
    expect(
      taskExpiresAtMs({ ...base, recurring: true }, { ...DEFAULT_CRON_JITTER_CONFIG, recurringMaxAgeMs: 5 }),
    ).toBe(T0 + 5)
  })
})
