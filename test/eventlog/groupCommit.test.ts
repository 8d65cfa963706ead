import { describe, expect, it } from "vitest"
import { GroupCommit } from "../../src/eventlog/groupCommit.js"

/** A sync the test completes by hand, recording when each one started. */
function fakeSync() {
  const pending: Array<(err: Error | null) => void> = []
  let started = 0
  return {
    sync: (_fd: number, done: (err: Error | null) => void) => {
      started++
      pending.push(done)
    },
    get started() {
      return started
    },
    get inFlight() {
      return pending.length
    },
    complete(err: Error | null = null) {
      const done = pending.shift()
      if (!done) throw new Error("no sync in flight")
      done(err)
    },
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Lets the event loop turn until `cond` holds (bounded, so a bug fails instead of hanging). */
async function until(cond: () => boolean, turns = 1_000): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await turn()
  expect(cond()).toBe(true)
}

function write(commit: GroupCommit, acks: string[], name: string): void {
  const gen = commit.noteWrite()
  commit.waitDurable(gen, (err) => acks.push(err ? `${name}:${err.message}` : name))
}

describe("GroupCommit", () => {
  it("always: syncs at once; writes made during a sync share the next one", () => {
    const s = fakeSync()
    const commit = new GroupCommit(3, { mode: "always", windowMs: 2, sync: s.sync })
    const acks: string[] = []
    write(commit, acks, "a")
    expect(s.started).toBe(1)
    write(commit, acks, "b")
    write(commit, acks, "c")
    expect(s.started).toBe(1)
    s.complete()
    expect(acks).toEqual(["a"])
    expect(s.started).toBe(2)
    s.complete()
    expect(acks).toEqual(["a", "b", "c"])
    expect(s.inFlight).toBe(0)
  })

  it("batch: a burst of writes in one turn shares a single sync, started once the loop turns", async () => {
    const s = fakeSync()
    const commit = new GroupCommit(3, { mode: "batch", windowMs: 10_000, sync: s.sync })
    const acks: string[] = []
    for (const name of ["a", "b", "c", "d"]) write(commit, acks, name)
    expect(s.started).toBe(0)
    await until(() => s.started === 1)
    s.complete()
    expect(acks).toEqual(["a", "b", "c", "d"])
    await turn()
    expect(s.started).toBe(1)
  })

  it("batch: writes that keep arriving are synced once the window has passed, not starved", async () => {
    const s = fakeSync()
    const commit = new GroupCommit(3, { mode: "batch", windowMs: 1, sync: s.sync })
    const acks: string[] = []
    let n = 0
    write(commit, acks, `w${n++}`)
    while (s.started === 0 && n < 100_000) {
      await turn()
      write(commit, acks, `w${n++}`)
    }
    expect(s.started).toBe(1)
    s.complete()
    // Everything written before the sync started is acknowledged by it.
    expect(acks.length).toBeGreaterThan(0)
    expect(acks.length).toBeLessThan(n)
    expect(s.started).toBe(2)
    s.complete()
    expect(acks.length).toBe(n)
  })

  it("a waiter for a generation already durable is released at once", async () => {
    const s = fakeSync()
    const commit = new GroupCommit(3, { mode: "always", windowMs: 0, sync: s.sync })
    const acks: string[] = []
    const gen = commit.noteWrite()
    commit.waitDurable(gen, () => acks.push("first"))
    s.complete()
    commit.waitDurable(gen, () => acks.push("again"))
    expect(acks).toEqual(["first", "again"])
    expect(s.started).toBe(1)
  })

  it("flush syncs everything written so far, immediately, in batch mode too", () => {
    const s = fakeSync()
    const commit = new GroupCommit(3, { mode: "batch", windowMs: 10_000, sync: s.sync })
    const acks: string[] = []
    write(commit, acks, "a")
    commit.flush(() => acks.push("flushed"))
    expect(s.started).toBe(1)
    s.complete()
    expect(acks).toEqual(["a", "flushed"])
    // Nothing written since: a flush (a writer closing) costs no sync.
    commit.flush(() => acks.push("idle flush"))
    expect(acks).toEqual(["a", "flushed", "idle flush"])
    expect(s.started).toBe(1)
  })

  it("a failed sync fails every waiter and every later write", async () => {
    const s = fakeSync()
    const commit = new GroupCommit(3, { mode: "always", windowMs: 0, sync: s.sync })
    const acks: string[] = []
    write(commit, acks, "a")
    write(commit, acks, "b")
    s.complete(new Error("EIO"))
    expect(acks).toEqual(["a:EIO", "b:EIO"])
    expect(commit.failed?.message).toBe("EIO")
    write(commit, acks, "c")
    expect(acks).toEqual(["a:EIO", "b:EIO", "c:EIO"])
    expect(s.started).toBe(1)
  })
})
