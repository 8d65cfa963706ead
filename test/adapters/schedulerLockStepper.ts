import type { MemoryLockWorld } from "../../src/adapters/memoryLockWorld.js"
import {
  acquireProgram,
  DEFAULT_CORRUPT_GRACE_MS,
  type LockOp,
  type LockProgram,
  type LockProgramInput,
  releaseProgram,
} from "../../src/adapters/schedulerLockProtocol.js"
import { type LockDecision, schedulerLockPath } from "../../src/adapters/schedulerLockRecord.js"

/**
 * Runs one protocol program op by op on a memory world, so a test can interleave several "processes"
 * at every atomic step and kill one between any two (by dropping its stepper).
 */
export class ProgramStepper<A> {
  private pending: LockOp | undefined
  private result: A | undefined
  private finished = false
  /** True between a successful O_EXCL open and its close: the window a torn lock is born in. */
  inCreateWindow = false

  constructor(
    private readonly program: LockProgram<A>,
    private readonly world: MemoryLockWorld,
    readonly decisions: LockDecision[] = [],
  ) {
    this.absorb(program.next())
  }

  private absorb(step: IteratorResult<LockOp, A>): void {
    if (step.done) {
      this.finished = true
      this.result = step.value
      this.pending = undefined
    } else {
      this.pending = step.value
    }
  }

  get done(): boolean {
    return this.finished
  }

  /** The op the next {@link step} performs. */
  get next(): LockOp | undefined {
    return this.pending
  }

  get value(): A {
    if (!this.finished) throw new Error("program still running")
    return this.result as A
  }

  /** Performs one op; returns true once the program has finished. */
  step(): boolean {
    const op = this.pending
    if (op === undefined) return true
    let answer: unknown
    if (op.op === "decide") this.decisions.push(op.decision)
    else answer = this.world.execute(op)
    if (op.op === "openExcl" && answer !== undefined) this.inCreateWindow = true
    if (op.op === "close") this.inCreateWindow = false
    this.absorb(this.program.next(answer))
    return this.finished
  }

  /** Steps until the program finishes, returning its result. */
  run(): A {
    while (!this.step()) {}
    return this.value
  }

  /**
   * Steps until the next op is of kind `until` (or satisfies it), without performing that op; false if
   * the program ended first.
   */
  runUntil(until: LockOp["op"] | ((op: LockOp) => boolean)): boolean {
    const stop = typeof until === "string" ? (op: LockOp) => op.op === until : until
    while (!this.finished && this.pending !== undefined && !stop(this.pending)) this.step()
    return !this.finished
  }
}

/** The program input for process `pid` of `world` taking the lock of `projectDir` for `sessionId`. */
export function programInput(
  world: MemoryLockWorld,
  projectDir: string,
  sessionId: string,
  pid: number,
  corruptGraceMs = DEFAULT_CORRUPT_GRACE_MS,
): LockProgramInput {
  return { lockPath: schedulerLockPath(projectDir), sessionId, self: world.actorOf(pid), corruptGraceMs }
}

/** Starts an acquisition by process `pid`, to be stepped. */
export function stepAcquire(world: MemoryLockWorld, projectDir: string, sessionId: string, pid: number) {
  return new ProgramStepper(acquireProgram(programInput(world, projectDir, sessionId, pid)), world)
}

/** Starts a release by process `pid`, to be stepped. */
export function stepRelease(world: MemoryLockWorld, projectDir: string, sessionId: string, pid: number) {
  return new ProgramStepper(releaseProgram(programInput(world, projectDir, sessionId, pid)), world)
}
