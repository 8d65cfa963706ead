import { copyFile } from "node:fs/promises"
import * as Effect from "effect/Effect"
import type { Git, GitError } from "../adapters/git.js"
import { fsTry } from "./fsEffects.js"
import { firstLine, type GitRunner } from "./gitRunner.js"
import type { TeleportError } from "./teleportError.js"

/** Snapshot commit: the user's work tree at teleport time (see docs/teleport.md). */
export const SNAPSHOT_REF = "refs/agenthost/snapshot"
/** The user's HEAD commit at teleport time; absent when HEAD was unborn. */
export const HEAD_REF = "refs/agenthost/head"
/** Pull-back: the session's result (its commits plus a commit of its uncommitted work). */
export const RESULT_REF = "refs/agenthost/result"
/** Pull-back: the commit the session started from. */
export const BASE_REF = "refs/agenthost/base"

/** Version of the snapshot commit format, written as the `Agenthost-Snapshot` trailer. */
export const SNAPSHOT_FORMAT_VERSION = 1

/**
 * Who agenthost's own commits are by. Fixed, so a snapshot never depends on (or fails for lack of) the
 * user's or the host's configured identity.
 */
export const AGENTHOST_IDENTITY: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: "agenthost",
  GIT_AUTHOR_EMAIL: "agenthost@localhost",
  GIT_COMMITTER_NAME: "agenthost",
  GIT_COMMITTER_EMAIL: "agenthost@localhost",
}

/** What a snapshot commit's trailers say about the repository it was taken from. */
export interface SnapshotMeta {
  /** HEAD's commit, or `null` for an unborn HEAD (a repository without commits). */
  readonly head: string | null
  /** The branch HEAD was on, or `null` when detached. */
  readonly branch: string | null
}

/** The message of a snapshot commit: a subject and trailers the host parses. */
export function formatSnapshotMessage(meta: SnapshotMeta): string {
  const lines = [
    "agenthost snapshot",
    "",
    `Agenthost-Snapshot: ${SNAPSHOT_FORMAT_VERSION}`,
    `Agenthost-Head: ${meta.head ?? "unborn"}`,
  ]
  if (meta.branch !== null) lines.push(`Agenthost-Branch: ${meta.branch}`)
  return `${lines.join("\n")}\n`
}

/** A commit object, as `git cat-file commit` prints it. */
export interface CommitObject {
  readonly tree: string
  readonly parents: ReadonlyArray<string>
  readonly message: string
}

/** Parses the raw text of a commit object (headers, blank line, message). */
export function parseCommitObject(text: string): CommitObject {
  const split = text.indexOf("\n\n")
  const headers = (split < 0 ? text : text.slice(0, split)).split("\n")
  const message = split < 0 ? "" : text.slice(split + 2)
  let tree = ""
  const parents: string[] = []
  for (const line of headers) {
    if (line.startsWith("tree ")) tree = line.slice(5)
    else if (line.startsWith("parent ")) parents.push(line.slice(7))
  }
  return { tree, parents, message }
}

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/

/**
 * Reads the trailers of a snapshot commit's message; `undefined` when it is not a snapshot of a format this
 * build understands.
 */
export function parseSnapshotMessage(message: string): SnapshotMeta | undefined {
  const trailers = new Map<string, string>()
  for (const line of message.split("\n")) {
    const m = /^(Agenthost-[A-Za-z]+): (.*)$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) trailers.set(m[1], m[2])
  }
  if (trailers.get("Agenthost-Snapshot") !== String(SNAPSHOT_FORMAT_VERSION)) return undefined
  const head = trailers.get("Agenthost-Head")
  if (head === undefined || (head !== "unborn" && !OBJECT_ID.test(head))) return undefined
  return { head: head === "unborn" ? null : head, branch: trailers.get("Agenthost-Branch") ?? null }
}

/** Reads one commit object. */
export const readCommit = Effect.fnUntraced(function* (run: GitRunner, rev: string) {
  const result = yield* run(["cat-file", "commit", rev])
  return parseCommitObject(result.stdout)
})

export interface CaptureOptions {
  /** Runs git on the repository with `GIT_INDEX_FILE` pointing at `indexFile` and objects going to scratch. */
  readonly run: GitRunner
  /** The temporary index: copied from `seedIndex`, else read from `head`, else empty. */
  readonly indexFile: string
  /** The repository's real index, to start from (keeps staged state and sparse-checkout bits). */
  readonly seedIndex?: string
  /** HEAD's commit, or `null` when unborn. */
  readonly head: string | null
}

/** The two trees a capture yields. */
export interface CapturedTrees {
  /** What the index held (HEAD's tree, or the empty tree, when it cannot be written: unmerged paths). */
  readonly index: string
  /** The work tree as `git add -A` sees it: tracked, modified, deleted and untracked-but-not-ignored files. */
  readonly workTree: string
}

/**
 * The temporary-index trick: every write goes to a private index file and a scratch object store, so the
 * repository's own index, work tree, HEAD, refs and stash are never written.
 */
export const captureWorkTree = Effect.fnUntraced(function* (
  options: CaptureOptions,
): Effect.fn.Return<CapturedTrees, GitError | TeleportError, Git> {
  const { run, seedIndex, head } = options
  if (seedIndex !== undefined) {
    yield* fsTry("copying the index", seedIndex, () => copyFile(seedIndex, options.indexFile))
  } else if (head !== null) {
    yield* run(["read-tree", head])
  }
  // Unmerged entries cannot become a tree; staging is then reported as HEAD's and the work tree still wins.
  const indexTree = yield* run(["write-tree"], [0, 128])
  let index: string
  if (indexTree.exitCode === 0) index = firstLine(indexTree)
  else if (head === null) index = firstLine(yield* run(["hash-object", "-w", "-t", "tree", "--stdin"]))
  else index = firstLine(yield* run(["rev-parse", "--verify", `${head}^{tree}`]))
  yield* run(["add", "-A", "--", ":/"])
  const workTree = firstLine(yield* run(["write-tree"]))
  return { index, workTree }
})
