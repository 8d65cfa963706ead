import { execFileSync } from "node:child_process"
import { readFileSync, readlinkSync } from "node:fs"
import { hostname } from "node:os"

/** What can be learnt about a pid from outside the process. */
export interface ProcessProbe {
  /** False when no such process exists, or it is a zombie (dead, only waiting to be reaped). */
  readonly alive: boolean
  /**
   * An opaque token that differs between two processes that had the same pid at different times:
   * `<boot id>:<start ticks>` on Linux (from `/proc/<pid>/stat` field 22), `ps -o lstart` on macOS and
   * the BSDs, absent elsewhere or when unreadable.
   */
  readonly startTime?: string
}

/** The process table as the scheduler lock sees it: the live one, or a fake in tests. */
export interface ProcessTable {
  readonly probe: (pid: number) => ProcessProbe
  /**
   * Names the pid namespace this process lives in. Pids recorded by a process with another identity
   * (another machine sharing the directory, another container) cannot be checked from here.
   */
  readonly hostId: string
}

/** Fields of `/proc/<pid>/stat` the lock needs. */
export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), ... */
  readonly state: string
  /** Field 22: start time in clock ticks since boot, kept as text so no precision is lost. */
  readonly startTicks: string
}

/**
 * Parses `/proc/<pid>/stat`. The command name (field 2) may itself contain spaces and parentheses, so
 * fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")")
  if (close < 0) return undefined
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/)
  // fields[0] is field 3 of the whole line, so field 22 is fields[19].
  const state = fields[0]
  const startTicks = fields[19]
  if (state === undefined || startTicks === undefined || !/^\d+$/.test(startTicks)) return undefined
  return { state, startTicks }
}

let cachedBootId: string | undefined

function bootId(): string {
  if (cachedBootId === undefined) {
    // Start ticks restart at each boot; the boot id keeps a pid recorded before a reboot from matching
    // an early-boot daemon that got the same pid and tick count after it.
    try {
      cachedBootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()
    } catch {
      cachedBootId = ""
    }
  }
  return cachedBootId
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined
}

function killZeroAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errnoOf(error) === "EPERM"
  }
}

function linuxProbe(pid: number): ProcessProbe | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8")
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ESRCH") return { alive: false }
    return undefined
  }
  const stat = parseProcStat(text)
  if (stat === undefined) return undefined
  if (stat.state === "Z" || stat.state === "X") return { alive: false }
  const boot = bootId()
  return { alive: true, startTime: boot === "" ? stat.startTicks : `${boot}:${stat.startTicks}` }
}

function psStartTime(pid: number): string | undefined {
  try {
    const out = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 2_000,
    }).trim()
    return out === "" ? undefined : out
  } catch {
    return undefined
  }
}

/**
 * Probes a pid of this machine. Never throws: what cannot be learnt is left out, so callers fall back to
 * plain liveness (`kill(pid, 0)`) when the start time is unavailable.
 */
export function probeProcess(pid: number): ProcessProbe {
  // kill(0) and kill(-n) address process groups: never let a bad pid reach it.
  if (!Number.isSafeInteger(pid) || pid <= 0) return { alive: false }
  if (process.platform === "linux") {
    const probe = linuxProbe(pid)
    if (probe !== undefined) return probe
  }
  if (!killZeroAlive(pid)) return { alive: false }
  const platform = process.platform
  if (platform === "darwin" || platform === "freebsd" || platform === "openbsd") {
    const startTime = psStartTime(pid)
    return startTime === undefined ? { alive: true } : { alive: true, startTime }
  }
  return { alive: true }
}

/** The start-time token of a pid (see {@link ProcessProbe.startTime}), if it is alive and knowable. */
export function processStartTime(pid: number): string | undefined {
  return probeProcess(pid).startTime
}

let cachedHostId: string | undefined

/**
 * This process's host identity: the host name, plus the pid namespace on Linux so two containers that
 * share a project directory (and may both have a pid 7) never judge each other's pids.
 */
export function processHostId(): string {
  if (cachedHostId === undefined) {
    let namespace = ""
    if (process.platform === "linux") {
      try {
        namespace = `/${readlinkSync("/proc/self/ns/pid")}`
      } catch {
        namespace = ""
      }
    }
    cachedHostId = `${hostname()}${namespace}`
  }
  return cachedHostId
}

/** The real process table of this machine. */
export const liveProcessTable: ProcessTable = {
  probe: probeProcess,
  get hostId() {
    return processHostId()
  },
}
