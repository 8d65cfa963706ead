import { mkdir, realpath } from "node:fs/promises"
import { join, sep } from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { Git, GitError } from "../adapters/git.js"
import { readSnapshotFacts } from "./bundle.js"
import { readBundleHeader } from "./bundleHeader.js"
import type { BundleStore } from "./bundleStore.js"
import { fsTry, removePath } from "./fsEffects.js"
import { firstLine, type GitRunner, gitFailedAs, gitRunner, resolveCommit } from "./gitRunner.js"
import { HEAD_REF, SNAPSHOT_REF } from "./snapshot.js"
import { TeleportError } from "./teleportError.js"

/** Where a workspace's repository comes from. */
export type WorkspaceSource =
  /** An uploaded snapshot bundle, by id. */
  | { readonly bundleId: string; readonly bundles: BundleStore }
  /** A snapshot bundle file (already checked with `checkSnapshotBundle`). */
  | { readonly bundlePath: string }
  /**
   * A repository the host can reach itself (see `reachableRemotes`), checked out at `ref`: a branch of it
   * (checked out as a local branch of that name) or a commit; default its HEAD.
   */
  | { readonly cloneUrl: string; readonly ref?: string }

export interface PrepareWorkspaceOptions {
  readonly source: WorkspaceSource
  /** The host's root for work directories; the workspace is `<workRoot>/<sessionId>`. */
  readonly workRoot: string
  readonly sessionId: string
}

/** A session's work directory, ready for its agent. */
export interface Workspace {
  readonly workDir: string
  readonly source: "bundle" | "clone"
  /** The commit HEAD is at, or `null` when unborn. */
  readonly headSha: string | null
  /** The branch HEAD is on, or `null` when detached. */
  readonly branch: string | null
  /** The snapshot restored into the work tree (bundle sources only). */
  readonly snapshotSha: string | null
}

const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/

/** Session ids name directories and branches (`agenthost/<id>`): a safe alphabet, nothing git would refuse. */
export function checkSessionId(sessionId: string): Effect.Effect<string, TeleportError> {
  return SESSION_ID_PATTERN.test(sessionId)
    ? Effect.succeed(sessionId)
    : Effect.fail(
        new TeleportError({
          reason: "BadSessionId",
          message: `session id ${JSON.stringify(sessionId)} is not 1-128 of [A-Za-z0-9_-] starting with a letter or digit`,
        }),
      )
}

/** Creates `<workRoot>/<sessionId>` and proves it lies inside the real work root. */
const createWorkDir = Effect.fnUntraced(function* (workRoot: string, sessionId: string) {
  yield* checkSessionId(sessionId)
  yield* fsTry("creating", workRoot, () => mkdir(workRoot, { recursive: true, mode: 0o700 }))
  const root = yield* fsTry("resolving", workRoot, () => realpath(workRoot))
  const workDir = join(root, sessionId)
  yield* fsTry("creating", workDir, () => mkdir(workDir, { mode: 0o700 })).pipe(
    Effect.mapError((e) =>
      (e.cause as NodeJS.ErrnoException | undefined)?.code === "EEXIST"
        ? new TeleportError({
            reason: "WorkspaceExists",
            message: `work directory ${workDir} already exists`,
            path: workDir,
          })
        : e,
    ),
  )
  const real = yield* fsTry("resolving", workDir, () => realpath(workDir))
  if (!real.startsWith(root + sep)) {
    // Unreachable with the id pattern above; kept because a wrong answer here would be a sandbox escape.
    return yield* new TeleportError({
      reason: "WorkspaceEscape",
      message: `work directory ${real} is outside the work root ${root}`,
      path: real,
    })
  }
  return real
})

/** The last line git wrote to stderr: the one that says what went wrong. */
const lastComplaint = (e: GitError): string => e.stderr?.trim().split("\n").pop() ?? e.message

const restoreFromBundle = Effect.fnUntraced(function* (run: GitRunner, bundlePath: string) {
  const header = yield* readBundleHeader(bundlePath)
  yield* run(["init", "-q", "--template=", `--object-format=${header.objectFormat}`, "."])
  yield* run([
    "fetch",
    "-q",
    "--no-tags",
    "--no-write-fetch-head",
    "--no-recurse-submodules",
    bundlePath,
    "refs/agenthost/*:refs/agenthost/*",
  ]).pipe(
    Effect.catchTag(
      "GitError",
      gitFailedAs(
        (e) =>
          new TeleportError({
            reason: "BundleInvalid",
            message: `bundle ${bundlePath}: ${lastComplaint(e)}`,
            path: bundlePath,
            cause: e,
          }),
      ),
    ),
  )
  const snapshotSha = firstLine(yield* run(["rev-parse", "--verify", `${SNAPSHOT_REF}^{commit}`]))
  const facts = yield* readSnapshotFacts(run, bundlePath, snapshotSha, yield* resolveCommit(run, HEAD_REF))
  if (facts.branch !== null) {
    if (facts.headSha !== null) yield* run(["update-ref", `refs/heads/${facts.branch}`, facts.headSha])
    yield* run(["symbolic-ref", "HEAD", `refs/heads/${facts.branch}`])
  } else if (facts.headSha !== null) {
    yield* run(["update-ref", "--no-deref", "HEAD", facts.headSha])
  }
  // Work tree from the snapshot, index from the index commit, HEAD at the original commit: `git status`
  // then shows the user's staged, unstaged and untracked changes as they were.
  yield* run(["read-tree", "-u", "--reset", facts.snapshotSha])
  yield* run(["read-tree", facts.indexSha])
  yield* run(["update-index", "-q", "--refresh"], [0, 1])
  return { headSha: facts.headSha, branch: facts.branch, snapshotSha: facts.snapshotSha }
})

const restoreFromClone = Effect.fnUntraced(function* (
  run: GitRunner,
  cloneUrl: string,
  ref: string | undefined,
): Effect.fn.Return<{ headSha: string | null; branch: string | null }, GitError | TeleportError, Git> {
  if (cloneUrl.startsWith("-")) {
    return yield* new TeleportError({
      reason: "RemoteUnreachable",
      message: `bad clone URL ${JSON.stringify(cloneUrl)}`,
    })
  }
  yield* run(["clone", "-q", "--no-local", "--template=", "--no-checkout", "--", cloneUrl, "."]).pipe(
    Effect.catchTag(
      "GitError",
      gitFailedAs(
        (e) =>
          new TeleportError({
            reason: "RemoteUnreachable",
            message: `cannot clone ${cloneUrl}: ${lastComplaint(e)}`,
            cause: e,
          }),
      ),
    ),
  )
  if (ref !== undefined) {
    const remoteBranch = yield* run(
      ["rev-parse", "--verify", "-q", `refs/remotes/origin/${ref}^{commit}`],
      [0, 1],
    )
    if (remoteBranch.exitCode === 0 && !ref.startsWith("-")) {
      // -B: when `ref` is the source's default branch, the clone has already made that local branch.
      yield* run(["checkout", "-q", "-B", ref, "--track", `origin/${ref}`])
    } else {
      const commit = yield* run(
        ["rev-parse", "--verify", "-q", "--end-of-options", `${ref}^{commit}`],
        [0, 1],
      )
      if (commit.exitCode !== 0) {
        return yield* new TeleportError({
          reason: "RefNotFound",
          message: `${cloneUrl} has no branch or commit ${JSON.stringify(ref)}`,
        })
      }
      yield* run(["checkout", "-q", "--detach", firstLine(commit)])
    }
  }
  const headSha = yield* resolveCommit(run, "HEAD")
  // Without a ref the clone's own HEAD is checked out; an empty source repository leaves it unborn, with
  // nothing to check out.
  if (ref === undefined && headSha !== null) yield* run(["read-tree", "-u", "--reset", "HEAD"])
  // The base pull-back diffs against, whichever way the workspace was made.
  if (headSha !== null) yield* run(["update-ref", HEAD_REF, headSha])
  const symbolic = yield* run(["symbolic-ref", "-q", "HEAD"], [0, 1])
  const branch = symbolic.exitCode === 0 ? firstLine(symbolic).replace(/^refs\/heads\//, "") : null
  return { headSha, branch }
})

/**
 * Host side: makes the work directory `<workRoot>/<sessionId>` for a teleported session, from a snapshot
 * bundle (same HEAD commit and branch, the user's uncommitted changes restored as uncommitted changes) or by
 * cloning a repository the host can reach. Git runs host-isolated: no hooks, templates, system or global
 * configuration, objects fsck-checked. On any failure the directory is removed.
 */
export const prepareWorkspace = Effect.fn("Teleport.prepareWorkspace")(function* (
  options: PrepareWorkspaceOptions,
): Effect.fn.Return<Workspace, GitError | TeleportError, Git> {
  const { source } = options
  const bundlePath =
    "bundleId" in source
      ? yield* source.bundles.path(source.bundleId)
      : "bundlePath" in source
        ? source.bundlePath
        : null
  const workDir = yield* createWorkDir(options.workRoot, options.sessionId)
  const run = gitRunner({ cwd: workDir, isolation: "host" })
  return yield* Effect.gen(function* () {
    if (bundlePath !== null) {
      const restored = yield* restoreFromBundle(run, bundlePath)
      return { workDir, source: "bundle" as const, ...restored }
    }
    const clone = source as { readonly cloneUrl: string; readonly ref?: string }
    const cloned = yield* restoreFromClone(run, clone.cloneUrl, clone.ref)
    return { workDir, source: "clone" as const, snapshotSha: null, ...cloned }
  }).pipe(Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : removePath(workDir))))
})
