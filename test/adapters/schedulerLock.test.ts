import { dirname, join } from "node:path"
import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { MemoryLockWorld } from "../../src/adapters/memoryLockWorld.js"
import { SchedulerLock } from "../../src/adapters/schedulerLock.js"
import { formatLockTime, SchedulerLockError } from "../../src/adapters/schedulerLockError.js"
import {
  encodeLockRecord,
  type LockDecision,
  type LockResult,
  parseLockRecord,
  schedulerLockPath,
} from "../../src/adapters/schedulerLockRecord.js"
import { holdSchedulerLock, watchSchedulerLock } from "../../src/adapters/schedulerLockWatch.js"
import { schedulerLockContract } from "./schedulerLockContract.js"
import { stepAcquire, stepRelease } from "./schedulerLockStepper.js"

const PROJECT = "/projects/demo"
const LOCK = schedulerLockPath(PROJECT)

schedulerLockContract("memory (layerTest)", async () => {
  const world = new MemoryLockWorld({ clock: new ManualClock(Date.parse("2026-03-01T12:00:00Z")) })
  const selfPid = 1000
  let nextPid = 5000
  const dir = dirname(LOCK)
  return {
    layer: SchedulerLock.layerTest(world, { pid: selfPid }),
    projectDir: PROJECT,
    selfPid,
    hostId: world.hostId,
    spawnOther: async () => world.spawn(nextPid++),
    kill: async (pid) => world.kill(pid),
    writeLock: (text, ageMs = 0) => world.writeFile(LOCK, text, world.clock.now() - ageMs),
    writeBeside: (name, text) => world.writeFile(join(dir, name), text),
    readLock: () => world.readFile(LOCK),
    lockIno: () => String(world.execute({ op: "ino", path: LOCK })),
    listLockDir: () => world.paths().map((p) => p.slice(dir.length + 1)),
    startTimeOf: (pid) => world.startTimeOf(pid),
    cleanup: async () => {},
  }
})

/** A world whose lock pid 1 took (session s1) and then died without releasing; `contenders` are alive. */
function worldAfterDeadHolder(...contenders: number[]): MemoryLockWorld {
  const world = new MemoryLockWorld()
  world.spawn(1)
  world.backend({ pid: 1 }).tryAcquire(PROJECT, "s1")
  world.kill(1)
  for (const pid of contenders) world.spawn(pid)
  return world
}

describe("scheduler lock protocol, interleaved step by step", () => {
  it("two recoverers of one dead holder: the late one never removes the new holder's lock", () => {
    const world = worldAfterDeadHolder(2, 3)
    const a = stepAcquire(world, PROJECT, "s2", 2)
    const b = stepAcquire(world, PROJECT, "s3", 3)
    // Both see the dead holder's lock and judge it stale before either acts.
    a.runUntil("createComplete")
    b.runUntil("createComplete")
    const ra = a.run()
    expect(ra.acquired).toBe(true)
    const rb = b.run()
    expect(rb).toMatchObject({ acquired: false, reason: "held", holder: { pid: 2 } })
    expect(parseLockRecord(world.readFile(LOCK) ?? "")?.pid).toBe(2)
  })

  it("a recoverer whose view is two instances old never removes a newer holder's lock", () => {
    const world = worldAfterDeadHolder(2, 3, 4)
    const a = stepAcquire(world, PROJECT, "s2", 2)
    const w = stepAcquire(world, PROJECT, "s3", 3)
    a.runUntil("createComplete")
    w.runUntil("createComplete") // w judged the first lock stale and stalls before claiming it
    expect(a.run().acquired).toBe(true)
    world.kill(2) // the second lock is stale too now
    const z = stepAcquire(world, PROJECT, "s4", 4)
    z.runUntil((op) => op.op === "unlink" && op.path === LOCK) // z holds the claim on the second lock
    // w's claim is on the first lock, long gone: it must not act on what it finds now.
    w.runUntil((op) => op.op === "unlink" && op.path === LOCK)
    expect(z.run()).toMatchObject({ acquired: true })
    // It backed off when it met z's claim on the second lock.
    expect(w.run()).toMatchObject({ acquired: false, reason: "recovering" })
    expect(parseLockRecord(world.readFile(LOCK) ?? "")?.pid).toBe(4)
  })

  it("a recoverer killed holding its claim passes the role on: the next one climbs a level", () => {
    const world = worldAfterDeadHolder(2, 3)
    const a = stepAcquire(world, PROJECT, "s2", 2)
    a.runUntil("createComplete")
    a.step() // claim level 1 taken
    world.kill(2) // dies before removing the stale lock
    const b = stepAcquire(world, PROJECT, "s3", 3)
    const result = b.run()
    expect(result.acquired).toBe(true)
    expect(b.decisions.map((d) => d.type)).toEqual(["stale-removed", "acquired"])
    expect(world.paths()).toEqual([LOCK])
  })

  it("a creator stalled past the grace period after its O_EXCL open loses, and says so", () => {
    const clock = new ManualClock(0)
    const world = new MemoryLockWorld({ clock })
    world.spawn(2)
    world.spawn(3)
    const slow = stepAcquire(world, PROJECT, "s2", 2)
    slow.runUntil("write") // the file exists, empty
    clock.advance(10_000)
    const fast = stepAcquire(world, PROJECT, "s3", 3)
    expect(fast.run()).toMatchObject({ acquired: true })
    expect(fast.decisions[0]).toMatchObject({ type: "stale-removed", reason: "corrupt" })
    const late = slow.run()
    expect(late).toMatchObject({ acquired: false, reason: "held", holder: { pid: 3 } })
    expect(parseLockRecord(world.readFile(LOCK) ?? "")?.pid).toBe(3)
  })

  it("a release racing a same-session re-acquire from a new process never removes the new lock", () => {
    const world = new MemoryLockWorld()
    world.spawn(1)
    world.spawn(2)
    world.backend({ pid: 1 }).tryAcquire(PROJECT, "s1")
    const release = stepRelease(world, PROJECT, "s1", 1)
    const takeover = stepAcquire(world, PROJECT, "s1", 2)
    takeover.runUntil("replace")
    release.run()
    expect(release.value).toBe(false) // the takeover holds the claim on the old instance
    expect(takeover.run()).toMatchObject({ acquired: true, how: "reacquired", lock: { pid: 2 } })
    expect(parseLockRecord(world.readFile(LOCK) ?? "")?.pid).toBe(2)
  })
})

describe("watchSchedulerLock (manual clock)", () => {
  it("retries every interval and takes over within one interval of the holder's death", () => {
    const clock = new ManualClock(0)
    const world = new MemoryLockWorld({ clock })
    world.spawn(1)
    world.backend({ pid: 1 }).tryAcquire(PROJECT, "holder")
    const acquiredAt: number[] = []
    const decisions: LockDecision[] = []
    const watch = watchSchedulerLock(PROJECT, "waiter", {
      backend: world.backend({ pid: 2 }),
      intervalMs: 1_000,
      onAcquired: () => acquiredAt.push(clock.now()),
      onDecision: (d) => decisions.push(d),
    })
    expect(decisions).toEqual([]) // nothing runs inside the call
    clock.advance(0)
    expect(decisions).toMatchObject([{ type: "blocked", reason: "held", holder: { pid: 1 } }])
    clock.advance(2_500)
    world.kill(1)
    clock.advance(499)
    expect(acquiredAt).toEqual([])
    clock.advance(1)
    expect(acquiredAt).toEqual([3_000])
    expect(watch.holding()).toBe(true)
    expect(decisions.filter((d) => d.type === "blocked")).toHaveLength(3)
    expect(decisions.slice(-2).map((d) => d.type)).toEqual(["stale-removed", "acquired"])
    watch.stop()
    expect(world.readFile(LOCK)).toBeUndefined()
    expect(clock.pending).toBe(0)
  })

  it("notices a lost lock at the next check, reports it, and contends again", () => {
    const clock = new ManualClock(0)
    const world = new MemoryLockWorld({ clock })
    const lost: string[] = []
    const decisions: LockDecision[] = []
    const watch = watchSchedulerLock(PROJECT, "me", {
      backend: world.backend({ pid: 2 }),
      intervalMs: 500,
      onLost: (seen) => lost.push(seen.state),
      onDecision: (d) => decisions.push(d),
    })
    clock.advance(0)
    expect(watch.holding()).toBe(true)
    // Someone removes it by hand and another session takes it.
    world.spawn(7)
    world.writeFile(LOCK, encodeLockRecord({ sessionId: "thief", pid: 7, acquiredAt: 1 }))
    clock.advance(500)
    expect(lost).toEqual(["held"])
    expect(watch.holding()).toBe(false)
    expect(decisions.at(-1)).toMatchObject({ type: "lost", sessionId: "me", holder: { pid: 7 } })
    world.kill(7)
    clock.advance(500)
    expect(watch.holding()).toBe(true)
    watch.stop()
  })

  it("reports I/O errors and keeps trying", () => {
    const clock = new ManualClock(0)
    const world = new MemoryLockWorld({ clock })
    const backend = world.backend({ pid: 2 })
    let failures = 2
    const flaky = {
      ...backend,
      tryAcquire: (...args: Parameters<typeof backend.tryAcquire>): LockResult => {
        if (failures-- > 0) {
          throw new SchedulerLockError({
            reason: "Io",
            path: LOCK,
            message: `scheduler lock: read ${LOCK} failed: EIO`,
          })
        }
        return backend.tryAcquire(...args)
      },
    }
    const errors: string[] = []
    const watch = watchSchedulerLock(PROJECT, "me", {
      backend: flaky,
      intervalMs: 100,
      onError: (e) => errors.push(e.code),
    })
    clock.advance(100)
    expect(errors).toEqual(["AGH_LOCK_IO", "AGH_LOCK_IO"])
    expect(watch.holding()).toBe(false)
    clock.advance(100)
    expect(watch.holding()).toBe(true)
    watch.stop()
  })
})

describe("holdSchedulerLock", () => {
  it("holds, then releases exactly once", async () => {
    const world = new MemoryLockWorld()
    const backend = world.backend({ pid: 2 })
    const hold = await holdSchedulerLock(PROJECT, "me", { backend })
    expect(hold.result.acquired).toBe(true)
    expect(world.readFile(LOCK)).toBeDefined()
    expect(hold.release()).toBe(true)
    expect(hold.release()).toBe(false)
    expect(world.readFile(LOCK)).toBeUndefined()
  })

  it("a refused hold carries the error and its release does nothing", async () => {
    const world = new MemoryLockWorld()
    world.backend({ pid: 1 }).tryAcquire(PROJECT, "other")
    const hold = await holdSchedulerLock(PROJECT, "me", { backend: world.backend({ pid: 2 }) })
    expect(hold.result.acquired === false && hold.result.error.code).toBe("AGH_LOCK_HELD")
    expect(hold.release()).toBe(false)
    expect(parseLockRecord(world.readFile(LOCK) ?? "")?.sessionId).toBe("other")
  })
})

describe("formatLockTime", () => {
  it("prints the time alone on the same local day, with the date otherwise", () => {
    const at = new Date(2026, 0, 2, 12, 0, 3).getTime()
    expect(formatLockTime(at, new Date(2026, 0, 2, 23, 59, 59).getTime())).toBe("12:00:03")
    expect(formatLockTime(at, new Date(2026, 0, 3, 0, 0, 1).getTime())).toBe("2026-01-02 12:00:03")
  })
})

describe("parseLockRecord", () => {
  it("round-trips our records and rejects torn or ill-typed ones", () => {
    const record = { sessionId: "s", pid: 42, acquiredAt: 7, procStart: "b:1", host: "h", nonce: "n" }
    expect(parseLockRecord(encodeLockRecord(record))).toEqual(record)
    expect(parseLockRecord(encodeLockRecord(record).slice(0, 20))).toBeUndefined()
    expect(parseLockRecord('{"sessionId":"s","pid":0,"acquiredAt":1}')).toBeUndefined()
    expect(parseLockRecord('{"sessionId":"","pid":3,"acquiredAt":1}')).toBeUndefined()
    expect(parseLockRecord('{"sessionId":"s","pid":3,"acquiredAt":"1"}')).toBeUndefined()
    expect(parseLockRecord("[1]")).toBeUndefined()
  })
})
