import { spawn } from "node:child_process"
import type { Readable } from "node:stream"
import { type ClockShape, liveClock, type TimerHandle } from "../adapters/clock.js"
import { BASH_DEFAULTS } from "./agentDefaults.js"
import type { CommandOutcome, CommandRunner, RunningCommand, RunOptions } from "./commandRunner.js"

/** Options of {@link makeShellRunner}. */
export interface ShellRunnerOptions {
  /** Per-stream cap on captured output; the rest is counted and dropped. */
  readonly maxOutputBytes?: number
  /** Time between SIGTERM and SIGKILL when stopping a command. */
  readonly killGraceMs?: number
  /** Arms the timeout and the kill grace; a ManualClock makes both testable. */
  readonly clock?: ClockShape
  readonly shell?: string
  /** Environment of the commands; default: the agent's own (the host already scrubbed it). */
  readonly env?: NodeJS.ProcessEnv
}

class CappedOutput {
  private readonly chunks: Buffer[] = []
  private kept = 0
  dropped = 0

  constructor(private readonly cap: number) {}

  add(chunk: Buffer): void {
    const room = this.cap - this.kept
    if (room <= 0) {
      this.dropped += chunk.length
      return
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk
    this.chunks.push(part)
    this.kept += part.length
    this.dropped += chunk.length - part.length
  }

  text(): string {
    const out = Buffer.concat(this.chunks, this.kept).toString("utf8")
    return this.dropped === 0 ? out : `${out}\n[output truncated: ${this.dropped} more bytes not shown]\n`
  }
}

/** Sends `signal` to the process group led by `pid`; a group that is already gone is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the group has exited meanwhile. EPERM cannot happen for our own children.
  }
}

/**
 * Runs each command as `/bin/sh -c <command>` in its own process group (so stopping it reaches every
 * process it started), stdin closed, stdout/stderr captured up to a cap. A timeout or an interrupt sends
 * SIGTERM to the group, then SIGKILL after a grace period; if the pipes still do not close (a process
 * that escaped the group holds them), the outcome is settled anyway so a turn can never hang.
 */
export function makeShellRunner(options: ShellRunnerOptions = {}): CommandRunner & {
  /** Pids of the process groups still running: killed on agent shutdown. */
  readonly active: () => ReadonlyArray<number>
} {
  const clock = options.clock ?? liveClock
  const maxOutputBytes = options.maxOutputBytes ?? BASH_DEFAULTS.maxOutputBytes
  const killGraceMs = options.killGraceMs ?? BASH_DEFAULTS.killGraceMs
  const shell = options.shell ?? "/bin/sh"
  const active = new Set<number>()

  const run = (command: string, runOptions: RunOptions): RunningCommand => {
    const child = spawn(shell, ["-c", command], {
      cwd: runOptions.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    })
    const pid = child.pid
    if (pid !== undefined) active.add(pid)
    const stdout = new CappedOutput(maxOutputBytes)
    const stderr = new CappedOutput(maxOutputBytes)
    child.stdout?.on("data", (chunk: Buffer) => stdout.add(chunk))
    child.stderr?.on("data", (chunk: Buffer) => stderr.add(chunk))

    let stopReason: "interrupted" | "timedOut" | undefined
    let spawnError: string | undefined
    const timers = new Set<TimerHandle>()
    const arm = (fn: () => void, ms: number) => timers.add(clock.setTimeout(fn, ms))

    let settle: (outcome: CommandOutcome) => void = () => {}
    const outcome = new Promise<CommandOutcome>((resolve) => {
      settle = resolve
    })
    let settled = false
    const finish = (exitCode: number | null, signal: string | null) => {
      if (settled) return
      settled = true
      for (const t of timers) clock.clearTimeout(t)
      if (pid !== undefined) active.delete(pid)
      settle({
        stdout: stdout.text(),
        stderr: spawnError === undefined ? stderr.text() : `${stderr.text()}${spawnError}\n`,
        exitCode,
        signal,
        interrupted: stopReason === "interrupted",
        timedOut: stopReason === "timedOut",
        truncated: stdout.dropped + stderr.dropped > 0,
        ...(spawnError === undefined ? {} : { spawnError }),
      })
    }

    const stop = (reason: "interrupted" | "timedOut") => {
      if (settled || stopReason !== undefined || pid === undefined) return
      stopReason = reason
      killGroup(pid, "SIGTERM")
      arm(() => {
        killGroup(pid, "SIGKILL")
        arm(() => {
          // Only an escaped grandchild keeps our pipes open now; stop waiting for it.
          for (const stream of [child.stdout, child.stderr] as Array<Readable | null>) stream?.destroy()
          finish(child.exitCode, child.signalCode)
        }, killGraceMs)
      }, killGraceMs)
    }

    child.on("error", (err) => {
      spawnError = `agenthost: could not start ${shell} in ${runOptions.cwd}: ${err.message}`
      finish(null, null)
    })
    child.on("close", (code, signal) => finish(code, signal))
    if (pid !== undefined) arm(() => stop("timedOut"), runOptions.timeoutMs)

    return { pid, outcome, interrupt: () => stop("interrupted") }
  }

  return { run, active: () => [...active] }
}

/** Kills the groups of every command still running (agent shutdown); synchronous, so it works in `exit`. */
export function killAllGroups(pids: ReadonlyArray<number>): void {
  for (const pid of pids) killGroup(pid, "SIGKILL")
}
