import { readFileSync } from "node:fs"
import { liveClock } from "../adapters/clock.js"
import { liveIds } from "../adapters/ids.js"
import { encodeNdjsonLine } from "../protocol/ndjson.js"
import { StreamJsonReader } from "../protocol/streamJsonReader.js"
import type { SupportedPermissionMode } from "./agentDefaults.js"
import { killAllGroups, makeShellRunner } from "./bashTool.js"
import { BuiltinAgent } from "./builtinAgent.js"

/** Settings of one built-in agent process (parsed from flags and environment by the `agent` command). */
export interface BuiltinAgentSettings {
  /** Default: a fresh uuid. */
  readonly sessionId?: string
  readonly cwd: string
  readonly permissionMode: SupportedPermissionMode
  readonly canPrompt: boolean
  readonly commandTimeoutMs: number
  readonly maxOutputBytes: number
  readonly killGraceMs: number
  readonly maxLineBytes: number
}

/** The streams the agent speaks on. */
export interface AgentStdio {
  readonly stdin: NodeJS.ReadableStream
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
}

let cachedVersion: string | undefined

/** `agenthost-builtin/<package version>`, the agent's `claude_code_version`. */
export function builtinAgentVersion(): string {
  if (cachedVersion === undefined) {
    let version = "0.0.0"
    try {
      // Same relative path from src/agent (tests) and dist/agent (the binary).
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
        version?: unknown
      }
      if (typeof pkg.version === "string") version = pkg.version
    } catch {
      // A bundled copy without package.json still runs; the version is informational.
    }
    cachedVersion = `agenthost-builtin/${version}`
  }
  return cachedVersion
}

const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const

/**
 * Runs the built-in agent on `io` until stdin ends and the last accepted turn is over; resolves to the exit
 * code. With `ownProcess`, a termination signal or process exit also kills the process groups of running
 * commands — they live in groups of their own, so nothing else would.
 */
export function runBuiltinAgent(
  io: AgentStdio,
  settings: BuiltinAgentSettings,
  ownProcess = false,
): Promise<number> {
  const runner = makeShellRunner({
    maxOutputBytes: settings.maxOutputBytes,
    killGraceMs: settings.killGraceMs,
  })
  const agent = new BuiltinAgent({
    sessionId: settings.sessionId ?? liveIds.uuid(),
    cwd: settings.cwd,
    permissionMode: settings.permissionMode,
    canPrompt: settings.canPrompt,
    runner,
    emit: (message) => {
      io.stdout.write(encodeNdjsonLine(message))
    },
    log: (line) => {
      io.stderr.write(`${line}\n`)
    },
    clock: liveClock,
    uuid: liveIds.uuid,
    version: builtinAgentVersion(),
    pid: process.pid,
    commandTimeoutMs: settings.commandTimeoutMs,
  })
  const reader = new StreamJsonReader({ maxLineBytes: settings.maxLineBytes })

  return new Promise<number>((resolve) => {
    const killChildren = () => killAllGroups(runner.active())
    // An open stdin keeps the event loop, and so the process, alive after an abnormal stop.
    const releaseStdin = () => (io.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.()
    // An abnormal stop: nothing more will be read or written, so the commands' groups go too.
    const stop = (code: number) => {
      killChildren()
      cleanup()
      releaseStdin()
      resolve(code)
    }
    const onSignal = (signal: NodeJS.Signals) =>
      stop(128 + (signal === "SIGINT" ? 2 : signal === "SIGHUP" ? 1 : 15))
    const cleanup = () => {
      if (!ownProcess) return
      for (const s of SHUTDOWN_SIGNALS) process.off(s, onSignal)
      process.off("exit", killChildren)
    }
    if (ownProcess) {
      for (const s of SHUTDOWN_SIGNALS) process.on(s, onSignal)
      process.on("exit", killChildren)
    }

    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      for (const item of reader.end()) agent.receive(item)
      agent.endInput()
    }
    io.stdin.on("data", (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk
      for (const item of reader.push(bytes)) agent.receive(item)
    })
    io.stdin.on("end", end)
    io.stdin.on("error", (err: Error) => {
      io.stderr.write(`agenthost agent: stdin failed: ${err.message}\n`)
      end()
    })
    io.stdout.on("error", (err: Error) => {
      // The reader of our output is gone (EPIPE): nobody can see results, so stop everything now.
      io.stderr.write(`agenthost agent: stdout failed: ${err.message}\n`)
      stop(1)
    })
    agent.done.then(() => {
      cleanup()
      resolve(0)
    })
  })
}
