import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import {
  killAllGroups,
  makeShellRunner as makeRunner,
  type ShellRunnerOptions,
} from "../../src/agent/bashTool.js"
import { processAlive as alive } from "./processAlive.js"

let dir: string
/** Grandchildren a test learned about: killed afterwards even when an assertion failed mid-test. */
const strays: number[] = []
const runners: Array<ReturnType<typeof makeRunner>> = []
const makeShellRunner = (options?: ShellRunnerOptions) => {
  const runner = makeRunner(options)
  runners.push(runner)
  return runner
}
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "agh-bash-")))
})
afterEach(() => {
  for (const runner of runners.splice(0)) killAllGroups(runner.active())
  for (const pid of strays.splice(0)) if (alive(pid)) process.kill(pid, "SIGKILL")
  rmSync(dir, { recursive: true, force: true })
})

/** Waits for a file the command writes once it reached a point (its pid, say); polling, not sleeping. */
const readWhenWritten = (path: string) =>
  vi.waitFor(
    () => {
      const text = existsSync(path) ? readFileSync(path, "utf8") : ""
      if (!text.endsWith("\n")) throw new Error(`${path} not written yet`)
      return text.trim()
    },
    { timeout: 10_000, interval: 20 },
  )

describe("makeShellRunner (real processes)", () => {
  it("runs /bin/sh -c in the cwd and captures stdout, stderr and the exit code", async () => {
    const runner = makeShellRunner()
    const run = runner.run("pwd; echo oops >&2; exit 3", { cwd: dir, timeoutMs: 60_000 })
    expect(run.pid).toBeTypeOf("number")
    const outcome = await run.outcome
    expect(outcome).toEqual({
      stdout: `${dir}\n`,
      stderr: "oops\n",
      exitCode: 3,
      signal: null,
      interrupted: false,
      timedOut: false,
      truncated: false,
    })
    expect(runner.active()).toEqual([])
  })

  it("gives commands no stdin, so they cannot read the agent's protocol stream", async () => {
    const outcome = await makeShellRunner().run("cat; echo done", { cwd: dir, timeoutMs: 60_000 }).outcome
    expect(outcome.stdout).toBe("done\n")
  })

  it("caps each stream and says how much was dropped", async () => {
    const runner = makeShellRunner({ maxOutputBytes: 100 })
    const outcome = await runner.run("head -c 5000 /dev/zero | tr '\\000' a", { cwd: dir, timeoutMs: 60_000 })
      .outcome
    expect(outcome.stdout).toBe(`${"a".repeat(100)}\n[output truncated: 4900 more bytes not shown]\n`)
    expect(outcome.truncated).toBe(true)
    expect(outcome.exitCode).toBe(0)
  })

  it("kills a command at its timeout (on the injected clock)", async () => {
    const clock = new ManualClock()
    const runner = makeShellRunner({ clock, killGraceMs: 1_000 })
    const run = runner.run("exec tail -f /dev/null", { cwd: dir, timeoutMs: 30_000 })
    expect(runner.active()).toEqual([run.pid])
    clock.advance(30_000)
    const outcome = await run.outcome
    expect(outcome).toMatchObject({ timedOut: true, interrupted: false, exitCode: null, signal: "SIGTERM" })
    expect(clock.pending).toBe(0)
  })

  it("an interrupt kills the command's whole process group, grandchildren included", async () => {
    const runner = makeShellRunner()
    const pidFile = join(dir, "pid")
    const run = runner.run(`tail -f /dev/null & echo $! > ${pidFile}; wait`, { cwd: dir, timeoutMs: 60_000 })
    const grandchild = Number(await readWhenWritten(pidFile))
    strays.push(grandchild)
    expect(alive(grandchild)).toBe(true)
    run.interrupt()
    run.interrupt()
    const outcome = await run.outcome
    expect(outcome).toMatchObject({ interrupted: true, timedOut: false, exitCode: null })
    // The signal is delivered asynchronously; the group's death follows the shell's by a moment.
    await vi.waitFor(() => expect(alive(grandchild)).toBe(false), { timeout: 10_000, interval: 20 })
  })

  it("escalates to SIGKILL when the group ignores SIGTERM", async () => {
    const clock = new ManualClock()
    const runner = makeShellRunner({ clock, killGraceMs: 2_000 })
    const ready = join(dir, "ready")
    const run = runner.run(`trap '' TERM; echo ok > ${ready}; tail -f /dev/null`, {
      cwd: dir,
      timeoutMs: 60_000,
    })
    await readWhenWritten(ready)
    run.interrupt()
    clock.advance(2_000)
    const outcome = await run.outcome
    expect(outcome).toMatchObject({ interrupted: true, exitCode: null, signal: "SIGKILL" })
  })

  it("reports a shell that cannot start instead of throwing", async () => {
    const missing = join(dir, "nope")
    const outcome = await makeShellRunner().run("echo hi", { cwd: missing, timeoutMs: 60_000 }).outcome
    expect(outcome.exitCode).toBe(null)
    expect(outcome.spawnError).toMatch(/^agenthost: could not start \/bin\/sh in .*nope: /)
    expect(outcome.stderr).toBe(`${outcome.spawnError}\n`)
  })
})
