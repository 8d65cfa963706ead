import { type ChildProcess, spawn } from "node:child_process"
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Layer } from "effect"
import { describe, expect, it } from "vitest"
import { Clock } from "../../src/adapters/clock.js"
import { parseProcStat, probeProcess, processHostId } from "../../src/adapters/processInfo.js"
import { SchedulerLock } from "../../src/adapters/schedulerLock.js"
import { parseLockRecord, schedulerLockPath } from "../../src/adapters/schedulerLockRecord.js"
import { prng } from "../support/prng.js"
import { schedulerLockContract } from "./schedulerLockContract.js"

const FIXTURE = fileURLToPath(new URL("../fixtures/lockContender.mjs", import.meta.url))

/** A child process with its stdout split into lines, and a way to await a line. */
class Child {
  readonly lines: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private readonly waiters: Array<{ match: RegExp; resolve: (line: string) => void }> = []
  onLine: (line: string) => void = () => {}
  stderr = ""

  constructor(readonly proc: ChildProcess) {
    // "close", not "exit": by then every line the child wrote has been read.
    this.exited = new Promise((resolve) => proc.once("close", (code, signal) => resolve({ code, signal })))
    proc.stderr?.on("data", (chunk) => {
      this.stderr += String(chunk)
    })
    if (proc.stdout) {
      createInterface({ input: proc.stdout }).on("line", (line) => {
        this.lines.push(line)
        for (const w of [...this.waiters]) {
          if (w.match.test(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1)
            w.resolve(line)
          }
        }
        this.onLine(line)
      })
    }
  }

  get pid(): number {
    return this.proc.pid ?? -1
  }

  /** The first line (already seen or still to come) matching `match`. */
  waitFor(match: RegExp): Promise<string> {
    const seen = this.lines.find((l) => match.test(l))
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve) => this.waiters.push({ match, resolve }))
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal)
    await this.exited
  }
}

/** Processes and temp dirs of one test, all ended and removed when it finishes. */
class Tracked {
  private readonly children = new Set<Child>()
  private readonly dirs = new Set<string>()

  tempProject(): string {
    const dir = mkdtempSync(join(tmpdir(), "agh-lock-"))
    this.dirs.add(dir)
    return dir
  }

  fixture(...args: string[]): Child {
    const child = new Child(
      spawn(process.execPath, [FIXTURE, ...args], { stdio: ["ignore", "pipe", "pipe"] }),
    )
    this.children.add(child)
    return child
  }

  async sleeper(): Promise<Child> {
    const child = new Child(
      spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { stdio: "ignore" }),
    )
    this.children.add(child)
    await new Promise<void>((resolve, reject) => {
      child.proc.once("spawn", () => resolve())
      child.proc.once("error", reject)
    })
    return child
  }

  adopt(child: Child): void {
    this.children.add(child)
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.kill()))
    this.children.clear()
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true })
    this.dirs.clear()
  }
}

/** A tracker cleaned up when the calling test finishes (safe for concurrent tests). */
function tracked(onTestFinished: (fn: () => Promise<void>) => void): Tracked {
  const t = new Tracked()
  onTestFinished(() => t.cleanup())
  return t
}

schedulerLockContract("live (real files, real processes)", async () => {
  const t = new Tracked()
  const projectDir = t.tempProject()
  const lockPath = schedulerLockPath(projectDir)
  const lockDir = join(projectDir, ".claude")
  const others = new Map<number, Child>()
  return {
    layer: SchedulerLock.layer.pipe(Layer.provide(Clock.layer)),
    projectDir,
    selfPid: process.pid,
    hostId: processHostId(),
    spawnOther: async () => {
      const child = await t.sleeper()
      others.set(child.pid, child)
      return child.pid
    },
    kill: async (pid) => {
      await others.get(pid)?.kill()
    },
    writeLock: (text, ageMs = 0) => {
      mkdirSync(lockDir, { recursive: true })
      writeFileSync(lockPath, text)
      const at = (Date.now() - ageMs) / 1000
      utimesSync(lockPath, at, at)
    },
    writeBeside: (name, text) => {
      mkdirSync(lockDir, { recursive: true })
      writeFileSync(join(lockDir, name), text)
    },
    readLock: () => {
      try {
        return readFileSync(lockPath, "utf8")
      } catch {
        return undefined
      }
    },
    lockIno: () => String(statSync(lockPath, { bigint: true }).ino),
    listLockDir: () => {
      try {
        return readdirSync(lockDir).sort()
      } catch {
        return []
      }
    },
    startTimeOf: (pid) => probeProcess(pid).startTime,
    cleanup: () => t.cleanup(),
  }
})

function lockOnDisk(projectDir: string): string | undefined {
  try {
    return readFileSync(schedulerLockPath(projectDir), "utf8")
  } catch {
    return undefined
  }
}

// Each case is its own process and temp dir: run them side by side, most of their time is node starting.
describe.concurrent("releasing on exit and signals (real processes)", () => {
  it.for(["SIGTERM", "SIGINT", "SIGHUP"] as const)(
    "%s releases the lock and ends the process by the signal",
    async (signal, { expect, onTestFinished }) => {
      const t = tracked(onTestFinished)
      const project = t.tempProject()
      const holder = t.fixture("hold", project, "session-a")
      await holder.waitFor(/ held$/)
      expect(parseLockRecord(lockOnDisk(project) ?? "")?.pid).toBe(holder.pid)
      holder.proc.kill(signal)
      expect(await holder.exited).toEqual({ code: null, signal })
      expect(lockOnDisk(project)).toBeUndefined()
      expect(holder.lines).toContain(`${holder.pid} decision released`)
    },
  )

  it("process.exit(3) releases the lock and keeps the exit code", async ({ expect, onTestFinished }) => {
    const t = tracked(onTestFinished)
    const project = t.tempProject()
    const holder = t.fixture("hold-exit", project, "session-a", "3")
    expect(await holder.exited).toEqual({ code: 3, signal: null })
    expect(holder.lines).toContain(`${holder.pid} held`)
    expect(lockOnDisk(project)).toBeUndefined()
  })

  it("an uncaught exception releases the lock", async ({ expect, onTestFinished }) => {
    const t = tracked(onTestFinished)
    const project = t.tempProject()
    const holder = t.fixture("hold-throw", project, "session-a")
    expect(await holder.exited).toEqual({ code: 1, signal: null })
    expect(holder.stderr).toContain("boom")
    expect(lockOnDisk(project)).toBeUndefined()
  })

  it("a process with its own SIGINT handler keeps living and holding; SIGTERM then releases", async ({
    expect,
    onTestFinished,
  }) => {
    const t = tracked(onTestFinished)
    const project = t.tempProject()
    const holder = t.fixture("hold-own-sigint", project, "session-a")
    await holder.waitFor(/ held$/)
    holder.proc.kill("SIGINT")
    await holder.waitFor(/ interrupted$/)
    expect(parseLockRecord(lockOnDisk(project) ?? "")?.pid).toBe(holder.pid)
    holder.proc.kill("SIGTERM")
    expect(await holder.exited).toEqual({ code: null, signal: "SIGTERM" })
    expect(lockOnDisk(project)).toBeUndefined()
  })

  it("SIGKILL leaves the lock behind, and a watcher takes it over within one retry period", async ({
    expect,
    onTestFinished,
  }) => {
    const t = tracked(onTestFinished)
    const project = t.tempProject()
    const holder = t.fixture("hold", project, "session-a")
    await holder.waitFor(/ held$/)
    const watcher = t.fixture("watch", project, "session-b", "200")
    await watcher.waitFor(/ decision blocked held$/)
    const killedAt = process.hrtime.bigint()
    await holder.kill("SIGKILL")
    const line = await watcher.waitFor(/ acquired \d+$/)
    const tookOverMs = Number(BigInt(line.split(" ")[2] ?? "0") - killedAt) / 1e6
    // One 200 ms retry period, plus room for a loaded machine.
    expect(tookOverMs).toBeLessThan(1_500)
    expect(watcher.lines).toContain(`${watcher.pid} decision stale-removed dead-pid`)
    expect(parseLockRecord(lockOnDisk(project) ?? "")).toMatchObject({
      pid: watcher.pid,
      sessionId: "session-b",
    })
    watcher.proc.kill("SIGTERM")
    expect(await watcher.exited).toEqual({ code: null, signal: "SIGTERM" })
    expect(lockOnDisk(project)).toBeUndefined()
    console.log(`scheduler lock: watcher took over ${tookOverMs.toFixed(0)} ms after SIGKILL (retry 200 ms)`)
  })
})

describe("probeProcess on real processes", () => {
  it("a reaped child is dead; a live one has its own stable start time", async ({ onTestFinished }) => {
    const t = tracked(onTestFinished)
    const child = await t.sleeper()
    const first = probeProcess(child.pid)
    expect(first.alive).toBe(true)
    expect(first.startTime).toBeDefined()
    expect(first.startTime).not.toBe(probeProcess(process.pid).startTime)
    expect(probeProcess(child.pid)).toEqual(first)
    await child.kill()
    expect(probeProcess(child.pid)).toEqual({ alive: false })
  })

  // Zombies are read from /proc/<pid>/stat; elsewhere kill(pid, 0) is all there is.
  it.runIf(process.platform === "linux")(
    "a zombie (exited, never waited for) is dead although kill(pid, 0) still succeeds",
    async ({ onTestFinished }) => {
      const t = tracked(onTestFinished)
      const stateOf = (pid: number) => {
        try {
          return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"))?.state
        } catch {
          return undefined // gone: reaped
        }
      }
      // The shell's background child is inherited by `sleep`, which never waits for it. If the child ends
      // before the shell has exec'd (a loaded machine), the shell reaps it and there is no zombie: try again.
      let zombie: number | undefined
      for (let attempt = 0; attempt < 5 && zombie === undefined; attempt++) {
        const parent = new Child(
          spawn("sh", ["-c", "sleep 0.2 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] }),
        )
        t.adopt(parent)
        const pid = Number(await parent.waitFor(/^\d+$/))
        // Waits for `sleep 0.2` to finish exiting (an event outside our control), bounded.
        const deadline = Date.now() + 20_000
        while (stateOf(pid) !== undefined && stateOf(pid) !== "Z" && Date.now() < deadline) {
          await new Promise((r) => setImmediate(r))
        }
        if (stateOf(pid) === "Z") zombie = pid
        else parent.proc.kill("SIGKILL")
      }
      if (zombie === undefined) throw new Error("could not make a zombie in 5 attempts")
      expect(() => process.kill(zombie, 0)).not.toThrow()
      expect(probeProcess(zombie)).toEqual({ alive: false })
    },
  )
})

interface Interval {
  readonly pid: number
  readonly start: bigint
  end: bigint
  closed: boolean
}

/** Intervals during which each process held the lock, from its own `enter`/`own`/`exit` lines. */
function holdIntervals(lines: ReadonlyArray<string>): Interval[] {
  const intervals: Interval[] = []
  let open: Interval | undefined
  for (const line of lines) {
    const [pidText, kind, ts] = line.split(" ")
    const pid = Number(pidText)
    if (kind === "enter") {
      open = { pid, start: BigInt(ts ?? "0"), end: BigInt(ts ?? "0"), closed: false }
      intervals.push(open)
    } else if ((kind === "own" || kind === "exit") && open !== undefined) {
      // `own` is stamped before the check that found the file still ours: a sure moment of holding.
      open.end = BigInt(ts ?? "0")
      if (kind === "exit") {
        open.closed = true
        open = undefined
      }
    }
  }
  return intervals
}

describe("contention with random SIGKILLs (real processes)", () => {
  // Bounded work (6 contenders, 3 holds each, 5 kills): about 2 s on a quiet 2-core machine. The
  // timeout is for a box loaded by parallel suites, where every process start takes seconds.
  it("never has two live holders at once, and recovers every killed holder's lock", {
    timeout: 90_000,
  }, async ({ onTestFinished }) => {
    const t = tracked(onTestFinished)
    const seed = Number(process.env.LOCK_CONTENTION_SEED ?? Date.now() % 1_000_000_000)
    const random = prng(seed)
    const project = t.tempProject()
    const contenders = 6
    const holds = 3
    let killBudget = 5
    let sessions = 0
    const all: Child[] = []
    const killed = new Set<number>()
    const start = (): void => {
      const child = t.fixture("contend", project, `session-${sessions++}`, String(holds), "3")
      all.push(child)
      child.onLine = (line) => {
        // Kill on entering (so mostly while holding) or on leaving; each kill brings a new contender.
        if (killBudget > 0 && / (enter|exit) /.test(line) && random() < 0.2) {
          killBudget--
          killed.add(child.pid)
          child.proc.kill("SIGKILL")
          start()
        }
      }
    }
    for (let i = 0; i < contenders; i++) start()
    for (let seen = 0; seen !== all.length; ) {
      seen = all.length
      await Promise.all(all.map((c) => c.exited))
    }

    const context = `seed ${seed} (replay with LOCK_CONTENTION_SEED=${seed})`
    const lines = all.flatMap((c) => c.lines)
    expect(
      lines.filter((l) => l.includes(" lost ")),
      context,
    ).toEqual([])
    const intervals = holdIntervals(all.flatMap((c) => c.lines))
    const sorted = [...intervals].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!
      const next = sorted[i]!
      expect(next.start > prev.end, `${context}: pid ${prev.pid} still held when ${next.pid} entered`).toBe(
        true,
      )
    }
    for (const child of all) {
      const result = await child.exited
      // A kill aimed at a contender's last `exit` line can find it already ended (the parent reads lines
      // after the fact): such a process finished normally, and must look like one that did.
      if (killed.has(child.pid) && result.signal === "SIGKILL") continue
      expect(result, `${context}: ${child.stderr}`).toEqual({ code: 0, signal: null })
      expect(child.lines.filter((l) => / exit /.test(l))).toHaveLength(holds)
    }
    const killedHolding = intervals.filter((iv) => !iv.closed)
    if (killedHolding.length > 0)
      expect(lines.some((l) => l.endsWith("decision stale-removed dead-pid"))).toBe(true)
    expect(intervals.length).toBeGreaterThanOrEqual(contenders * holds)
    expect(lockOnDisk(project)).toBeUndefined()
    expect(readdirSync(join(project, ".claude")).filter((n) => n.includes(".claim-"))).toEqual([])
    console.log(
      `lock contention: ${context}, ${all.length} processes, ${intervals.length} holds, ${killed.size} SIGKILLs (${killedHolding.length} while holding)`,
    )
  })
})
