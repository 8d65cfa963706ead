import { describe, expect, it } from "vitest"
import { DEFAULT_AGENTS, defaultServerConfig, parseServerConfig } from "../../src/server/config.js"
import { HostSetupError } from "../../src/server/hostSetupError.js"
import { formatPath } from "../../src/server/schemaIssues.js"

const HOME = "/srv/agh"

const failure = (value: unknown): HostSetupError => {
  try {
    parseServerConfig(value, HOME, "/srv/agh/config.json")
  } catch (error) {
    if (error instanceof HostSetupError) return error
    throw error
  }
  throw new Error("expected the config to be refused")
}

describe("parseServerConfig", () => {
  it("fills every default on an empty file", () => {
    expect(parseServerConfig({}, HOME)).toEqual(defaultServerConfig(HOME))
    expect(defaultServerConfig(HOME)).toMatchObject({
      host: "127.0.0.1",
      port: 7420,
      allow_remote_sessions: false,
      work_roots: ["/srv/agh/work"],
      allow_skip_permissions: false,
      max_sessions: 32,
      permission_timeout_ms: 0,
      max_frame_bytes: 1024 * 1024,
      ws_ping_interval_ms: 30_000,
      ws_max_buffered_bytes: 8 * 1024 * 1024,
      default_agent: "builtin",
    })
  })

  it("round-trips the defaults it writes", () => {
    const written = JSON.parse(JSON.stringify(defaultServerConfig(HOME))) as unknown
    expect(parseServerConfig(written, HOME)).toEqual(defaultServerConfig(HOME))
  })

  it("keeps the built-in agents and adds configured ones", () => {
    const config = parseServerConfig(
      { agents: { mine: { command: "/opt/agent", env: { A: "1" } } }, default_agent: "mine" },
      HOME,
    )
    expect(config.agents).toEqual({
      ...DEFAULT_AGENTS,
      mine: { command: "/opt/agent", args: [], env: { A: "1" } },
    })
    expect(config.default_agent).toBe("mine")
  })

  it("refuses bad values with AGH_CONFIG_INVALID naming every field", () => {
    const error = failure({ port: 70000, max_sessions: 0, work_roots: ["relative"], hots: "x" })
    expect(error.code).toBe("AGH_CONFIG_INVALID")
    expect(error.message).toBe(
      "/srv/agh/config.json: " +
        [
          'field "hots": unknown field',
          'field "port": Expected a value between 0 and 65535, got 70000',
          'field "work_roots[0]": Expected an absolute path, got "relative"',
          'field "max_sessions": Expected a value greater than or equal to 1, got 0',
        ].join("; "),
    )
  })

  it("names nested agent fields and an undefined default agent", () => {
    expect(failure({ agents: { x: { command: "" } } }).message).toBe(
      '/srv/agh/config.json: field "agents.x.command": Expected a value with a length of at least 1, got ""',
    )
    expect(failure({ default_agent: "nope" }).message).toBe(
      '/srv/agh/config.json: field "default_agent": agent "nope" is not defined (agents: builtin, claude)',
    )
    expect(failure([]).message).toBe("/srv/agh/config.json: config: Expected object, got []")
  })
})

describe("formatPath", () => {
  it("renders keys the way a person types them", () => {
    expect(formatPath([])).toBe("")
    expect(formatPath(["agents", "claude", "args", 0])).toBe("agents.claude.args[0]")
    expect(formatPath(["env", "MY-VAR"])).toBe('env["MY-VAR"]')
  })
})
