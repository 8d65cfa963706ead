import { stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import * as Effect from "effect/Effect"
import type { Git, GitError } from "../adapters/git.js"
import { type BundleHeader, readBundleHeader } from "./bundleHeader.js"
import { fsTry, withTempDir } from "./fsEffects.js"
import { firstLine, type GitRunner, gitFailedAs, gitRunner } from "./gitRunner.js"
import { locateRepository } from "./inspectRepository.js"
import { withScratchRepo } from "./scratchRepo.js"
import {
  AGENTHOST_IDENTITY,
  captureWorkTree,
  formatSnapshotMessage,
  HEAD_REF,
  parseSnapshotMessage,
  readCommit,
  SNAPSHOT_REF,
} from "./snapshot.js"
import { TeleportError } from "./teleportError.js"

/** What {@link createSnapshotBundle} made: the file to upload and what it holds. */
export interface SnapshotBundle {
  readonly bundlePath: string
  readonly bytes: number
  /** HEAD's commit, or `null` for an unborn HEAD. */
  readonly headSha: string | null
  readonly snapshotSha: string
  /** The branch HEAD was on, or `null` when detached. */
  readonly branch: string | null
}

/**
 * Client side: writes a git bundle of the repository containing `repoDir` to `outFile`, holding HEAD's
 * history (`refs/agenthost/head`) and a snapshot commit of the work tree (`refs/agenthost/snapshot`) with
 * staged, unstaged and untracked-but-not-ignored files. The repository's index, work tree, HEAD, refs,
 * reflogs, stash and object store are left exactly as they were (docs/teleport.md).
 *
 * @example
 * const b = await Effect.runPromise(createSnapshotBundle(".", "/tmp/seed.bundle").pipe(Effect.provide(Git.layer)))
 * // upload b.bundlePath (b.bytes bytes) to POST /bundles
 */
export const createSnapshotBundle = Effect.fn("Teleport.createSnapshotBundle")(function* (
  repoDir: string,
  outFile: string,
) {
  const out = resolve(outFile)
  const repo = yield* locateRepository(repoDir)
  const hasIndex = yield* Effect.tryPromise(() => stat(repo.indexFile)).pipe(
    Effect.map((s) => s.isFile()),
    Effect.orElseSucceed(() => false),
  )
  return yield* withScratchRepo(
    { borrowObjectsFrom: repo.objectsDir, objectFormat: repo.objectFormat },
    (scratch) =>
      Effect.gen(function* () {
        // The user's own git, configuration and all (ignore rules, filters), but writing only to scratch.
        const run = gitRunner({
          cwd: repo.root,
          isolation: "user",
          // A split index would make git write a new shared index into the user's .git.
          prefix: ["-c", "core.splitIndex=false", "-c", "splitIndex.sharedIndexExpire=never"],
          env: {
            GIT_INDEX_FILE: scratch.indexFile,
            GIT_OBJECT_DIRECTORY: scratch.objectsDir,
            ...AGENTHOST_IDENTITY,
          },
        })
        const trees = yield* captureWorkTree({
          run,
          indexFile: scratch.indexFile,
          ...(hasIndex ? { seedIndex: repo.indexFile } : {}),
          head: repo.head,
        })
        const headParent = repo.head === null ? [] : ["-p", repo.head]
        const indexCommit = firstLine(
          yield* run(["commit-tree", "--no-gpg-sign", ...headParent, "-m", "agenthost index", trees.index]),
        )
        const message = formatSnapshotMessage({ head: repo.head, branch: repo.branch })
        const snapshotSha = firstLine(
          yield* run([
            "commit-tree",
            "--no-gpg-sign",
            ...headParent,
            "-p",
            indexCommit,
            "-m",
            message,
            trees.workTree,
          ]),
        )
        yield* scratch.run(["update-ref", SNAPSHOT_REF, snapshotSha])
        if (repo.head !== null) yield* scratch.run(["update-ref", HEAD_REF, repo.head])
        const refs = repo.head === null ? [SNAPSHOT_REF] : [HEAD_REF, SNAPSHOT_REF]
        yield* scratch.run(["bundle", "create", "-q", out, ...refs])
        const bytes = (yield* fsTry("reading", out, () => stat(out))).size
        return { bundlePath: out, bytes, headSha: repo.head, snapshotSha, branch: repo.branch }
      }),
  )
})

/** What a snapshot commit says, checked against the refs that came with it. */
export interface SnapshotFacts {
  readonly snapshotSha: string
  /** Commit of the index at snapshot time (HEAD's tree when the index could not be written). */
  readonly indexSha: string
  readonly headSha: string | null
  readonly branch: string | null
}

/**
 * Reads the snapshot commit `snapshotSha` in the repository `run` addresses and checks it against the
 * bundle's `refs/agenthost/head` (`headRefSha`); a mismatch is `AGH_BUNDLE_INVALID` naming `path`.
 */
export const readSnapshotFacts = Effect.fnUntraced(function* (
  run: GitRunner,
  path: string,
  snapshotSha: string,
  headRefSha: string | null,
): Effect.fn.Return<SnapshotFacts, GitError | TeleportError, Git> {
  const snapshot = yield* readCommit(run, snapshotSha)
  const meta = parseSnapshotMessage(snapshot.message)
  if (meta === undefined) return yield* invalid(path, `${snapshotSha} is not an agenthost snapshot commit`)
  const expectedParents = meta.head === null ? 1 : 2
  const indexSha = snapshot.parents[expectedParents - 1]
  if (snapshot.parents.length !== expectedParents || indexSha === undefined) {
    return yield* invalid(path, `snapshot ${snapshotSha} has ${snapshot.parents.length} parent(s)`)
  }
  if (meta.head !== headRefSha || (meta.head !== null && snapshot.parents[0] !== meta.head)) {
    return yield* invalid(path, `snapshot says HEAD was ${meta.head ?? "unborn"}, its refs disagree`)
  }
  if (meta.branch !== null) {
    const ok = yield* run(["check-ref-format", `refs/heads/${meta.branch}`], [0, 1])
    if (ok.exitCode !== 0) return yield* invalid(path, `bad branch name ${JSON.stringify(meta.branch)}`)
  }
  return { snapshotSha, indexSha, headSha: meta.head, branch: meta.branch }
})

/** What a checked snapshot bundle holds: the facts `prepareWorkspace` restores. */
export interface SnapshotBundleSummary extends SnapshotFacts {
  readonly header: BundleHeader
}

function invalid(path: string, message: string): TeleportError {
  return new TeleportError({ reason: "BundleInvalid", message: `bundle ${path}: ${message}`, path })
}

/**
 * Checks a snapshot bundle completely before anything uses it: a well-formed header with no prerequisites
 * and no filter, `git bundle verify`, then a trial fetch into an empty repository with `transfer.fsckObjects`
 * (which is what catches a truncated or corrupted pack: `verify` only reads the header), and a snapshot
 * commit whose trailers agree with its refs. Any of these failing is `AGH_BUNDLE_INVALID`.
 */
export const checkSnapshotBundle = Effect.fn("Teleport.checkSnapshotBundle")(function* (
  path: string,
  options: { readonly tempParent?: string } = {},
) {
  const header = yield* readBundleHeader(path)
  if (header.prerequisites.length > 0) {
    return yield* invalid(
      path,
      `incomplete: it needs ${header.prerequisites.length} commit(s) the host does not have (${header.prerequisites[0]}…)`,
    )
  }
  if (header.filter !== undefined) return yield* invalid(path, `partial bundle (filter ${header.filter})`)
  const snapshotRef = header.refs.find((r) => r.name === SNAPSHOT_REF)
  if (snapshotRef === undefined) return yield* invalid(path, `no ${SNAPSHOT_REF} ref`)
  const headRef = header.refs.find((r) => r.name === HEAD_REF)
  const stray = header.refs.find((r) => r.name !== SNAPSHOT_REF && r.name !== HEAD_REF)
  if (stray !== undefined) return yield* invalid(path, `unexpected ref ${stray.name}`)

  return yield* withTempDir(options.tempParent ?? tmpdir(), ".verify-", (dir) =>
    Effect.gen(function* () {
      const run = gitRunner({ cwd: dir, isolation: "host" })
      yield* run(["init", "-q", "--bare", "--template=", `--object-format=${header.objectFormat}`, "."])
      const rejected = gitFailedAs((e) => invalid(path, e.stderr?.trim() || e.message))
      yield* run(["bundle", "verify", "-q", path]).pipe(Effect.catchTag("GitError", rejected))
      yield* run([
        "fetch",
        "-q",
        "--no-tags",
        "--no-write-fetch-head",
        path,
        "refs/agenthost/*:refs/agenthost/*",
      ]).pipe(Effect.catchTag("GitError", rejected))
      // git before 2.46 does not fsck objects fetched from a bundle: check them here, strictly.
      yield* run(["fsck", "--no-dangling", "--no-reflogs", "--no-progress"]).pipe(
        Effect.catchTag("GitError", rejected),
      )
      const facts = yield* readSnapshotFacts(run, path, snapshotRef.sha, headRef?.sha ?? null)
      return { header, ...facts }
    }),
  )
})
