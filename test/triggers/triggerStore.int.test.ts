import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Clock, ManualClock } from "../../src/adapters/clock.js"
import { EventLog } from "../../src/eventlog/eventLog.js"
import { fileEventLogLayer, logFilePath } from "../../src/eventlog/fileEventLog.js"
import { TriggerError } from "../../src/triggers/triggerError.js"
import { openTriggerStore, type TriggerStore } from "../../src/triggers/triggerStore.js"
import { TRIGGERS_STREAM } from "../../src/triggers/triggerTypes.js"
import { FakeLauncher, idsFrom, project, T0 } from "./triggerHarness.js"

let dir: string
let clock: ManualClock
let launcher: FakeLauncher
const stores: TriggerStore[] = []

beforeEach(() => {
  dir = fs.mkdtempSync(join(os.tmpdir(), "agh-triggers-"))
  clock = new ManualClock(T0)
  launcher = new FakeLauncher()
})

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function reopen(options: { settleRunning?: boolean } = {}): Promise<TriggerStore> {
  const store = await openTriggerStore({
    eventLog: fileEventLogLayer({ dir, durability: "always" }),
    clock,
    ids: idsFrom([]),
    launcher: launcher.launch,
    ...options,
  })
  stores.push(store)
  return store
}

async function closeAll(): Promise<void> {
  for (const s of stores.splice(0)) await s.close()
}

/** Builds some history: two triggers, an update, a finished run and one still running. */
async function populate(store: TriggerStore): Promise<void> {
  const a = await store.create({ name: "a", prompt: "pa", project, agent: "builtin" })
  clock.advance(1000)
  const b = await store.create({
    name: "b",
    prompt: "pb",
    project: { repository: { url: "https://example.com/r.git", ref: "main" } },
    agent: "claude",
    schedule: { cron: "*/5 * * * *", tz: "UTC" },
    enabled: false,
  })
  clock.advance(1000)
  await store.update(a.id, { schedule: { cron: "0 * * * *" }, name: "a2" })
  const done = await store.fireTrigger(a.id, clock.now(), "manual")
  launcher.end(done.session_id as string, "completed", "agent exited with code 0")
  await store.settled()
  await store.fireTrigger(b.id, clock.now(), "schedule")
  await store.fireTrigger(a.id, clock.now(), "manual")
}

describe("trigger store persistence (file event log)", () => {
  it("reopens to the same state, folded from the log", async () => {
    const first = await reopen()
    expect(first.report.created).toBe(true)
    await populate(first)
    const before = first.list()
    await closeAll()
    const second = await reopen({ settleRunning: false })
    expect(second.report).toMatchObject({ created: false, truncatedBytes: 0 })
    expect(second.list()).toEqual(before)
  })

  it("settles a run left running by a stopped host as interrupted", async () => {
    await populate(await reopen())
    await closeAll()
    clock.advance(60_000)
    const reopened = await reopen()
    const a = reopened.list()[0]
    expect(a?.history.map((r) => r.status)).toEqual(["completed", "interrupted"])
    expect(a?.history[1]).toMatchObject({
      finished_at: clock.now(),
      detail: "the host stopped before the session ended",
    })
    await closeAll()
    // Settled once: the next open finds nothing to settle and the same state.
    const again = await reopen()
    expect(again.list()).toEqual(reopened.list())
  })

  it("tolerates a torn tail: the cut event is gone, everything before it is kept", async () => {
    const first = await reopen()
    const t = await first.create({ name: "kept", prompt: "p", project, agent: "builtin" })
    const afterCreate = first.list()
    await first.update(t.id, { name: "torn away" })
    await closeAll()
    const file = logFilePath(dir, TRIGGERS_STREAM)
    fs.truncateSync(file, fs.statSync(file).size - 3)
    const reopened = await reopen()
    expect(reopened.report.truncatedBytes).toBeGreaterThan(0)
    expect(reopened.report.warning?.code).toBe("AGH_LOG_TORN_TAIL")
    expect(reopened.list()).toEqual(afterCreate)
    // The repaired log takes new events after the cut.
    await reopened.update(t.id, { name: "rewritten" })
    await closeAll()
    expect((await reopen()).get(t.id)?.name).toBe("rewritten")
  })

  it("refuses to open a log holding a trigger event that does not decode, naming the record", async () => {
    const layer = fileEventLogLayer({ dir }).pipe(Layer.provide(Layer.succeed(Clock, clock)))
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const log = yield* EventLog
          const writer = yield* log.open(TRIGGERS_STREAM)
          yield* writer.append([{ type: "note", code: "unrelated", message: "ignored" }])
          yield* writer.append([
            { type: "note", actor: "triggers", code: "trigger.created", message: "bad", data: { id: 5 } },
          ])
        }),
      ).pipe(Effect.provide(layer)),
    )
    const error = await reopen().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TriggerError)
    expect((error as TriggerError).code).toBe("AGH_TRIGGER_BAD_EVENT")
    expect((error as TriggerError).message).toContain("event log stream triggers, record 2")
  })
})
