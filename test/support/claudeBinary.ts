import { accessSync, constants } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"

/** The Claude Code CLI version `.ci/install-claude.sh` pins; tests that drive the real CLI expect it. */
export const CLAUDE_CODE_VERSION = "2.1.332"

type Env = Readonly<Record<string, string | undefined>>

/**
 * Where `.ci/install-claude.sh` puts the binary by default (it prints the same path on its last line):
 * `${AGENTHOST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agenthost-ci}/claude-code-<version>/claude`.
 */
export function cachedClaudeBinaryPath(env: Env = process.env): string {
  const cache =
    nonEmpty(env.AGENTHOST_CI_CACHE) ??
    join(nonEmpty(env.XDG_CACHE_HOME) ?? join(nonEmpty(env.HOME) ?? homedir(), ".cache"), "agenthost-ci")
  return join(cache, `claude-code-${CLAUDE_CODE_VERSION}`, "claude")
}

/** The paths {@link findClaudeBinary} tries, in order (for a skip or failure message). */
export function claudeBinaryCandidates(env: Env = process.env): string[] {
  const explicit = nonEmpty(env.AGENTHOST_CLAUDE_BIN)
  return explicit === undefined ? [cachedClaudeBinaryPath(env)] : [explicit]
}

/**
 * The Claude Code CLI to drive in integration tests: `$AGENTHOST_CLAUDE_BIN` when set, else the cache
 * path of `.ci/install-claude.sh`; `undefined` when that file is not an executable. An explicit
 * `AGENTHOST_CLAUDE_BIN` that is missing is not replaced by the cache path: it is a mistake to report.
 */
export function findClaudeBinary(env: Env = process.env): string | undefined {
  return claudeBinaryCandidates(env).find((path) => {
    try {
      accessSync(path, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** Inputs of {@link claudeOfflineEnv}. */
export interface ClaudeOfflineEnvOptions {
  /** The fake Messages API, e.g. `FakeAnthropic.url`. */
  readonly baseUrl: string
  /** A scratch directory used as `HOME`; config and transcripts go to `<home>/.claude`. */
  readonly home: string
  /** Defaults to the current `PATH` (the Bash tool needs a shell and the usual tools). */
  readonly path?: string
}

/**
 * The complete environment for an offline, hermetic run of the CLI against a fake API — built from
 * scratch, not from the host's environment, so no real key, config or proxy leaks in. With these the CLI
 * makes no connection except to `baseUrl` (strace-verified, see docs/claude-code.md).
 */
export function claudeOfflineEnv(options: ClaudeOfflineEnvOptions): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: options.baseUrl,
    ANTHROPIC_API_KEY: "fake",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_AUTOUPDATER: "1",
    BUN_ENABLE_CRASH_REPORTING: "0",
    HOME: options.home,
    CLAUDE_CONFIG_DIR: join(options.home, ".claude"),
    PATH: options.path ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value
}
