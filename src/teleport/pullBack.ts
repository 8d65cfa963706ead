import { copyFile, lstat, mkdir, realpath, stat } from "node:fs/promises"
import { join, resolve } from "node:path"
import * as Effect from "effect/Effect"
import type { Git, GitError } from "../adapters/git.js"
import { readBundleHeader } from "./bundleHeader.js"
import { fsTry } from "./fsEffects.js"
import { firstLine, gitFailedAs, gitRunner, resolveCommit } from "./gitRunner.js"
import { locateRepository, userRunner } from "./inspectRepository.js"
import { withScratchRepo } from "./scratchRepo.js"
import { AGENTHOST_IDENTITY, BASE_REF, captureWorkTree, HEAD_REF, RESULT_REF } from "./snapshot.js"
import { TeleportError } from "./teleportError.js"
import { checkSessionId } from "./workspace.js"

/** What {@link exportSessionChanges} wrote. */
export interface SessionExport {
  readonly bundlePath: string
  readonly bytes: number
  /** `refs/agenthost/result`: the session's HEAD, plus a commit of its uncommitted work when there was any. */
  readonly resultSha: string
  /** The commit the session started from, or `null` when it started from an unborn HEAD. */
  readonly baseSha: string | null
  /** Commits on the result that are not on the base. */
  readonly commits: number
  /** Whether the result includes a commit of uncommitted work. */
  readonly uncommitted: boolean
}

export interface ExportOptions {
  /** Named in the message of the uncommitted-work commit. */
  readonly sessionId?: string
  /** Where scratch repositories go; default the OS temp dir. */
  readonly tempParent?: string
}

/**
 * Host side of `agenthost pull`: bundles a workspace's changes — the session's commits on top of the
 * commit it started from, plus one commit of its uncommitted work (staged, unstaged, untracked but not
 * ignored) — under `refs/agenthost/result`, with the start under `refs/agenthost/base`. The bundle needs
 * only the start's parents on the receiving side, which the user has. The workspace is not changed, and
 * its own `.git/config` is never read by the commands that could run something (they address a scratch
 * repository with the workspace as work tree), since the agent could have written it.
 */
export const exportSessionChanges = Effect.fn("Teleport.exportSessionChanges")(function* (
  workDir: string,
  outFile: string,
  options: ExportOptions = {},
) {
  const out = resolve(outFile)
  const root = yield* fsTry("resolving", workDir, () => realpath(workDir))
  const gitDir = join(root, ".git")
  const gitDirStat = yield* fsTry("reading", gitDir, () => lstat(gitDir))
  if (!gitDirStat.isDirectory()) {
    return yield* new TeleportError({
      reason: "NotARepo",
      message: `${gitDir} is not a directory`,
      path: gitDir,
    })
  }
  const workspace = gitRunner({ cwd: root, isolation: "host", prefix: [`--git-dir=${gitDir}`] })
  const objectFormat = firstLine(yield* workspace(["rev-parse", "--show-object-format"]))
  const head = yield* resolveCommit(workspace, "HEAD")
  const base = yield* resolveCommit(workspace, HEAD_REF)

  return yield* withScratchRepo(
    {
      borrowObjectsFrom: join(gitDir, "objects"),
      objectFormat,
      ...(options.tempParent === undefined ? {} : { tempParent: options.tempParent }),
    },
    (scratch) =>
      Effect.gen(function* () {
        const exclude = join(gitDir, "info", "exclude")
        const hasExclude = yield* Effect.tryPromise(() => stat(exclude)).pipe(
          Effect.map((s) => s.isFile()),
          Effect.orElseSucceed(() => false),
        )
        if (hasExclude) {
          const target = join(scratch.gitDir, "info", "exclude")
          yield* fsTry("creating", join(scratch.gitDir, "info"), () =>
            mkdir(join(scratch.gitDir, "info"), { recursive: true }),
          )
          yield* fsTry("copying", exclude, () => copyFile(exclude, target))
        }
        const run = gitRunner({
          cwd: root,
          isolation: "host",
          prefix: [`--git-dir=${scratch.gitDir}`, `--work-tree=${root}`],
          env: { GIT_INDEX_FILE: scratch.indexFile, ...AGENTHOST_IDENTITY },
        })
        const trees = yield* captureWorkTree({ run, indexFile: scratch.indexFile, head })
        const headTree =
          head === null ? null : firstLine(yield* run(["rev-parse", "--verify", `${head}^{tree}`]))
        const uncommitted = trees.workTree !== headTree
        const subject =
          options.sessionId === undefined
            ? "agenthost: uncommitted work of the session"
            : `agenthost: uncommitted work of session ${options.sessionId}`
        const resultSha = uncommitted
          ? firstLine(
              yield* run([
                "commit-tree",
                "--no-gpg-sign",
                ...(head === null ? [] : ["-p", head]),
                "-m",
                subject,
                trees.workTree,
              ]),
            )
          : (head as string)
        yield* scratch.run(["update-ref", RESULT_REF, resultSha])
        const refs = [RESULT_REF]
        const exclusions: string[] = []
        if (base !== null) {
          yield* scratch.run(["update-ref", BASE_REF, base])
          refs.push(BASE_REF)
          const parents = (yield* scratch.run(["rev-parse", `${base}^@`])).stdout
            .split("\n")
            .filter((l) => l !== "")
          for (const parent of parents) exclusions.push(`^${parent}`)
        }
        yield* scratch.run(["bundle", "create", "-q", out, ...refs, ...exclusions])
        const count = yield* scratch.run([
          "rev-list",
          "--count",
          resultSha,
          ...(base === null ? [] : [`^${base}`]),
        ])
        const bytes = (yield* fsTry("reading", out, () => stat(out))).size
        return {
          bundlePath: out,
          bytes,
          resultSha,
          baseSha: base,
          commits: Number(firstLine(count)),
          uncommitted,
        } satisfies SessionExport
      }),
  )
})

/** What {@link importSessionChanges} made. */
export interface SessionImport {
  /** `agenthost/<session id>`. */
  readonly branch: string
  readonly sha: string
  /** Commits on the branch that are not on the commit the session started from. */
  readonly commits: number
  readonly baseSha: string | null
}

export interface ImportOptions {
  /** Replace an existing `agenthost/<id>` branch instead of failing with `AGH_GIT_BRANCH_EXISTS`. */
  readonly force?: boolean
}

/**
 * Client side of `agenthost pull ID`: fetches a pull-back bundle into the local branch `agenthost/<id>`.
 * The current branch, index, work tree and stash are not touched; FETCH_HEAD is not written; objects are
 * fsck-checked. The branch must not exist (unless `force`) and must not be checked out.
 */
export const importSessionChanges = Effect.fn("Teleport.importSessionChanges")(function* (
  repoDir: string,
  bundleFile: string,
  sessionId: string,
  options: ImportOptions = {},
): Effect.fn.Return<SessionImport, GitError | TeleportError, Git> {
  yield* checkSessionId(sessionId)
  const bundlePath = resolve(bundleFile)
  const repo = yield* locateRepository(repoDir)
  const run = userRunner(repo.root)
  const branch = `agenthost/${sessionId}`
  const ref = `refs/heads/${branch}`
  if (repo.branch === branch) {
    return yield* new TeleportError({
      reason: "BranchCheckedOut",
      message: `branch ${branch} is checked out in ${repo.root}; switch to another branch before pulling`,
      path: repo.root,
    })
  }
  const existing = yield* run(["rev-parse", "--verify", "-q", ref], [0, 1])
  if (existing.exitCode === 0 && options.force !== true) {
    return yield* new TeleportError({
      reason: "BranchExists",
      message: `branch ${branch} already exists at ${firstLine(existing)} in ${repo.root}; pull with --force to replace it`,
      path: repo.root,
    })
  }
  const header = yield* readBundleHeader(bundlePath)
  if (!header.refs.some((r) => r.name === RESULT_REF)) {
    return yield* new TeleportError({
      reason: "BundleInvalid",
      message: `bundle ${bundlePath}: no ${RESULT_REF} ref`,
      path: bundlePath,
    })
  }
  const asInvalid = gitFailedAs(
    (e) =>
      new TeleportError({
        reason: "BundleInvalid",
        message: `bundle ${bundlePath}: ${e.stderr?.trim().split("\n").join(" / ") || e.message}`,
        path: bundlePath,
        cause: e,
      }),
  )
  // `verify` names the missing commits when the user no longer has the session's starting point.
  yield* run(["bundle", "verify", "-q", bundlePath]).pipe(Effect.catchTag("GitError", asInvalid))
  yield* run([
    "-c",
    "transfer.fsckObjects=true",
    "fetch",
    "-q",
    "--no-tags",
    "--no-write-fetch-head",
    "--no-recurse-submodules",
    "--no-auto-gc",
    bundlePath,
    `${options.force === true ? "+" : ""}${RESULT_REF}:${ref}`,
  ])
  const sha = firstLine(yield* run(["rev-parse", "--verify", ref]))
  const baseSha = header.refs.find((r) => r.name === BASE_REF)?.sha ?? null
  const haveBase =
    baseSha !== null && (yield* run(["cat-file", "-e", `${baseSha}^{commit}`], [0, 1, 128])).exitCode === 0
  const count = yield* run(["rev-list", "--count", sha, ...(haveBase ? [`^${baseSha}`] : [])])
  return { branch, sha, commits: Number(firstLine(count)), baseSha }
})
