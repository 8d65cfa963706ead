import { dirname } from "node:path"
import { type ClockShape, ManualClock } from "./clock.js"
import type { ProcessProbe, ProcessTable } from "./processInfo.js"
import { makeLockBackend, type SchedulerLockBackend } from "./schedulerLockBackend.js"
import type { LockOp } from "./schedulerLockProtocol.js"
import type { FileSnapshot, LockActor } from "./schedulerLockRecord.js"

interface MemoryInode {
  readonly ino: string
  text: string
  mtimeMs: number
}

/**
 * A fake machine for the scheduler lock: files in a map (with inodes, so a write through a handle to a
 * removed file goes nowhere, as on a real disk) and a process table the test controls — which pids are
 * alive and with what start time. Several backends on one world act as several processes.
 *
 * @example
 * const world = new MemoryLockWorld()
 * world.spawn(4242)
 * const a = world.backend({ pid: 4242 })
 * a.tryAcquire("/proj", "session-a") // acquired
 * world.kill(4242)                   // its lock is now stale
 */
export class MemoryLockWorld {
  readonly clock: ClockShape
  /** Host identity of every process of this world. */
  readonly hostId = "memory-world"
  private readonly files = new Map<string, MemoryInode>()
  private readonly handles = new Map<number, MemoryInode>()
  private readonly processes = new Map<number, string>()
  private nextIno = 1
  private nextHandle = 1
  private nextNonce = 1
  private nextStart = 1

  constructor(options?: { readonly clock?: ClockShape }) {
    this.clock = options?.clock ?? new ManualClock(0)
  }

  /** Starts a process with `pid` (replacing any dead one: a reused pid gets a new start time). */
  spawn(pid: number, startTime: string = `start-${this.nextStart++}`): number {
    this.processes.set(pid, startTime)
    return pid
  }

  /** Ends a process, as SIGKILL would: nothing of it runs any more. */
  kill(pid: number): void {
    this.processes.delete(pid)
  }

  isAlive(pid: number): boolean {
    return this.processes.has(pid)
  }

  startTimeOf(pid: number): string | undefined {
    return this.processes.get(pid)
  }

  /** Process `pid` as the protocol sees it: pid, start time and host (for stepping programs by hand). */
  actorOf(pid: number): LockActor {
    const startTime = this.processes.get(pid)
    return { pid, ...(startTime === undefined ? {} : { procStart: startTime }), host: this.hostId }
  }

  /** The fake process table. */
  readonly table: ProcessTable = {
    probe: (pid: number): ProcessProbe => {
      const startTime = this.processes.get(pid)
      return startTime === undefined ? { alive: false } : { alive: true, startTime }
    },
    hostId: this.hostId,
  }

  /** A file's content, if it exists. */
  readFile(path: string): string | undefined {
    return this.files.get(path)?.text
  }

  /** Writes a file outright (a torn lock, a lock from another tool), dated `mtimeMs` (default now). */
  writeFile(path: string, text: string, mtimeMs: number = this.clock.now()): void {
    this.files.set(path, { ino: String(this.nextIno++), text, mtimeMs })
  }

  removeFile(path: string): void {
    this.files.delete(path)
  }

  /** Paths of all files, sorted. */
  paths(): ReadonlyArray<string> {
    return [...this.files.keys()].sort()
  }

  private snapshot(path: string): FileSnapshot | undefined {
    const file = this.files.get(path)
    return file === undefined ? undefined : { text: file.text, ino: file.ino, mtimeMs: file.mtimeMs }
  }

  private create(path: string, text: string): MemoryInode {
    const inode = { ino: String(this.nextIno++), text, mtimeMs: this.clock.now() }
    this.files.set(path, inode)
    return inode
  }

  /** Executes one protocol op atomically (every op but `decide`). */
  execute(op: LockOp): unknown {
    switch (op.op) {
      case "mkdir":
      case "decide":
        return undefined
      case "read":
        return this.snapshot(op.path)
      case "openExcl": {
        if (this.files.has(op.path)) return undefined
        const handle = this.nextHandle++
        const inode = this.create(op.path, "")
        this.handles.set(handle, inode)
        return { handle, ino: inode.ino }
      }
      case "write": {
        const inode = this.handles.get(op.handle)
        if (inode === undefined) throw new Error(`write to closed handle ${op.handle}`)
        inode.text += op.text
        inode.mtimeMs = this.clock.now()
        return undefined
      }
      case "close":
        this.handles.delete(op.handle)
        return undefined
      case "ino":
        return this.files.get(op.path)?.ino
      case "createComplete":
        if (this.files.has(op.path)) return false
        this.create(op.path, op.text)
        return true
      case "replace":
        this.create(op.path, op.text)
        return undefined
      case "unlink":
        return this.files.delete(op.path)
      case "list":
        return [...this.files.keys()]
          .filter((p) => dirname(p) === op.dir)
          .map((p) => p.slice(op.dir.length + 1))
      case "now":
        return this.clock.now()
      case "nonce":
        return `n${(this.nextNonce++).toString(16).padStart(15, "0")}`
      case "probe":
        return this.table.probe(op.pid)
    }
  }

  /**
   * A backend acting as process `pid` of this world (spawned if it is not alive). Its default pid is
   * `pid`; a per-call `pid` option still overrides it. A backend is one process: after
   * `kill(pid)` and `spawn(pid)` (a reused pid), make a new backend for the new process.
   */
  backend(options?: { readonly pid?: number }): SchedulerLockBackend {
    const pid = options?.pid ?? 1000
    if (!this.isAlive(pid)) this.spawn(pid)
    return makeLockBackend({
      execute: (op) => this.execute(op),
      table: this.table,
      defaultPid: pid,
      clock: this.clock,
      processBound: false,
    })
  }
}
