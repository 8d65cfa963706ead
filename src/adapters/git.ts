import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CodedError, codeTable } from "../errors/codedError.js"
/**
 * Whose git this is:
 * - `user`: the user's own repository on their machine. Their configuration, ignore files, filters and
 *   identity apply, exactly as if they ran git themselves; only variables that would redirect git to another
 *   repository or index (`GIT_DIR`, `GIT_INDEX_FILE`, ...) are dropped, and git never prompts.
 * - `host`: repositories the host makes from what clients send. No system, global or XDG configuration, no
 *   hooks, no fsmonitor, objects checked on every transfer, the `ext::` transport off, a minimal environment
 *   (no host secrets), and no prompts. Repository-local configuration is still read by git; the teleport
 *   code never runs git on a repository whose configuration a client or agent could have written unless the
 *   command reads nothing that executes (see docs/teleport.md).
 */
export type GitIsolation = "user" | "host"

export interface GitRunOptions {
  /** Working directory of the git process. */
  readonly cwd: string
  readonly isolation: GitIsolation
  /** Extra variables on top of the isolation's environment (`GIT_INDEX_FILE`, identities, ...). */
  readonly env?: Readonly<Record<string, string>>
  /** Exit codes that are answers rather than failures, e.g. 1 for `rev-parse --verify -q`. Default `[0]`. */
  readonly okExitCodes?: ReadonlyArray<number>
}

export interface GitResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

/** The stable code of each reason (docs/errors.md). */
export const GIT_ERROR_CODES = codeTable({
  Failed: "AGH_GIT_FAILED",
  Unavailable: "AGH_GIT_UNAVAILABLE",
  DiskFull: "AGH_DISK_FULL",
})

/** Why a git command failed: a key of {@link GIT_ERROR_CODES}. */
export type GitErrorReason = keyof typeof GIT_ERROR_CODES

/** A git command that could not run, or exited with a code the caller did not expect. */
export class GitError extends CodedError("GitError", GIT_ERROR_CODES)<{
  /** The arguments as the caller gave them (without the isolation's `-c` options). */
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly exitCode?: number
  readonly stderr?: string
}> {
  /**
   * The HTTP status of a route that fails with it: the host's problem (500), except a full disk (507).
   * With `code`, the router renders it as it is.
   */
  get status(): number {
    return this.reason === "DiskFull" ? 507 : 500
  }
}

/** The git port: run one git command with an argument array (never a shell). */
export interface GitShape {
  readonly run: (args: ReadonlyArray<string>, options: GitRunOptions) => Effect.Effect<GitResult, GitError>
}

export interface LiveGitOptions {
  /** The environment `user` commands inherit and `host` commands take `PATH`/`TMPDIR` from. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The git executable; default `git` on `PATH`. */
  readonly binary?: string
  /** Output beyond this is a failure rather than unbounded memory. Default 64 MiB. */
  readonly maxOutputBytes?: number
}

/** Variables that point git at another repository, index or object store than the one we name. */
const REDIRECTING_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
  "GIT_QUARANTINE_PATH",
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
] as const

/**
 * A directory that cannot exist, as `HOME` for host commands: git then finds no `~/.gitconfig`, no XDG
 * attributes or ignore files, and no ssh keys, and a missing file is silently skipped.
 */
const NO_HOME = "/nonexistent/agenthost-git-home"

/**
 * Tree entries git only warns about by default but never writes itself: a client has no business sending
 * them, so they are errors for both fetches and explicit `git fsck`.
 */
const STRICT_FSCK_IDS = ["hasDotgit", "hasDotdot", "hasDot", "fullPathname", "emptyName"] as const
const STRICT_FSCK: ReadonlyArray<string> = STRICT_FSCK_IDS.flatMap((id) => [
  "-c",
  `fetch.fsck.${id}=error`,
  "-c",
  `fsck.${id}=error`,
])

/** `-c` options in front of every host command. Command-line configuration beats any file's. */
export const HOST_GIT_CONFIG: ReadonlyArray<string> = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "transfer.fsckObjects=true",
  ...STRICT_FSCK,
  "-c",
  "protocol.ext.allow=never",
  "-c",
  "submodule.recurse=false",
  "-c",
  "gc.auto=0",
  "-c",
  "maintenance.auto=false",
  "-c",
  "commit.gpgSign=false",
]

/** The environment of a `user` command: theirs, minus redirections, never prompting, messages in English. */
export function userGitEnv(base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value
  for (const key of REDIRECTING_VARIABLES) delete env[key]
  for (const key of Object.keys(env))
    if (key.startsWith("GIT_CONFIG_KEY_") || key.startsWith("GIT_CONFIG_VALUE_")) delete env[key]
  env.GIT_TERMINAL_PROMPT = "0"
  // `status` and friends must not refresh the user's index behind their back.
  env.GIT_OPTIONAL_LOCKS = "0"
  env.LC_ALL = "C"
  return env
}

/** The environment of a `host` command: built from nothing, so no host secret reaches git or its helpers. */
export function hostGitEnv(base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: base.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: NO_HOME,
    XDG_CONFIG_HOME: NO_HOME,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_OPTIONAL_LOCKS: "0",
    LC_ALL: "C",
  }
  if (base.TMPDIR !== undefined) env.TMPDIR = base.TMPDIR
  return env
}

const DISK_FULL_PATTERN = /No space left on device|Disk quota exceeded|ENOSPC|EDQUOT/i

/** Classifies a non-zero exit: a full disk is reported as such so callers can say so (AGH_DISK_FULL). */
export function gitFailureReason(stderr: string): GitErrorReason {
  return DISK_FULL_PATTERN.test(stderr) ? "DiskFull" : "Failed"
}

/** The last few meaningful lines of git's stderr: where it says what went wrong. */
function stderrSummary(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
  return lines.slice(-3).join(" / ")
}

/**
 * Runs the real `git` with `child_process.spawn` and an argument array. Interrupting the effect kills the
 * process.
 */
export function makeLiveGit(options: LiveGitOptions): GitShape {
  const binary = options.binary ?? "git"
  const maxOutput = options.maxOutputBytes ?? 64 * 1024 * 1024
  const userEnv = userGitEnv(options.env)
  const hostEnv = hostGitEnv(options.env)
  return {
    run: (args, runOptions) =>
      Effect.callback<GitResult, GitError>((resume) => {
        const host = runOptions.isolation === "host"
        const fullArgs = host ? [...HOST_GIT_CONFIG, ...args] : [...args]
        const env = { ...(host ? hostEnv : userEnv), ...runOptions.env }
        const fail = (reason: GitErrorReason, message: string, extra: Partial<GitError> = {}) =>
          new GitError({ reason, message, args: [...args], cwd: runOptions.cwd, ...extra })
        const child = spawn(binary, fullArgs, { cwd: runOptions.cwd, env, stdio: ["ignore", "pipe", "pipe"] })
        const out: Buffer[] = []
        const err: Buffer[] = []
        let outBytes = 0
        let overflow = false
        child.stdout.on("data", (chunk: Buffer) => {
          outBytes += chunk.length
          if (outBytes > maxOutput) {
            overflow = true
            child.kill("SIGKILL")
            return
          }
          out.push(chunk)
        })
        child.stderr.on("data", (chunk: Buffer) => {
          // Only the tail matters for messages; keep memory bounded on chatty commands.
          err.push(chunk)
          if (err.length > 64) err.splice(0, err.length - 64)
        })
        child.on("error", (e: NodeJS.ErrnoException) => {
          // Node reports a missing cwd as `spawn git ENOENT` too: only blame git when the directory is there.
          const reason: GitErrorReason =
            e.code === "ENOENT" && existsSync(runOptions.cwd) ? "Unavailable" : "Failed"
          resume(
            Effect.fail(
              fail(
                reason,
                reason === "Unavailable"
                  ? `git is not installed or not on PATH (tried ${JSON.stringify(binary)})`
                  : `git ${args.join(" ")} could not start in ${runOptions.cwd}: ${e.message}`,
                { cause: e },
              ),
            ),
          )
        })
        child.on("close", (code, signal) => {
          const stdout = Buffer.concat(out).toString("utf8")
          const stderr = Buffer.concat(err).toString("utf8")
          const exitCode = code ?? -1
          if (overflow) {
            resume(
              Effect.fail(
                fail("Failed", `git ${args.join(" ")} wrote more than ${maxOutput} bytes of output`, {
                  stderr,
                }),
              ),
            )
          } else if ((runOptions.okExitCodes ?? [0]).includes(exitCode)) {
            resume(Effect.succeed({ exitCode, stdout, stderr }))
          } else {
            const how = signal === null ? `exit ${exitCode}` : `signal ${signal}`
            resume(
              Effect.fail(
                fail(
                  gitFailureReason(stderr),
                  `git ${args.join(" ")} failed (${how}) in ${runOptions.cwd}: ${stderrSummary(stderr) || "no message"}`,
                  { exitCode, stderr },
                ),
              ),
            )
          }
        })
        return Effect.sync(() => {
          child.kill("SIGTERM")
        })
      }),
  }
}

/**
 * The git port (`agenthost/adapters/Git`). There is no in-memory `layerTest`: what the teleport code relies
 * on is git's own behaviour (ignore rules, index and object formats, bundle verification, fsck), which a
 * fake would only imitate. Tests run the live layer on throw-away repositories in temp dirs, with
 * {@link Git.layerWith} pinning `HOME` and identities so the machine's configuration cannot leak in.
 */
export class Git extends Context.Service<Git, GitShape>()("agenthost/adapters/Git") {
  /** Real git, `user` commands inheriting this process's environment. */
  static readonly layer: Layer.Layer<Git> = Layer.sync(Git, () => makeLiveGit({ env: process.env }))
  /** Real git with an explicit environment (tests, embedders). */
  static layerWith(options: LiveGitOptions): Layer.Layer<Git> {
    return Layer.succeed(Git, makeLiveGit(options))
  }
}
