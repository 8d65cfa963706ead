import { Effect, Exit, type Layer, type Scope } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { SchedulerLock } from "../../src/adapters/schedulerLock.js"
import { claimPath } from "../../src/adapters/schedulerLockProtocol.js"
import {
  encodeLockRecord,
  instanceId,
  type LockDecision,
  parseLockRecord,
  SCHEDULER_LOCK_FILE,
  schedulerLockPath,
} from "../../src/adapters/schedulerLockRecord.js"

/** What the contract needs from each implementation: a layer and a way to stage the world around it. */
export interface LockContractFixture {
  readonly layer: Layer.Layer<SchedulerLock>
  readonly projectDir: string
  /** The pid the service acts as. */
  readonly selfPid: number
  readonly hostId: string
  /** Starts another process, alive until killed. */
  readonly spawnOther: () => Promise<number>
  /** Kills a process started by `spawnOther`, returning once it is gone (reaped). */
  readonly kill: (pid: number) => Promise<void>
  /** Writes the lock file outright, its mtime `ageMs` in the past. */
  readonly writeLock: (text: string, ageMs?: number) => void
  /** Writes a file next to the lock. */
  readonly writeBeside: (name: string, text: string) => void
  readonly readLock: () => string | undefined
  readonly lockIno: () => string
  /** Names in the lock's directory, sorted. */
  readonly listLockDir: () => ReadonlyArray<string>
  readonly startTimeOf: (pid: number) => string | undefined
  readonly cleanup: () => Promise<void>
}

/**
 * The scheduler-lock contract: every layer of `SchedulerLock` must pass it. Staging (other processes,
 * torn files, fake start times) goes through the fixture; everything asserted goes through the service.
 */
export function schedulerLockContract(name: string, makeFixture: () => Promise<LockContractFixture>): void {
  describe(`SchedulerLock contract: ${name}`, () => {
    let f: LockContractFixture
    beforeEach(async () => {
      f = await makeFixture()
    })
    afterEach(async () => {
      await f.cleanup()
    })

    const run = <A, E>(effect: Effect.Effect<A, E, SchedulerLock | Scope.Scope>): Promise<A> =>
      Effect.runPromise(Effect.provide(Effect.scoped(effect), f.layer))
    const logInto = (decisions: LockDecision[]) => (d: LockDecision) => {
      decisions.push(d)
    }

    it("creates the lock with sessionId, pid and acquiredAt, and reports it held", async () => {
      const decisions: LockDecision[] = []
      const result = await run(
        SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a", { onDecision: logInto(decisions) })),
      )
      expect(result.acquired && result.how).toBe("created")
      const onDisk = parseLockRecord(f.readLock() ?? "")
      expect(onDisk).toMatchObject({ sessionId: "session-a", pid: f.selfPid })
      expect(typeof onDisk?.acquiredAt).toBe("number")
      expect(result.lockPath).toBe(schedulerLockPath(f.projectDir))
      expect(decisions.map((d) => d.type)).toEqual(["acquired"])
      const seen = await run(SchedulerLock.use((l) => l.inspect(f.projectDir)))
      expect(seen.state === "held" && seen.holder.sessionId).toBe("session-a")
    })

    it("re-acquiring with the same session and pid is idempotent: same file, same record", async () => {
      const first = await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a")))
      const before = f.readLock()
      const decisions: LockDecision[] = []
      const again = await run(
        SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a", { onDecision: logInto(decisions) })),
      )
      expect(again.acquired && again.how).toBe("reacquired")
      expect(again.acquired && first.acquired && again.lock).toEqual(first.acquired && first.lock)
      expect(f.readLock()).toBe(before)
      expect(decisions).toMatchObject([{ type: "reacquired", previousPid: f.selfPid, pid: f.selfPid }])
    })

    it("re-acquiring with the same session from another pid writes the new pid", async () => {
      const other = await f.spawnOther()
      await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a", { pid: other })))
      const decisions: LockDecision[] = []
      const result = await run(
        SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a", { onDecision: logInto(decisions) })),
      )
      expect(result.acquired && result.how).toBe("reacquired")
      expect(parseLockRecord(f.readLock() ?? "")).toMatchObject({ sessionId: "session-a", pid: f.selfPid })
      expect(decisions).toMatchObject([{ type: "reacquired", previousPid: other, pid: f.selfPid }])
      expect(f.listLockDir()).toEqual([SCHEDULER_LOCK_FILE])
    })

    it("a live holder of another session blocks, with AGH_LOCK_HELD naming pid, session and time", async () => {
      const other = await f.spawnOther()
      await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a", { pid: other })))
      const before = f.readLock()
      const decisions: LockDecision[] = []
      const result = await run(
        SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b", { onDecision: logInto(decisions) })),
      )
      expect(result.acquired).toBe(false)
      if (result.acquired) return
      expect(result.reason).toBe("held")
      expect(result.holder).toMatchObject({ pid: other, sessionId: "session-a" })
      expect(result.error.code).toBe("AGH_LOCK_HELD")
      expect(result.error.message).toMatch(
        new RegExp(`^lock held by pid ${other} \\(session session-a\\) since \\d\\d:\\d\\d:\\d\\d `),
      )
      expect(result.error.message).toContain(schedulerLockPath(f.projectDir))
      expect(decisions).toMatchObject([{ type: "blocked", reason: "held", holder: { pid: other } }])
      expect(f.readLock()).toBe(before)
    })

    it("a lock whose holder died is removed and taken (stale: dead pid)", async () => {
      const other = await f.spawnOther()
      await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a", { pid: other })))
      await f.kill(other)
      const decisions: LockDecision[] = []
      const result = await run(
        SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b", { onDecision: logInto(decisions) })),
      )
      expect(result.acquired && result.how).toBe("created")
      expect(decisions).toMatchObject([
        { type: "stale-removed", reason: "dead-pid", holder: { pid: other, sessionId: "session-a" } },
        { type: "acquired", sessionId: "session-b", pid: f.selfPid },
      ])
      expect(f.listLockDir()).toEqual([SCHEDULER_LOCK_FILE])
    })

    it("a live pid with another start time is a reused pid: the lock is stale", async () => {
      const other = await f.spawnOther()
      expect(f.startTimeOf(other)).toBeDefined()
      const record = {
        sessionId: "session-a",
        pid: other,
        acquiredAt: 1,
        procStart: `${f.startTimeOf(other)}-but-earlier`,
        host: f.hostId,
      }
      f.writeLock(encodeLockRecord(record))
      const decisions: LockDecision[] = []
      const result = await run(
        SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b", { onDecision: logInto(decisions) })),
      )
      expect(result.acquired).toBe(true)
      expect(decisions[0]).toMatchObject({ type: "stale-removed", reason: "pid-reused" })
    })

    it("the same live pid with its own start time blocks", async () => {
      const other = await f.spawnOther()
      const start = f.startTimeOf(other)
      const record = {
        sessionId: "session-a",
        pid: other,
        acquiredAt: 1,
        ...(start === undefined ? {} : { procStart: start }),
      }
      f.writeLock(encodeLockRecord(record))
      const result = await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b")))
      expect(result.acquired === false && result.reason).toBe("held")
    })

    it("a lock written by another tool (only SPEC's three fields) is judged by pid alone", async () => {
      const other = await f.spawnOther()
      f.writeLock(JSON.stringify({ sessionId: "claude-1", pid: other, acquiredAt: 1 }))
      const blocked = await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b")))
      expect(blocked.acquired === false && blocked.holder?.sessionId).toBe("claude-1")
      await f.kill(other)
      const taken = await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b")))
      expect(taken.acquired).toBe(true)
    })

    it("a torn lock file is left alone while young and removed once older than the grace period", async () => {
      f.writeLock('{"sessionId":"session-a","pi', 1_000)
      const young = await run(
        SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b", { corruptGraceMs: 60_000 })),
      )
      expect(young.acquired === false && young.reason).toBe("corrupt-fresh")
      expect(young.acquired === false && young.error.code).toBe("AGH_LOCK_HELD")
      const decisions: LockDecision[] = []
      const old = await run(
        SchedulerLock.use((l) =>
          l.tryAcquire(f.projectDir, "session-b", { corruptGraceMs: 500, onDecision: logInto(decisions) }),
        ),
      )
      expect(old.acquired).toBe(true)
      expect(decisions[0]).toMatchObject({ type: "stale-removed", reason: "corrupt" })
      expect(parseLockRecord(f.readLock() ?? "")?.sessionId).toBe("session-b")
    })

    it("an empty lock file (a creator killed before writing) is stale after the grace period", async () => {
      f.writeLock("", 10_000)
      const result = await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b")))
      expect(result.acquired).toBe(true)
    })

    it("a holder on another host is never judged: blocked as unverifiable, with a hint", async () => {
      f.writeLock(
        encodeLockRecord({ sessionId: "session-a", pid: 999_999_99, acquiredAt: 1, host: "elsewhere" }),
      )
      const result = await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b")))
      expect(result.acquired === false && result.reason).toBe("unverifiable")
      expect(result.acquired === false && result.error.message).toContain("on host elsewhere")
      expect(result.acquired === false && result.error.message).toContain(
        `remove ${schedulerLockPath(f.projectDir)}`,
      )
    })

    it("recovery gets past claims left by recoverers that died mid-recovery, and cleans them up", async () => {
      const dead = await f.spawnOther()
      const deadClaimer = await f.spawnOther()
      f.writeLock(encodeLockRecord({ sessionId: "session-a", pid: dead, acquiredAt: 1 }))
      const iid = instanceId({ ino: f.lockIno(), text: f.readLock() ?? "" })
      const lockPath = schedulerLockPath(f.projectDir)
      const claim = (level: number) =>
        claimPath(lockPath, iid, level).slice(lockPath.length - SCHEDULER_LOCK_FILE.length)
      f.writeBeside(claim(1), JSON.stringify({ pid: deadClaimer, at: 1 }))
      // And a claim of an instance long gone.
      f.writeBeside(
        `${SCHEDULER_LOCK_FILE}.claim-0123456789abcdef-1`,
        JSON.stringify({ pid: deadClaimer, at: 1 }),
      )
      await f.kill(dead)
      await f.kill(deadClaimer)
      const result = await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b")))
      expect(result.acquired).toBe(true)
      expect(f.listLockDir()).toEqual([SCHEDULER_LOCK_FILE])
    })

    it("a live recoverer's claim makes others back off (recovering) instead of racing it", async () => {
      const dead = await f.spawnOther()
      const recoverer = await f.spawnOther()
      f.writeLock(encodeLockRecord({ sessionId: "session-a", pid: dead, acquiredAt: 1 }))
      const iid = instanceId({ ino: f.lockIno(), text: f.readLock() ?? "" })
      const lockPath = schedulerLockPath(f.projectDir)
      f.writeBeside(
        claimPath(lockPath, iid, 1).slice(lockPath.length - SCHEDULER_LOCK_FILE.length),
        JSON.stringify({ pid: recoverer, procStart: f.startTimeOf(recoverer), host: f.hostId, at: 1 }),
      )
      await f.kill(dead)
      const result = await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-b")))
      expect(result.acquired === false && result.reason).toBe("recovering")
    })

    it("release removes the lock only for its holder (session and pid)", async () => {
      const other = await f.spawnOther()
      const none = await run(SchedulerLock.use((l) => l.release(f.projectDir, "session-a")))
      expect(none).toBe(false)
      await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a")))
      const held = f.readLock()
      expect(await run(SchedulerLock.use((l) => l.release(f.projectDir, "session-b")))).toBe(false)
      expect(await run(SchedulerLock.use((l) => l.release(f.projectDir, "session-a", { pid: other })))).toBe(
        false,
      )
      expect(f.readLock()).toBe(held)
      const decisions: LockDecision[] = []
      const released = await run(
        SchedulerLock.use((l) => l.release(f.projectDir, "session-a", { onDecision: logInto(decisions) })),
      )
      expect(released).toBe(true)
      expect(f.readLock()).toBeUndefined()
      expect(f.listLockDir()).toEqual([])
      expect(decisions).toMatchObject([{ type: "released", sessionId: "session-a", pid: f.selfPid }])
    })

    it("hold keeps the lock for its scope and fails with AGH_LOCK_HELD when refused", async () => {
      const inside = await run(
        Effect.gen(function* () {
          const l = yield* SchedulerLock
          const record = yield* l.hold(f.projectDir, "session-a")
          return { record, onDisk: f.readLock() }
        }),
      )
      expect(parseLockRecord(inside.onDisk ?? "")).toEqual(inside.record)
      expect(f.readLock()).toBeUndefined()

      const other = await f.spawnOther()
      await run(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, "session-a", { pid: other })))
      const exit = await Effect.runPromise(
        Effect.provide(
          Effect.scoped(Effect.exit(SchedulerLock.use((l) => l.hold(f.projectDir, "session-b")))),
          f.layer,
        ),
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const failure = await run(Effect.flip(SchedulerLock.use((l) => l.hold(f.projectDir, "session-b"))))
      expect(failure.code).toBe("AGH_LOCK_HELD")
      expect(failure.message).toContain(`pid ${other}`)
    })

    it("an empty session id is refused with AGH_LOCK_INVALID", async () => {
      const error = await run(Effect.flip(SchedulerLock.use((l) => l.tryAcquire(f.projectDir, ""))))
      expect(error.code).toBe("AGH_LOCK_INVALID")
      expect(error.message).toContain(schedulerLockPath(f.projectDir))
    })
  })
}
