import type * as Effect from "effect/Effect"
import { Git, type GitError, type GitIsolation, type GitResult } from "../adapters/git.js"

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
