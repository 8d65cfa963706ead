import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { sequentialIds } from "../../src/adapters/ids.js"
import { SessionTaskStore } from "../../src/cron/sessionTaskStore.js"
import { failure, recordWatch, run, T0, taskStoreContract } from "./taskStoreContract.js"

taskStoreContract("session", (clock, ids) => ({
  store: new SessionTaskStore({ clock, ids }).forSession("s_1"),
  durable: false,
}))

describe("SessionTaskStore", () => {
  const make = () => new SessionTaskStore({ clock: new ManualClock(T0), ids: sequentialIds() })

  it("keeps each session's tasks apart, with ids unique across sessions", async () => {
    const tasks = make()
    const one = tasks.forSession("s_1")
    const two = tasks.forSession("s_2")
    const a = await run(one.add({ cron: "* * * * *", prompt: "a", recurring: true, agentId: "agent-7" }))
    const b = await run(two.add({ cron: "* * * * *", prompt: "b", recurring: false }))
    expect(a).toMatchObject({ id: "00000001", durable: false, agentId: "agent-7" })
    expect((await run(one.list())).tasks).toEqual([a])
    expect((await run(two.list())).tasks).toEqual([b])
    expect(tasks.all()).toEqual([
      { sessionId: "s_1", task: a },
      { sessionId: "s_2", task: b },
    ])
    expect([tasks.sessionOf(a.id), tasks.sessionOf(b.id), tasks.sessionOf("ffffffff")]).toEqual([
      "s_1",
      "s_2",
      undefined,
    ])
    // A chosen id taken in another session is refused: the scheduler keys fires by task id.
    const taken = await failure(two.add({ cron: "* * * * *", prompt: "c", recurring: true, id: a.id }))
    expect(taken.code).toBe("AGH_TASK_INVALID")
    // Removing through the wrong session's store does nothing.
    expect(await run(two.remove(a.id))).toBe(false)
    expect(tasks.sessionOf(a.id)).toBe("s_1")
  })

  it("drops a session's tasks when it ends, tells its watchers, and refuses new ones for it", async () => {
    const tasks = make()
    const store = tasks.forSession("s_1")
    const other = tasks.forSession("s_2")
    const a = await run(store.add({ cron: "* * * * *", prompt: "a", recurring: true }))
    const kept = await run(other.add({ cron: "* * * * *", prompt: "kept", recurring: true }))
    const watch = await recordWatch(store)
    expect(tasks.removeSession("s_1")).toEqual([a])
    expect(watch.seen.map((l) => l.tasks)).toEqual([[a], []])
    expect(tasks.sessionOf(a.id)).toBeUndefined()
    expect(tasks.all()).toEqual([{ sessionId: "s_2", task: kept }])
    expect((await run(store.list())).tasks).toEqual([])
    const late = await failure(store.add({ cron: "* * * * *", prompt: "late", recurring: true }))
    expect(late.code).toBe("AGH_TASK_SESSION_ENDED")
    expect(late.message).toBe(
      "session:s_1: the session has ended; its tasks were dropped and no new ones are taken",
    )
    expect(tasks.all()).toHaveLength(1)
    expect(tasks.removeSession("s_1")).toEqual([])
    await watch.stop()
  })

  it("stops calling a watcher once its scope closes", async () => {
    const store = make().forSession("s_1")
    const watch = await recordWatch(store)
    await run(store.add({ cron: "* * * * *", prompt: "a", recurring: true }))
    expect(watch.seen).toHaveLength(2)
    await watch.stop()
    await run(store.add({ cron: "* * * * *", prompt: "b", recurring: true }))
    expect(watch.seen).toHaveLength(2)
  })
})
