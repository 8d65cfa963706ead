import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { MemoryLockWorld } from "../../src/adapters/memoryLockWorld.js"
import { DEFAULT_CORRUPT_GRACE_MS } from "../../src/adapters/schedulerLockProtocol.js"
import {
  type LockResult,
  parseLockRecord,
  type SchedulerLockRecord,
  schedulerLockPath,
} from "../../src/adapters/schedulerLockRecord.js"
import { type ProgramStepper, stepAcquire, stepRelease } from "../adapters/schedulerLockStepper.js"

const PROJECT = "/projects/prop"
const LOCK = schedulerLockPath(PROJECT)

type Runner =
  | { readonly kind: "acquire"; readonly stepper: ProgramStepper<LockResult> }
  | { readonly kind: "release"; readonly stepper: ProgramStepper<boolean> }

/** One slot is one session; its process may be killed and replaced (same session, new or reused pid). */
interface Proc {
  pid: number
  readonly session: string
  belief: SchedulerLockRecord | undefined
  runner: Runner | undefined
}

type Command =
  | { readonly t: "step"; readonly slot: number; readonly n: number; readonly release: boolean }
  | { readonly t: "kill"; readonly slot: number; readonly reusePid: boolean }
  | { readonly t: "tick"; readonly ms: number }

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      t: fc.constant("step" as const),
      slot: fc.nat(3),
      n: fc.integer({ min: 1, max: 4 }),
      release: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("kill" as const), slot: fc.nat(3), reusePid: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("tick" as const), ms: fc.constantFrom(0, 100, 1_000, 6_000) }),
  },
)

function onDisk(world: MemoryLockWorld): SchedulerLockRecord | undefined {
  const text = world.readFile(LOCK)
  return text === undefined ? undefined : parseLockRecord(text)
}

class Simulation {
  readonly clock = new ManualClock(1_000_000)
  readonly world = new MemoryLockWorld({ clock: this.clock })
  readonly procs: Proc[]
  private nextPid = 100

  constructor(slots: number) {
    this.procs = Array.from({ length: slots }, (_, i) => ({
      pid: this.world.spawn(this.nextPid++),
      session: `session-${i}`,
      belief: undefined,
      runner: undefined,
    }))
  }

  private finish(proc: Proc, runner: Runner): void {
    proc.runner = undefined
    if (runner.kind === "acquire") {
      const result = runner.stepper.value
      if (proc.belief !== undefined) {
        // Re-acquiring while holding is idempotent: it must succeed and keep the very same lock.
        expect(result).toMatchObject({ acquired: true, how: "reacquired", lock: proc.belief })
      }
      if (result.acquired) {
        expect(onDisk(this.world)).toEqual(result.lock)
        proc.belief = result.lock
      }
    } else {
      expect(runner.stepper.value).toBe(true) // a holder's release always finds its own lock
      expect(proc.belief).toBeUndefined()
    }
  }

  step(proc: Proc, n: number, release: boolean): void {
    for (let i = 0; i < n; i++) {
      if (proc.runner === undefined) {
        proc.runner =
          proc.belief !== undefined && release
            ? { kind: "release", stepper: stepRelease(this.world, PROJECT, proc.session, proc.pid) }
            : { kind: "acquire", stepper: stepAcquire(this.world, PROJECT, proc.session, proc.pid) }
      }
      const runner = proc.runner
      const op = runner.stepper.next
      const done = runner.stepper.step()
      // A release lets go the moment its unlink lands, not when the program returns.
      if (runner.kind === "release" && op?.op === "unlink" && op.path === LOCK) proc.belief = undefined
      if (done) this.finish(proc, runner)
    }
  }

  kill(proc: Proc, reusePid: boolean): void {
    this.world.kill(proc.pid)
    // A reused pid comes back with another start time: the dead holder's lock must still read stale.
    proc.pid = this.world.spawn(reusePid ? proc.pid : this.nextPid++)
    proc.belief = undefined
    proc.runner = undefined
  }

  tick(ms: number): void {
    // The one timing assumption (docs/scheduler-lock.md): a live creator writes its O_EXCL file within
    // the grace period. Time does not pass while one sits between open and write.
    if (this.procs.some((p) => p.runner?.stepper.inCreateWindow === true)) return
    this.clock.advance(ms)
  }

  checkInvariant(): void {
    const believers = this.procs.filter((p) => p.belief !== undefined)
    expect(believers.length).toBeLessThanOrEqual(1)
    const holder = believers[0]
    if (holder !== undefined && holder.runner?.kind !== "release") {
      expect(onDisk(this.world)).toEqual(holder.belief)
    }
  }

  /** Lets every program finish, ages torn files out, and checks someone can still get the lock. */
  settle(): void {
    for (const proc of this.procs) {
      const runner = proc.runner
      if (runner !== undefined) {
        while (proc.runner !== undefined) this.step(proc, 1, false)
      }
      this.checkInvariant()
    }
    this.clock.advance(DEFAULT_CORRUPT_GRACE_MS + 1)
    const holder = this.procs.find((p) => p.belief !== undefined)
    for (const proc of this.procs) {
      if (proc.belief !== undefined) continue
      const result = stepAcquire(this.world, PROJECT, proc.session, proc.pid).run()
      const current = this.procs.find((p) => p.belief !== undefined)
      if (current === undefined) {
        expect(result.acquired).toBe(true)
        if (result.acquired) proc.belief = result.lock
      } else {
        expect(result).toMatchObject({ acquired: false, reason: "held", holder: { pid: current.pid } })
      }
    }
    expect(this.procs.filter((p) => p.belief !== undefined)).toHaveLength(1)
    if (holder !== undefined) expect(holder.belief).toBeDefined()
    // No claim or temp file outlives a settled world.
    expect(this.world.paths()).toEqual([LOCK])
  }
}

describe("scheduler lock under random interleavings (memory world)", () => {
  it("never has two holders, whatever the interleaving of steps, kills, pid reuse and time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.array(command, { maxLength: 250 }),
        (slots, commands) => {
          const sim = new Simulation(slots)
          for (const c of commands) {
            if (c.t === "tick") sim.tick(c.ms)
            else {
              const proc = sim.procs[c.slot % slots]!
              if (c.t === "step") sim.step(proc, c.n, c.release)
              else sim.kill(proc, c.reusePid)
            }
            sim.checkInvariant()
          }
          sim.settle()
        },
      ),
      { numRuns: 1000 },
    )
  })
})
