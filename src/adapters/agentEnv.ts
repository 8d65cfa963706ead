/**
 * The environment an agent process gets: built from an allow-list, never copied wholesale from the host, so
 * the host's token, cloud credentials and anything else in its environment stay out of agents and the
 * commands they run (SPEC §9).
 */

/** Variables every agent may see: locale, terminal, paths. Nothing that can hold a secret. */
export const AGENT_ENV_ALLOWLIST: ReadonlyArray<string> = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TERM",
  "TZ",
  "TMPDIR",
  "COLORTERM",
  "NO_COLOR",
]

const LOCALE_PREFIX = "LC_"

export interface AgentEnvOptions {
  /** The host's environment, the only source of inherited values. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>
  /** Names the operator explicitly lets through (config `agents.<name>.env_passthrough`), e.g. an API key. */
  readonly passthrough?: ReadonlyArray<string>
  /** Values set by config or by the host itself (session id, ...). They win over inherited ones. */
  readonly set?: Readonly<Record<string, string>>
}

/** Names the host never hands to an agent, even when configured to: the host's own secrets. */
const NEVER_PASS = /^(AGENTHOST_TOKEN|AGENTHOST_.*TOKEN.*)$/

export function buildAgentEnv(options: AgentEnvOptions): Record<string, string> {
  const env: Record<string, string> = {}
  const allowed = new Set([...AGENT_ENV_ALLOWLIST, ...(options.passthrough ?? [])])
  for (const [name, value] of Object.entries(options.hostEnv)) {
    if (value === undefined || NEVER_PASS.test(name)) continue
    if (allowed.has(name) || name.startsWith(LOCALE_PREFIX)) env[name] = value
  }
  for (const [name, value] of Object.entries(options.set ?? {})) {
    if (!NEVER_PASS.test(name)) env[name] = value
  }
  return env
}
