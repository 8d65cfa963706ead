import { describe, expect, it } from "vitest"
import type { TriggerEvent } from "../../src/triggers/triggerEvents.js"
import { evolveTriggers, foldTriggerEvents, initialTriggerState } from "../../src/triggers/triggerFold.js"

const id = "trg_8000000000000001"
const created: TriggerEvent = {
  type: "trigger.created",
  trigger: {
    id,
    name: "n",
    prompt: "p",
    project: { work_dir: "/w" },
    agent: "builtin",
    schedule: { cron: "*/5 * * * *", tz: "UTC" },
    enabled: true,
    created_at: 1000,
  },
}

describe("evolveTriggers", () => {
  it("ignores events about unknown triggers and runs", () => {
    const events: TriggerEvent[] = [
      { type: "trigger.updated", id, changes: { name: "x" }, updated_at: 1 },
      { type: "trigger.runStarted", id, run_id: "r", session_id: "s", started_at: 2, reason: "manual" },
      created,
      { type: "trigger.runFinished", id, run_id: "nope", status: "completed", finished_at: 3 },
      { type: "trigger.deleted", id: "trg_ffffffffffffffff", deleted_at: 4 },
    ]
    const state = foldTriggerEvents(events)
    expect([...state.keys()]).toEqual([id])
    expect(state.get(id)).toMatchObject({ name: "n", history: [], run_count: 0, updated_at: 1000 })
  })

  it("moves schedule_from on schedule changes, resumes and scheduled fires only", () => {
    const state = foldTriggerEvents([
      created,
      { type: "trigger.updated", id, changes: { name: "renamed" }, updated_at: 2000 },
    ])
    expect(state.get(id)?.schedule_from).toBe(1000)
    evolveTriggers(state, { type: "trigger.updated", id, changes: { enabled: false }, updated_at: 3000 })
    expect(state.get(id)?.schedule_from).toBe(1000)
    evolveTriggers(state, { type: "trigger.updated", id, changes: { enabled: true }, updated_at: 4000 })
    expect(state.get(id)?.schedule_from).toBe(4000)
    evolveTriggers(state, {
      type: "trigger.runStarted",
      id,
      run_id: "r1",
      session_id: "s1",
      started_at: 5000,
      reason: "manual",
    })
    expect(state.get(id)?.schedule_from).toBe(4000)
    evolveTriggers(state, {
      type: "trigger.runNotStarted",
      id,
      run_id: "r2",
      started_at: 6000,
      reason: "schedule",
      status: "start_failed",
      error: { code: "AGH_MAX_SESSIONS", message: "full" },
    })
    expect(state.get(id)?.schedule_from).toBe(6000)
    evolveTriggers(state, { type: "trigger.updated", id, changes: { schedule: null }, updated_at: 7000 })
    expect(state.get(id)).toMatchObject({ schedule: null, schedule_from: 7000, run_count: 2 })
  })

  it("finishes a running run once and never rewrites a settled one", () => {
    const state = foldTriggerEvents([
      created,
      { type: "trigger.runStarted", id, run_id: "r", session_id: "s", started_at: 2, reason: "schedule" },
    ])
    const before = state.get(id)
    evolveTriggers(state, { type: "trigger.runFinished", id, run_id: "r", status: "killed", finished_at: 3 })
    evolveTriggers(state, {
      type: "trigger.runFinished",
      id,
      run_id: "r",
      status: "completed",
      finished_at: 4,
    })
    expect(state.get(id)?.history).toEqual([
      { run_id: "r", session_id: "s", started_at: 2, reason: "schedule", status: "killed", finished_at: 3 },
    ])
    // Objects handed out earlier are never mutated.
    expect(before?.history[0]?.status).toBe("running")
  })

  it("starts empty", () => {
    expect(initialTriggerState().size).toBe(0)
  })
})
