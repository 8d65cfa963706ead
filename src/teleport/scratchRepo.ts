import { writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type { Git, GitError } from "../adapters/git.js"
import { fsTry, withTempDir } from "./fsEffects.js"
import { type GitRunner, gitRunner } from "./gitRunner.js"
import type { TeleportError } from "./teleportError.js"

/**
 * A throw-away bare repository that reads a real repository's objects through `objects/info/alternates`
 * and keeps every object and ref it writes to itself. Snapshots are built and bundled here, so the real
 * repository gains no objects, refs or reflog entries.
 */
export interface ScratchRepo {
  readonly gitDir: string
  readonly objectsDir: string
  /** A private index file for the temporary-index trick (does not exist until written). */
  readonly indexFile: string
  /** Runs host-isolated git commands in the scratch repository. */
  readonly run: GitRunner
}

export interface ScratchOptions {
  /** The object store to borrow from (`git rev-parse --git-path objects` of the real repository). */
  readonly borrowObjectsFrom: string
  /** `sha1` or `sha256`: the scratch repository must hash like the one it borrows from. */
  readonly objectFormat: string
  /** Where the temp dir goes; default the OS temp dir. */
  readonly tempParent?: string
}

/** Runs `use` with a fresh scratch repository and removes it afterwards, whatever happened. */
export function withScratchRepo<A, E, R>(
  options: ScratchOptions,
  use: (scratch: ScratchRepo) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E | GitError | TeleportError, R | Git> {
  const parent = options.tempParent ?? tmpdir()
  return withTempDir(parent, "agh-scratch-", (dir) =>
    Effect.gen(function* () {
      const gitDir = join(dir, "repo.git")
      const init = gitRunner({ cwd: dir, isolation: "host" })
      yield* init(["init", "-q", "--bare", "--template=", `--object-format=${options.objectFormat}`, gitDir])
      const alternates = join(gitDir, "objects", "info", "alternates")
      yield* fsTry("writing", alternates, () => writeFile(alternates, `${options.borrowObjectsFrom}\n`))
      const scratch: ScratchRepo = {
        gitDir,
        objectsDir: join(gitDir, "objects"),
        indexFile: join(dir, "index"),
        run: gitRunner({ cwd: dir, isolation: "host", prefix: [`--git-dir=${gitDir}`] }),
      }
      return yield* use(scratch)
    }),
  )
}
