import { spawn } from "node:child_process"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import { encodeNdjsonLine } from "../protocol/ndjson.js"
import { type StreamJsonItem, StreamJsonReader } from "../protocol/streamJsonReader.js"
import type { AgentDefinition } from "./agentDefinition.js"
import { buildAgentEnv } from "./agentEnv.js"
import { type ClockShape, liveClock } from "./clock.js"

/** How an agent process ended. `error` is set when it could not be started at all (ENOENT, EACCES). */
export interface AgentExit {
  readonly code: number | null
  readonly signal: string | null
  readonly error?: string
}

export interface AgentSpawnOptions {
  readonly definition: AgentDefinition
  readonly cwd: string
  readonly skipPermissions: boolean
  /** Source of inherited variables; filtered through {@link buildAgentEnv}. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>
  /** Variables the host sets for this agent (on top of the definition's). */
  readonly env?: Readonly<Record<string, string>>
  readonly maxLineBytes?: number
}

/** What the process reports, synchronously, in the order it happened. */
export interface AgentCallbacks {
  /** A decoded stdout line, or why the line was rejected. */
  readonly onItem: (item: StreamJsonItem) => void
  /** Diagnostics the agent wrote to stderr (never parsed). */
  readonly onStderr: (text: string) => void
  /** Exactly once, after the last `onItem`. */
  readonly onExit: (exit: AgentExit) => void
}

export interface AgentProcessHandle {
  readonly pid: number | undefined
  /** Writes one message as an NDJSON line; false once stdin is closed. */
  readonly write: (message: object) => boolean
  /** End of input: an agent finishes its turn and exits. */
  readonly closeStdin: () => void
  /** SIGTERM to the agent's process group, SIGKILL after `graceMs`; resolves on exit. */
  readonly kill: (graceMs?: number) => Promise<AgentExit>
  readonly exited: Promise<AgentExit>
}

export interface AgentLauncherShape {
  readonly spawn: (options: AgentSpawnOptions, callbacks: AgentCallbacks) => AgentProcessHandle
}

const DEFAULT_KILL_GRACE_MS = 3_000

/** Spawns real child processes: own process group, scrubbed environment, stdio pipes. */
export function makeLiveAgentLauncher(clock: ClockShape = liveClock): AgentLauncherShape {
  return {
    spawn(options, callbacks) {
      const { definition } = options
      const args = [
        ...definition.args,
        ...(options.skipPermissions ? (definition.skipPermissionsArgs ?? []) : []),
      ]
      const env = buildAgentEnv({
        hostEnv: options.hostEnv,
        passthrough: definition.envPassthrough ?? [],
        set: { ...definition.env, ...options.env },
      })
      const reader = new StreamJsonReader(
        options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes },
      )
      let exit: AgentExit | undefined
      let resolveExit: (e: AgentExit) => void = () => {}
      const exited = new Promise<AgentExit>((resolve) => {
        resolveExit = resolve
      })
      const finish = (e: AgentExit) => {
        if (exit) return
        exit = e
        for (const item of reader.end()) callbacks.onItem(item)
        callbacks.onExit(e)
        resolveExit(e)
      }

      const child = spawn(definition.command, args, {
        cwd: options.cwd,
        env,
        stdio: ["pipe", "pipe", "pipe"],
        // Its own process group, so kill() reaches the commands it started too.
        detached: true,
      })
      let stdinOpen = true
      // EPIPE after the agent died is reported through its exit, not as an unhandled error.
      child.stdin.on("error", () => {
        stdinOpen = false
      })
      child.stdout.on("data", (chunk: Buffer) => {
        for (const item of reader.push(chunk)) callbacks.onItem(item)
      })
      child.stderr.setEncoding("utf8")
      child.stderr.on("data", (text: string) => callbacks.onStderr(text))
      child.on("error", (err: NodeJS.ErrnoException) => {
        stdinOpen = false
        finish({ code: null, signal: null, error: `${err.code ?? "spawn failed"}: ${err.message}` })
      })
      // 'close' (not 'exit') so every stdout byte has been read before the exit is reported.
      child.on("close", (code, signal) => {
        stdinOpen = false
        finish({ code, signal })
      })

      const signalGroup = (signal: NodeJS.Signals) => {
        if (child.pid === undefined || exit) return
        try {
          process.kill(-child.pid, signal)
        } catch {
          try {
            child.kill(signal)
          } catch {
            // Already gone.
          }
        }
      }

      return {
        pid: child.pid,
        write(message) {
          if (!stdinOpen || child.stdin.destroyed) return false
          child.stdin.write(encodeNdjsonLine(message))
          return true
        },
        closeStdin() {
          if (!stdinOpen) return
          stdinOpen = false
          child.stdin.end()
        },
        kill(graceMs = DEFAULT_KILL_GRACE_MS) {
          if (exit) return exited
          signalGroup("SIGTERM")
          const timer = clock.setTimeout(() => signalGroup("SIGKILL"), graceMs)
          return exited.then((e) => {
            clock.clearTimeout(timer)
            return e
          })
        },
        exited,
      }
    },
  }
}

/**
 * An agent written as a function, for tests of what drives agents: it gets every message the host writes
 * and an `emit` to answer with (lines are encoded and decoded exactly as a real process's would be).
 */
export interface ScriptedAgent {
  readonly onMessage: (message: Record<string, unknown>, agent: ScriptedAgentControls) => void
  /** Called when the host closes stdin; default: exit 0. */
  readonly onStdinClosed?: (agent: ScriptedAgentControls) => void
}

export interface ScriptedAgentControls {
  readonly emit: (message: object) => void
  /** Emits raw bytes on stdout (for garbage-input tests). */
  readonly emitRaw: (bytes: string | Uint8Array) => void
  readonly exit: (code: number | null, signal?: string | null) => void
}

/** A launcher that runs {@link ScriptedAgent}s in-process, synchronously. */
export function makeScriptedAgentLauncher(
  script: (options: AgentSpawnOptions) => ScriptedAgent,
): AgentLauncherShape {
  let nextPid = 90_000
  return {
    spawn(options, callbacks) {
      const agent = script(options)
      const reader = new StreamJsonReader()
      let exit: AgentExit | undefined
      let resolveExit: (e: AgentExit) => void = () => {}
      const exited = new Promise<AgentExit>((resolve) => {
        resolveExit = resolve
      })
      let stdinOpen = true
      const controls: ScriptedAgentControls = {
        emit: (message) => controls.emitRaw(encodeNdjsonLine(message)),
        emitRaw: (bytes) => {
          if (exit) return
          const chunk = typeof bytes === "string" ? Buffer.from(bytes) : bytes
          for (const item of reader.push(chunk)) callbacks.onItem(item)
        },
        exit: (code, signal = null) => {
          if (exit) return
          for (const item of reader.end()) callbacks.onItem(item)
          exit = { code, signal }
          stdinOpen = false
          callbacks.onExit(exit)
          resolveExit(exit)
        },
      }
      return {
        pid: nextPid++,
        write(message) {
          if (!stdinOpen) return false
          // Round-trip through JSON like a pipe would, so the script never shares objects with the host.
          agent.onMessage(JSON.parse(JSON.stringify(message)) as Record<string, unknown>, controls)
          return true
        },
        closeStdin() {
          if (!stdinOpen) return
          stdinOpen = false
          if (agent.onStdinClosed) agent.onStdinClosed(controls)
          else controls.exit(0)
        },
        kill() {
          controls.exit(null, "SIGTERM")
          return exited
        },
        exited,
      }
    },
  }
}

/** The agent-process port: `layer` spawns real processes; `layerTest(script)` runs scripted agents in-process. */
export class AgentLauncher extends Context.Service<AgentLauncher, AgentLauncherShape>()(
  "agenthost/adapters/AgentLauncher",
) {
  static readonly layer: Layer.Layer<AgentLauncher> = Layer.succeed(AgentLauncher, makeLiveAgentLauncher())
  static layerTest(script: (options: AgentSpawnOptions) => ScriptedAgent): Layer.Layer<AgentLauncher> {
    return Layer.succeed(AgentLauncher, makeScriptedAgentLauncher(script))
  }
}
