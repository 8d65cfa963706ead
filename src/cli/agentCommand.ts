import { parseArgs } from "node:util"
import {
  BASH_DEFAULTS,
  isSupportedPermissionMode,
  SUPPORTED_PERMISSION_MODES,
} from "../agent/agentDefaults.js"
import type { BuiltinAgentSettings } from "../agent/runBuiltinAgent.js"
import { DEFAULT_MAX_LINE_BYTES } from "../protocol/limits.js"
import { type CliCommand, CliError, type CliIo } from "./cliCommand.js"

const HELP = `Usage: agenthost agent [--input-format stream-json] [--output-format stream-json]
                       [--permission-prompt-tool stdio] [--permission-mode MODE] [--session-id ID]

The built-in, model-free agent: reads stream-json (NDJSON) messages on stdin, writes them on stdout,
diagnostics on stderr. Each line of a user message that starts with "$ " becomes a Bash tool use; the
command asks permission (a can_use_tool control request), runs with /bin/sh -c in the current directory,
and its output comes back as a tool result. Every turn ends with one result message. Exits 0 at stdin EOF
once the accepted turns are done. See docs/agent.md.

Options:
  --input-format stream-json      the only input format (default)
  --output-format stream-json     the only output format (default)
  --permission-prompt-tool stdio  ask permission over stdio; without it every tool use is denied,
                                  as with the real Claude Code CLI
  --permission-mode MODE          ${SUPPORTED_PERMISSION_MODES.join(" | ")} (default: default)
  --session-id ID                 the session id to report (default: a random uuid)
  --bash-timeout-ms N             kill a command after N ms (default ${BASH_DEFAULTS.timeoutMs};
                                  env AGENTHOST_BASH_TIMEOUT_MS)
  --bash-max-output-bytes N       keep at most N bytes of each of stdout/stderr (default ${BASH_DEFAULTS.maxOutputBytes};
                                  env AGENTHOST_BASH_MAX_OUTPUT_BYTES)
  --bash-kill-grace-ms N          SIGTERM-to-SIGKILL grace when stopping a command (default ${BASH_DEFAULTS.killGraceMs};
                                  env AGENTHOST_BASH_KILL_GRACE_MS)
  --max-line-bytes N              longest accepted input line (default ${DEFAULT_MAX_LINE_BYTES};
                                  env AGENTHOST_MAX_LINE_BYTES)
  -p, --print, --verbose          accepted for compatibility with the Claude Code CLI; no effect
  --home DIR                      accepted like every command; unused
`

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new CliError("AGH_CLI_USAGE", `${name} must be a positive integer, got ${JSON.stringify(raw)}`)
  }
  return n
}

/** Turns the `agent` command's arguments and environment into settings; usage errors throw CliError. */
export function parseAgentArgs(
  args: ReadonlyArray<string>,
  io: Pick<CliIo, "env" | "cwd">,
): BuiltinAgentSettings {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      "input-format": { type: "string" },
      "output-format": { type: "string" },
      "permission-prompt-tool": { type: "string" },
      "permission-mode": { type: "string" },
      "session-id": { type: "string" },
      "bash-timeout-ms": { type: "string" },
      "bash-max-output-bytes": { type: "string" },
      "bash-kill-grace-ms": { type: "string" },
      "max-line-bytes": { type: "string" },
      print: { type: "boolean", short: "p" },
      verbose: { type: "boolean" },
      home: { type: "string" },
    },
  })
  for (const flag of ["input-format", "output-format"] as const) {
    const value = values[flag]
    if (value !== undefined && value !== "stream-json") {
      throw new CliError(
        "AGH_CLI_USAGE",
        `--${flag} ${JSON.stringify(value)} is not supported; the builtin agent speaks stream-json only`,
      )
    }
  }
  const promptTool = values["permission-prompt-tool"]
  if (promptTool !== undefined && promptTool !== "stdio") {
    throw new CliError(
      "AGH_CLI_USAGE",
      `--permission-prompt-tool ${JSON.stringify(promptTool)} is not supported; the builtin agent only prompts over stdio`,
    )
  }
  const mode = values["permission-mode"] ?? "default"
  if (!isSupportedPermissionMode(mode)) {
    throw new CliError(
      "AGH_CLI_USAGE",
      `--permission-mode ${JSON.stringify(mode)} is not supported; use ${SUPPORTED_PERMISSION_MODES.join(", ")}`,
    )
  }
  const sessionId = values["session-id"]
  if (sessionId === "") throw new CliError("AGH_CLI_USAGE", "--session-id must not be empty")
  const { env } = io
  return {
    ...(sessionId === undefined ? {} : { sessionId }),
    cwd: io.cwd,
    permissionMode: mode,
    canPrompt: promptTool === "stdio",
    commandTimeoutMs: positiveInt(
      "--bash-timeout-ms",
      values["bash-timeout-ms"],
      positiveInt("AGENTHOST_BASH_TIMEOUT_MS", env.AGENTHOST_BASH_TIMEOUT_MS, BASH_DEFAULTS.timeoutMs),
    ),
    maxOutputBytes: positiveInt(
      "--bash-max-output-bytes",
      values["bash-max-output-bytes"],
      positiveInt(
        "AGENTHOST_BASH_MAX_OUTPUT_BYTES",
        env.AGENTHOST_BASH_MAX_OUTPUT_BYTES,
        BASH_DEFAULTS.maxOutputBytes,
      ),
    ),
    killGraceMs: positiveInt(
      "--bash-kill-grace-ms",
      values["bash-kill-grace-ms"],
      positiveInt(
        "AGENTHOST_BASH_KILL_GRACE_MS",
        env.AGENTHOST_BASH_KILL_GRACE_MS,
        BASH_DEFAULTS.killGraceMs,
      ),
    ),
    maxLineBytes: positiveInt(
      "--max-line-bytes",
      values["max-line-bytes"],
      positiveInt("AGENTHOST_MAX_LINE_BYTES", env.AGENTHOST_MAX_LINE_BYTES, DEFAULT_MAX_LINE_BYTES),
    ),
  }
}

/** `agenthost agent`: the built-in agent on this process's stdio (SPEC §6, §8). */
export const agentCommand: CliCommand = {
  name: "agent",
  summary: "the built-in model-free agent, speaking stream-json on stdin/stdout",
  help: HELP,
  run: async (args, io) => {
    const settings = parseAgentArgs(args, io)
    // Loaded on demand: `agenthost <other command>` should not pay for the agent and its dependencies.
    const { runBuiltinAgent } = await import("../agent/runBuiltinAgent.js")
    // Signal handling and killing orphaned command groups only make sense when we own the real process.
    const ownProcess = io.stdin === process.stdin
    return runBuiltinAgent(io, settings, ownProcess)
  },
}
