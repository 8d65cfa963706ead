import { afterEach, describe, expect, it } from "vitest"
import { TriggerError } from "../../src/triggers/triggerError.js"
import type { TriggerEvent } from "../../src/triggers/triggerEvents.js"
import type { TriggerStore } from "../../src/triggers/triggerStore.js"
import type { TriggerChanges } from "../../src/triggers/triggerTypes.js"
import { memoryStore, project, T0 } from "./triggerHarness.js"

let open: TriggerStore | undefined
afterEach(async () => {
  await open?.close()
  open = undefined
})

async function setup(options: Parameters<typeof memoryStore>[0] = {}) {
  const made = await memoryStore(options)
  open = made.store
  return made
}

const base = { name: "nightly", prompt: "run the tests", project, agent: "builtin" }

async function rejection(promise: Promise<unknown>): Promise<TriggerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TriggerError)
  return error as TriggerError
}

describe("trigger store: definitions", () => {
  it("creates a trigger with a trg_ id, the clock's time and the defaults", async () => {
    const { store, clock } = await setup({ hex: ["80000000", "0000abcd"] })
    clock.advance(1234)
    const trigger = await store.create(base)
    expect(trigger).toEqual({
      id: "trg_800000000000abcd",
      ...base,
      schedule: null,
      enabled: true,
      created_at: T0 + 1234,
      updated_at: T0 + 1234,
      schedule_from: T0 + 1234,
      run_count: 0,
      history: [],
    })
    expect(store.get(trigger.id)).toBe(trigger)
    expect(store.list()).toEqual([trigger])
  })

  it("refuses invalid fields with AGH_TRIGGER_INVALID naming each", async () => {
    const { store } = await setup()
    const error = await rejection(
      store.create({
        ...base,
        name: " ",
        project: { work_dir: "relative/dir" },
        schedule: { cron: "61 * * * *", tz: "Mars/Olympus" },
      }),
    )
    expect(error.code).toBe("AGH_TRIGGER_INVALID")
    expect(error.status).toBe(400)
    expect(error.field).toBe("name")
    expect(error.message).toContain('field "name": must not be blank')
    expect(error.message).toContain('field "project.work_dir": "relative/dir" is not an absolute path')
    expect(error.message).toContain('field "schedule.cron": invalid cron expression "61 * * * *"')
    expect(error.message).toContain('field "schedule.tz": unknown time zone "Mars/Olympus"')
    expect(store.list()).toEqual([])
    const never = await rejection(store.create({ ...base, schedule: { cron: "0 0 30 2 *" } }))
    expect(never.message).toContain("never fires")
    const git = await rejection(
      store.create({ ...base, project: { repository: { url: "--upload-pack=x" } } }),
    )
    expect(git.field).toBe("project.repository.url")
  })

  it("updates only the fields given; schedule null removes the schedule", async () => {
    const { store, clock } = await setup()
    const created = await store.create({ ...base, schedule: { cron: "*/5 * * * *", tz: "UTC" } })
    clock.advance(60_000)
    const updated = await store.update(created.id, { prompt: "lint", schedule: null })
    expect(updated).toMatchObject({
      name: "nightly",
      prompt: "lint",
      schedule: null,
      updated_at: T0 + 60_000,
    })
    expect(updated.created_at).toBe(T0)
    expect(created.prompt).toBe("run the tests")
    // A JavaScript caller's undefined field means "unchanged".
    const same = await store.update(created.id, { name: undefined } as unknown as TriggerChanges)
    expect(same).toBe(updated)
    const missing = await rejection(store.update("trg_0000000000000000", { name: "x" }))
    expect(missing.code).toBe("AGH_TRIGGER_NOT_FOUND")
    expect(missing.status).toBe(404)
    expect(missing.message).toContain('"trg_0000000000000000"')
  })

  it("deletes a trigger", async () => {
    const { store } = await setup()
    const created = await store.create(base)
    expect(await store.delete(created.id)).toBe(created)
    expect(store.get(created.id)).toBeUndefined()
    expect((await rejection(store.delete(created.id))).code).toBe("AGH_TRIGGER_NOT_FOUND")
  })

  it("tells subscribers each applied event with the trigger after it", async () => {
    const { store } = await setup()
    const seen: Array<[TriggerEvent["type"], string | undefined]> = []
    const stop = store.subscribe((event, trigger) => seen.push([event.type, trigger?.name]))
    const t = await store.create(base)
    await store.update(t.id, { name: "renamed" })
    stop()
    await store.delete(t.id)
    expect(seen).toEqual([
      ["trigger.created", "nightly"],
      ["trigger.updated", "renamed"],
    ])
  })
})

describe("trigger store: runs", () => {
  it("starts a manual run, records it running, then records how its session ended", async () => {
    const { store, clock, launcher } = await setup()
    const t = await store.create(base)
    clock.advance(5000)
    const run = await store.fireTrigger(t.id, clock.now(), "manual")
    expect(launcher.calls).toHaveLength(1)
    expect(launcher.calls[0]?.trigger).toBe(t)
    expect(launcher.calls[0]?.runId).toBe(run.run_id)
    expect(run).toEqual({
      run_id: run.run_id,
      session_id: "s_000000000000000000000001",
      started_at: T0 + 5000,
      reason: "manual",
      status: "running",
    })
    expect(run.run_id).toMatch(/^run_[0-9a-f]{16}$/)
    expect(store.get(t.id)?.history).toEqual([run])
    expect(store.get(t.id)?.schedule_from).toBe(T0)
    clock.advance(1000)
    launcher.end("s_000000000000000000000001", "completed", "agent exited with code 0")
    await store.settled()
    expect(store.get(t.id)?.history).toEqual([
      { ...run, status: "completed", finished_at: T0 + 6000, detail: "agent exited with code 0" },
    ])
    expect(store.get(t.id)?.run_count).toBe(1)
  })

  it("records a non-final session end as failed", async () => {
    const { store, launcher } = await setup()
    const t = await store.create(base)
    const run = await store.fireTrigger(t.id, T0, "manual")
    launcher.end(run.session_id as string, "idle")
    await store.settled()
    expect(store.get(t.id)?.history[0]).toMatchObject({ status: "failed", detail: "session idle" })
  })

  it("refuses a manual run of a paused trigger unless forced, and skips its scheduled fires", async () => {
    const { store, launcher } = await setup()
    const t = await store.create({ ...base, enabled: false })
    const paused = await rejection(store.fireTrigger(t.id, T0, "manual"))
    expect(paused.code).toBe("AGH_TRIGGER_DISABLED")
    expect(paused.status).toBe(409)
    expect(store.get(t.id)?.history).toEqual([])
    const skipped = await store.fireTrigger(t.id, T0 + 1, "schedule")
    expect(skipped).toMatchObject({ status: "skipped", session_id: null, reason: "schedule" })
    expect(skipped.error?.code).toBe("AGH_TRIGGER_DISABLED")
    expect(store.get(t.id)?.schedule_from).toBe(T0 + 1)
    expect(launcher.calls).toHaveLength(0)
    const forced = await store.fireTrigger(t.id, T0 + 2, "manual", { force: true })
    expect(forced.status).toBe("running")
    expect(launcher.calls).toHaveLength(1)
  })

  it("records a failed start with the launcher's code; a manual run rethrows it, a scheduled one does not", async () => {
    const { store, launcher } = await setup()
    const t = await store.create(base)
    launcher.failWith = Object.assign(new Error("cwd is outside the work roots"), { code: "AGH_POLICY_CWD" })
    const thrown = await store.fireTrigger(t.id, T0, "manual").then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(thrown).toBe(launcher.failWith)
    const scheduled = await store.fireTrigger(t.id, T0 + 1, "schedule")
    const error = { code: "AGH_POLICY_CWD", message: "cwd is outside the work roots" }
    expect(store.get(t.id)?.history).toEqual([
      {
        run_id: expect.any(String),
        session_id: null,
        started_at: T0,
        reason: "manual",
        status: "start_failed",
        error,
      },
      scheduled,
    ])
    expect(scheduled).toMatchObject({ status: "start_failed", error })
  })

  it("records AGH_TRIGGER_NO_LAUNCHER when nothing can start sessions", async () => {
    const { store } = await setup({ noLauncher: true })
    const t = await store.create(base)
    const run = await store.fireTrigger(t.id, T0, "schedule")
    expect(run.error?.code).toBe("AGH_TRIGGER_NO_LAUNCHER")
  })

  it("keeps the last N runs and counts them all", async () => {
    const { store } = await setup({ historyLimit: 3 })
    const t = await store.create(base)
    for (let i = 0; i < 5; i++) await store.fireTrigger(t.id, T0 + i, "manual")
    const after = store.get(t.id)
    expect(after?.run_count).toBe(5)
    expect(after?.history.map((r) => r.started_at)).toEqual([T0 + 2, T0 + 3, T0 + 4])
  })

  it("refuses changes once closed", async () => {
    const { store } = await setup()
    await store.close()
    expect((await rejection(store.create(base))).code).toBe("AGH_TRIGGER_STORE_CLOSED")
    open = undefined
  })
})
