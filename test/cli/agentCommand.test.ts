import { describe, expect, it } from "vitest"
import { parseAgentArgs } from "../../src/cli/agentCommand.js"
import { CliError } from "../../src/cli/cliCommand.js"

const io = (env: Record<string, string> = {}) => ({ env, cwd: "/w" })

const usage = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  try {
    parseAgentArgs(args, io(env))
  } catch (err) {
    if (err instanceof CliError) return `${err.code}: ${err.message}`
    throw err
  }
  throw new Error("expected a usage error")
}

describe("parseAgentArgs", () => {
  it("accepts the Claude Code CLI's flags and applies defaults", () => {
    expect(
      parseAgentArgs(
        [
          "-p",
          "--input-format",
          "stream-json",
          "--output-format",
          "stream-json",
          "--verbose",
          "--permission-prompt-tool",
          "stdio",
          "--session-id",
          "abc",
        ],
        io(),
      ),
    ).toEqual({
      sessionId: "abc",
      cwd: "/w",
      permissionMode: "default",
      canPrompt: true,
      commandTimeoutMs: 120_000,
      maxOutputBytes: 1_048_576,
      killGraceMs: 2_000,
      maxLineBytes: 8_388_608,
    })
  })

  it("leaves the session id to the agent and prompting off when not asked for", () => {
    const settings = parseAgentArgs(["--permission-mode", "bypassPermissions"], io())
    expect(settings.sessionId).toBeUndefined()
    expect(settings.canPrompt).toBe(false)
    expect(settings.permissionMode).toBe("bypassPermissions")
  })

  it("takes knobs from the environment, flags winning", () => {
    const env = {
      AGENTHOST_BASH_TIMEOUT_MS: "500",
      AGENTHOST_BASH_MAX_OUTPUT_BYTES: "64",
      AGENTHOST_BASH_KILL_GRACE_MS: "10",
      AGENTHOST_MAX_LINE_BYTES: "1024",
    }
    expect(parseAgentArgs(["--bash-timeout-ms", "700"], io(env))).toMatchObject({
      commandTimeoutMs: 700,
      maxOutputBytes: 64,
      killGraceMs: 10,
      maxLineBytes: 1024,
    })
  })

  it("rejects what it cannot honour, naming the value", () => {
    expect(usage(["--input-format", "text"])).toBe(
      'AGH_CLI_USAGE: --input-format "text" is not supported; the builtin agent speaks stream-json only',
    )
    expect(usage(["--permission-prompt-tool", "mcp__x__y"])).toBe(
      'AGH_CLI_USAGE: --permission-prompt-tool "mcp__x__y" is not supported; the builtin agent only prompts over stdio',
    )
    expect(usage(["--permission-mode", "plan"])).toBe(
      'AGH_CLI_USAGE: --permission-mode "plan" is not supported; use default, acceptEdits, dontAsk, bypassPermissions',
    )
    expect(usage(["--session-id", ""])).toBe("AGH_CLI_USAGE: --session-id must not be empty")
    expect(usage(["--bash-timeout-ms", "soon"])).toBe(
      'AGH_CLI_USAGE: --bash-timeout-ms must be a positive integer, got "soon"',
    )
    expect(usage([], { AGENTHOST_BASH_MAX_OUTPUT_BYTES: "-1" })).toBe(
      'AGH_CLI_USAGE: AGENTHOST_BASH_MAX_OUTPUT_BYTES must be a positive integer, got "-1"',
    )
  })
})
