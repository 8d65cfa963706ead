import { fileURLToPath } from "node:url"

/**
 * How to start an agent: a command speaking stream-json on stdio. Named in the host's config (`agents`);
 * `builtin` and `claude` always exist unless the config overrides them.
 */
export interface AgentDefinition {
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Extra arguments when the session skips permission prompts. */
  readonly skipPermissionsArgs?: ReadonlyArray<string>
  /** Values set in the agent's environment. */
  readonly env?: Readonly<Record<string, string>>
  /** Host environment variables the agent may inherit beyond the safe allow-list (an API key, say). */
  readonly envPassthrough?: ReadonlyArray<string>
}

/** The launcher of this package, resolved from the built module so it works from any working directory. */
export const AGENTHOST_BIN = fileURLToPath(new URL("../../bin/agenthost.js", import.meta.url))

/** How the config names an agent (`agents.<name>` in `<home>/config.json`). */
export interface AgentCommandConfig {
  readonly command: string
  readonly args?: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
  readonly env_passthrough?: ReadonlyArray<string>
}

/** What skipping permission prompts adds to an agent's command line (the real CLI and ours agree). */
const SKIP_PERMISSIONS_ARGS = ["--permission-mode", "bypassPermissions"]

/**
 * Turns a configured agent into a command to spawn. `command: "agenthost"` means this very installation,
 * run with the host's own Node, so the built-in agent needs nothing on `PATH`.
 */
export function agentDefinitionFromConfig(config: AgentCommandConfig): AgentDefinition {
  const args = config.args ?? []
  const base =
    config.command === "agenthost"
      ? { command: process.execPath, args: [AGENTHOST_BIN, ...args] }
      : { command: config.command, args }
  return {
    ...base,
    skipPermissionsArgs: SKIP_PERMISSIONS_ARGS,
    ...(config.env === undefined ? {} : { env: config.env }),
    ...(config.env_passthrough === undefined ? {} : { envPassthrough: config.env_passthrough }),
  }
}

const STREAM_JSON_ARGS = ["--input-format", "stream-json", "--output-format", "stream-json"]

/** `agenthost agent`: the model-free built-in agent (SPEC §6). */
export const BUILTIN_AGENT: AgentDefinition = agentDefinitionFromConfig({
  command: "agenthost",
  args: ["agent", ...STREAM_JSON_ARGS, "--permission-prompt-tool", "stdio"],
})
