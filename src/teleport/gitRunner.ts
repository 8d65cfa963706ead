import * as Effect from "effect/Effect"
import { Git, type GitError, type GitIsolation, type GitResult } from "../adapters/git.js"
import type { TeleportError } from "./teleportError.js"

/** Runs git commands against one repository: fixed cwd, isolation, leading arguments and environment. */
export type GitRunner = (
  args: ReadonlyArray<string>,
  okExitCodes?: ReadonlyArray<number>,
) => Effect.Effect<GitResult, GitError, Git>

export interface GitRunnerOptions {
  readonly cwd: string
  readonly isolation: GitIsolation
  /** Arguments before every command, e.g. `--git-dir=… --work-tree=…`. */
  readonly prefix?: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
}

/** Binds a {@link GitRunner} to a repository. */
export function gitRunner(options: GitRunnerOptions): GitRunner {
  const prefix = options.prefix ?? []
  return (args, okExitCodes) =>
    Git.use((git) =>
      git.run([...prefix, ...args], {
        cwd: options.cwd,
        isolation: options.isolation,
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(okExitCodes === undefined ? {} : { okExitCodes }),
      }),
    )
}

/** The first line of a command's output, trimmed: what `rev-parse` and friends answer with. */
export function firstLine(result: GitResult): string {
  return (result.stdout.split("\n")[0] ?? "").trim()
}

/** The commit `rev` names in the repository `run` addresses, or `null` when it names none (unborn HEAD, no ref). */
export function resolveCommit(run: GitRunner, rev: string): Effect.Effect<string | null, GitError, Git> {
  return run(["rev-parse", "--verify", "-q", `${rev}^{commit}`], [0, 1]).pipe(
    Effect.map((result) => (result.exitCode === 0 ? firstLine(result) : null)),
  )
}

/**
 * For `Effect.catchTag("GitError", ...)`: git that ran and refused (`Failed`: a bad bundle, an unreachable
 * remote) becomes the teleport error `toError` makes of it; git that could not run at all stays a GitError.
 */
export function gitFailedAs(
  toError: (error: GitError) => TeleportError,
): (error: GitError) => Effect.Effect<never, GitError | TeleportError> {
  return (error) => Effect.fail(error.reason === "Failed" ? toError(error) : error)
}
