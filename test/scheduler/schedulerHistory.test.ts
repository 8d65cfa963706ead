import { describe, expect, it } from "vitest"
import type { LogRecord, RecordBody } from "../../src/eventlog/logRecord.js"
import { historyOf } from "../../src/scheduler/schedulerHistory.js"
import { SCHEDULER_NOTE } from "../../src/scheduler/schedulerNotes.js"

const T0 = Date.parse("2026-03-01T00:00:00Z")
const iso = (ms: number) => new Date(ms).toISOString()

function records(...bodies: Array<[number, RecordBody]>): LogRecord[] {
  return bodies.map(([at, body], i) => ({ seq: i + 1, at, body }))
}
const event = (actor: string, e: Record<string, unknown>): RecordBody => ({
  type: "event",
  actor,
  event: e as { type: string },
  state: "x",
  digest: "0",
})
const note = (code: string, message: string, data: unknown, actor?: string): RecordBody => ({
  type: "note",
  code,
  message,
  data,
  ...(actor === undefined ? {} : { actor }),
})

const log = records(
  [T0, note(SCHEDULER_NOTE.lock, "scheduler lock acquired by pid 1 (session s)", { type: "acquired" })],
  [
    T0,
    {
      type: "actor.started",
      actor: "cronTask:0000000a",
      machine: "cronTask",
      machineVersion: 1,
      input: {},
      state: "starting",
      digest: "0",
    },
  ],
  [T0, event("cronTask:0000000a", { type: "cronTask.scheduled", at: T0, fireAt: T0 + 100 })],
  // Records are appended a little after the event: rows take the event's own time.
  [T0 + 150, event("cronTask:0000000a", { type: "cronTask.fired", fireAt: T0 + 100 })],
  [T0 + 150, event("cronTask:0000000b", { type: "cronTask.fired", fireAt: T0 + 120 })],
  [
    T0 + 160,
    note(
      SCHEDULER_NOTE.fireSkipped,
      "task 0000000b skipped: another scheduler fired it already",
      { taskId: "0000000b", fireAt: T0 + 120, missed: false, durable: true },
      "cronTask:0000000b",
    ),
  ],
  [
    T0 + 170,
    note(
      SCHEDULER_NOTE.handedOver,
      "task 0000000a fired into session s_1",
      { taskId: "0000000a", fireAt: T0 + 100, missed: false, durable: true, sessionId: "s_1" },
      "cronTask:0000000a",
    ),
  ],
  [T0 + 200, event("cronTask:0000000c@s_9", { type: "cronTask.missed", at: T0 + 200, fireAt: T0 + 50 })],
  [
    T0 + 210,
    note(
      SCHEDULER_NOTE.fireFailed,
      "task 0000000c not delivered: gone",
      { taskId: "0000000c", fireAt: T0 + 50, missed: true, durable: false, code: "AGH_CRON_SESSION_GONE" },
      "cronTask:0000000c@s_9",
    ),
  ],
  [
    T0 + 300,
    note(
      SCHEDULER_NOTE.handedOver,
      "task 0000000d fired into session s_2",
      { taskId: "0000000d", fireAt: T0 + 290, missed: false, durable: true, sessionId: "s_2" },
      "cronTask:0000000d",
    ),
  ],
  [T0 + 400, event("cronTask:0000000a", { type: "cronTask.expired", at: T0 + 390 })],
  [T0 + 500, note("AGH_MACHINE_EFFECT_FAILED", "effect x failed", undefined, "cronTask:0000000a")],
)

describe("scheduler history", () => {
  it("folds each fire and its outcome into one row, with the event's own time", () => {
    const rows = historyOf(log)
    expect(rows.map((r) => [r.what, r.task, r.at - T0, r.session_id])).toEqual([
      ["lock", null, 0, null],
      ["fired", "0000000a", 100, "s_1"],
      ["skipped", "0000000b", 120, null],
      ["failed", "0000000c", 200, null],
      ["fired", "0000000d", 300, "s_2"],
      ["expired", "0000000a", 390, null],
      ["error", "0000000a", 500, null],
    ])
    expect(rows[1]?.detail).toBe(`due ${iso(T0 + 100)}; prompt handed to session s_1`)
    expect(rows[2]?.detail).toBe("task 0000000b skipped: another scheduler fired it already")
    expect(rows[3]?.detail).toBe("AGH_CRON_SESSION_GONE: task 0000000c not delivered: gone")
    expect(rows[6]?.detail).toBe("AGH_MACHINE_EFFECT_FAILED: effect x failed")
  })

  it("limit keeps the last rows; all adds starts and computed times", () => {
    expect(historyOf(log, { limit: 2 }).map((r) => r.what)).toEqual(["expired", "error"])
    expect(
      historyOf(log, { all: true })
        .map((r) => r.what)
        .slice(0, 4),
    ).toEqual(["lock", "started", "scheduled", "fired"])
  })
})
