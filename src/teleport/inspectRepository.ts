import { stat } from "node:fs/promises"
import { resolve } from "node:path"
import * as Effect from "effect/Effect"
import type { Git, GitError } from "../adapters/git.js"
import { firstLine, type GitRunner, gitRunner, resolveCommit } from "./gitRunner.js"
import { TeleportError } from "./teleportError.js"

/** A remote of the user's repository, as `git remote -v` lists it (fetch URL). */
export interface GitRemote {
  readonly name: string
  readonly url: string
}

/** What `agenthost remote` needs to know about the current repository. */
export interface RepositoryInfo {
  /** The work tree's top directory. */
  readonly root: string
  /** HEAD's commit, or `null` when HEAD is unborn (no commits yet). */
  readonly head: string | null
  /** The branch HEAD is on (also for an unborn HEAD), or `null` when detached. */
  readonly branch: string | null
  readonly remotes: ReadonlyArray<GitRemote>
  /** Tracked files differ from HEAD: staged or unstaged changes, deletions, conflicts. */
  readonly dirty: boolean
  /** There are untracked files that are not ignored. */
  readonly hasUntracked: boolean
  /** `sha1` or `sha256`. */
  readonly objectFormat: string
}

/** Where a repository keeps things, for the snapshot code. */
export interface RepositoryLocation {
  readonly root: string
  readonly objectsDir: string
  readonly indexFile: string
  readonly objectFormat: string
  readonly head: string | null
  readonly branch: string | null
}

/** Runs `user`-isolated git in `dir`: the user's own configuration applies. */
export function userRunner(dir: string, env?: Readonly<Record<string, string>>): GitRunner {
  return gitRunner({ cwd: dir, isolation: "user", ...(env === undefined ? {} : { env }) })
}

/** Finds the repository containing `dir`, or fails with `AGH_GIT_NOT_A_REPO`. */
export const locateRepository = Effect.fnUntraced(function* (
  dir: string,
): Effect.fn.Return<RepositoryLocation, GitError | TeleportError, Git> {
  const abs = resolve(dir)
  const isDir = yield* Effect.tryPromise(() => stat(abs)).pipe(
    Effect.map((s) => s.isDirectory()),
    Effect.orElseSucceed(() => false),
  )
  if (!isDir) {
    return yield* new TeleportError({ reason: "NotARepo", message: `${abs} is not a directory`, path: abs })
  }
  const run = userRunner(abs)
  const located = yield* run(
    [
      "rev-parse",
      "--path-format=absolute",
      "--show-toplevel",
      "--git-path",
      "objects",
      "--git-path",
      "index",
      "--show-object-format",
    ],
    [0, 128],
  )
  const lines = located.stdout.split("\n").map((l) => l.trim())
  const [root, objectsDir, indexFile, objectFormat] = lines
  if (located.exitCode !== 0 || !root || !objectsDir || !indexFile || !objectFormat) {
    const why = located.stderr.trim().split("\n").pop() ?? ""
    return yield* new TeleportError({
      reason: "NotARepo",
      message: `${abs} is not inside a git work tree${why ? ` (${why.replace(/^fatal: /, "")})` : ""}`,
      path: abs,
    })
  }
  const head = yield* resolveCommit(run, "HEAD")
  const symbolic = yield* run(["symbolic-ref", "-q", "HEAD"], [0, 1])
  const ref = firstLine(symbolic)
  return {
    root,
    objectsDir,
    indexFile,
    objectFormat,
    head,
    branch: symbolic.exitCode === 0 && ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null,
  }
})

/** Parses `git remote -v`: one entry per remote, with its fetch URL. */
export function parseRemotes(output: string): ReadonlyArray<GitRemote> {
  const remotes: GitRemote[] = []
  for (const line of output.split("\n")) {
    const m = /^(\S+)\t(.*) \(fetch\)$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) remotes.push({ name: m[1], url: m[2] })
  }
  return remotes
}

/** Parses `git status --porcelain=v2 -z`: tracked changes and untracked files. */
export function parseStatus(output: string): { readonly dirty: boolean; readonly hasUntracked: boolean } {
  let dirty = false
  let hasUntracked = false
  const fields = output.split("\0")
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? ""
    const kind = field[0]
    if (kind === "1" || kind === "u") dirty = true
    else if (kind === "2") {
      dirty = true
      i++ // a rename or copy carries its original path in the next field
    } else if (kind === "?") hasUntracked = true
  }
  return { dirty, hasUntracked }
}

/**
 * Describes the git repository containing `dir` without changing it (no index refresh either).
 *
 * @example
 * const info = await Effect.runPromise(inspectRepository(process.cwd()).pipe(Effect.provide(Git.layer)))
 * // { root: "/home/me/project", head: "3f1c…", branch: "main", remotes: [...], dirty: true, ... }
 */
export const inspectRepository = Effect.fn("Teleport.inspectRepository")(function* (
  dir: string,
): Effect.fn.Return<RepositoryInfo, GitError | TeleportError, Git> {
  const location = yield* locateRepository(dir)
  const run = userRunner(location.root)
  const remotes = parseRemotes((yield* run(["remote", "-v"])).stdout)
  const status = parseStatus(
    (yield* run(["status", "--porcelain=v2", "-z", "--untracked-files=normal"])).stdout,
  )
  return {
    root: location.root,
    head: location.head,
    branch: location.branch,
    remotes,
    dirty: status.dirty,
    hasUntracked: status.hasUntracked,
    objectFormat: location.objectFormat,
  }
})
