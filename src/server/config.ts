import { readFileSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { HostSetupError } from "./hostSetupError.js"
import { describeIssues } from "./schemaIssues.js"

/** How the host starts one agent process (SPEC §6). */
export interface AgentConfig {
  /**
   * The program. `"agenthost"` means this very installation (the runtime runs it with the current Node and
   * `bin/agenthost.js`), so the built-in agent works without anything on `PATH`.
   */
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Extra environment for the agent, on top of the scrubbed one the host gives every agent. */
  readonly env?: Readonly<Record<string, string>>
}

/** The host's settings, as `<home>/config.json` holds them after defaults are applied (docs/config.md). */
export interface ServerConfig {
  readonly host: string
  readonly port: number
  /** Whether teleported sessions (created with a `bundle_id`) are allowed (SPEC §9). */
  readonly allow_remote_sessions: boolean
  /** Real paths a session's cwd must lie in; the first is where fresh session work dirs are made. */
  readonly work_roots: ReadonlyArray<string>
  readonly allow_skip_permissions: boolean
  /** Sessions not yet in a final state, at most. */
  readonly max_sessions: number
  /** How long a permission request waits for an answer before it is denied; 0 waits forever. */
  readonly permission_timeout_ms: number
  /** Largest accepted JSON request body. */
  readonly max_body_bytes: number
  /** Largest accepted WebSocket frame from a client. */
  readonly max_frame_bytes: number
  /** Ping and `keep_alive` period; a peer that misses one pong is dropped. */
  readonly ws_ping_interval_ms: number
  /** A client whose unsent backlog exceeds this is closed with 4008 (it reconnects with `?after=`). */
  readonly ws_max_buffered_bytes: number
  /** More bad frames than this within `ws_bad_frame_window_ms` closes the client with 1008. */
  readonly ws_max_bad_frames: number
  readonly ws_bad_frame_window_ms: number
  /** Agent used when a session does not name one. */
  readonly default_agent: string
  readonly agents: Readonly<Record<string, AgentConfig>>
}

const KiB = 1024
const MiB = 1024 * KiB

const intAtLeast = (min: number) => Schema.Int.check(Schema.isGreaterThanOrEqualTo(min))

const AgentConfigSchema = Schema.Struct({
  command: Schema.NonEmptyString,
  args: Schema.optionalKey(Schema.Array(Schema.String)),
  env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
})

const AbsolutePath = Schema.String.check(
  Schema.makeFilter((s: string) => isAbsolute(s) || `Expected an absolute path, got ${JSON.stringify(s)}`),
)

/** `config.json` as written by a person: every field optional, unknown fields rejected (typos). */
export const ServerConfigFile = Schema.Struct({
  host: Schema.optionalKey(Schema.NonEmptyString),
  port: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))),
  allow_remote_sessions: Schema.optionalKey(Schema.Boolean),
  work_roots: Schema.optionalKey(Schema.Array(AbsolutePath).check(Schema.isMinLength(1))),
  allow_skip_permissions: Schema.optionalKey(Schema.Boolean),
  max_sessions: Schema.optionalKey(intAtLeast(1)),
  permission_timeout_ms: Schema.optionalKey(intAtLeast(0)),
  max_body_bytes: Schema.optionalKey(intAtLeast(1 * KiB)),
  max_frame_bytes: Schema.optionalKey(intAtLeast(1 * KiB)),
  ws_ping_interval_ms: Schema.optionalKey(intAtLeast(100)),
  ws_max_buffered_bytes: Schema.optionalKey(intAtLeast(64 * KiB)),
  ws_max_bad_frames: Schema.optionalKey(intAtLeast(1)),
  ws_bad_frame_window_ms: Schema.optionalKey(intAtLeast(1)),
  default_agent: Schema.optionalKey(Schema.NonEmptyString),
  agents: Schema.optionalKey(Schema.Record(Schema.String, AgentConfigSchema)),
})

/** The stream-json flags every agent needs (SPEC §6). */
const STREAM_JSON_ARGS = ["--input-format", "stream-json", "--output-format", "stream-json"] as const

/** Built-in agents, present unless the config file redefines them. */
export const DEFAULT_AGENTS: Readonly<Record<string, AgentConfig>> = {
  builtin: {
    command: "agenthost",
    args: ["agent", ...STREAM_JSON_ARGS, "--permission-prompt-tool", "stdio"],
  },
  claude: {
    command: "claude",
    args: ["-p", ...STREAM_JSON_ARGS, "--verbose", "--permission-prompt-tool", "stdio"],
  },
}

/** The settings of a fresh machine, for the given `<home>`. */
export function defaultServerConfig(home: string): ServerConfig {
  return {
    host: "127.0.0.1",
    port: 7420,
    allow_remote_sessions: false,
    work_roots: [join(home, "work")],
    allow_skip_permissions: false,
    max_sessions: 32,
    permission_timeout_ms: 0,
    max_body_bytes: 1 * MiB,
    max_frame_bytes: 1 * MiB,
    ws_ping_interval_ms: 30_000,
    ws_max_buffered_bytes: 8 * MiB,
    ws_max_bad_frames: 20,
    ws_bad_frame_window_ms: 10_000,
    default_agent: "builtin",
    agents: DEFAULT_AGENTS,
  }
}

const decodeConfigFile = Schema.decodeUnknownResult(ServerConfigFile, {
  onExcessProperty: "error",
  errors: "all",
  reportInput: true,
})

/**
 * Validates a parsed config object and fills in defaults. Agents named in the file are added to (or
 * replace) the built-in ones. Fails with `AGH_CONFIG_INVALID` naming every offending field.
 */
export function parseServerConfig(value: unknown, home: string, source = "config"): ServerConfig {
  const decoded = decodeConfigFile(value)
  if (Result.isFailure(decoded)) {
    throw new HostSetupError({
      reason: "ConfigInvalid",
      message: `${source}: ${describeIssues(decoded.failure.issue, "config")}`,
      path: source,
    })
  }
  const file = decoded.success
  const defaults = defaultServerConfig(home)
  const agents: Record<string, AgentConfig> = { ...DEFAULT_AGENTS }
  for (const [name, agent] of Object.entries(file.agents ?? {})) {
    agents[name] = {
      command: agent.command,
      args: agent.args ?? [],
      ...(agent.env === undefined ? {} : { env: agent.env }),
    }
  }
  const { agents: _ignored, ...scalars } = file
  const config: ServerConfig = { ...defaults, ...scalars, agents }
  if (agents[config.default_agent] === undefined) {
    throw new HostSetupError({
      reason: "ConfigInvalid",
      message: `${source}: field "default_agent": agent ${JSON.stringify(config.default_agent)} is not defined (agents: ${Object.keys(agents).join(", ")})`,
      path: source,
    })
  }
  return config
}

/** Reads and validates `<home>/config.json`. */
export function loadServerConfig(path: string, home: string): ServerConfig {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (cause) {
    throw new HostSetupError({
      reason: "ConfigInvalid",
      message: `cannot read ${path}: ${(cause as Error).message}`,
      path,
      cause,
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new HostSetupError({
      reason: "ConfigInvalid",
      message: `${path} is not valid JSON: ${(cause as Error).message}`,
      path,
      cause,
    })
  }
  return parseServerConfig(value, home, path)
}

/** The file a fresh machine gets: every setting spelled out, so people can see what they may change. */
export function renderDefaultConfigFile(home: string): string {
  return `${JSON.stringify(defaultServerConfig(home), null, 2)}\n`
}
