import { mkdtemp, rm } from "node:fs/promises"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { fsFailure, type TeleportError } from "./teleportError.js"

/** A file-system promise as an effect; failures become `Io`, or `DiskFull` for ENOSPC/EDQUOT. */
export function fsTry<A>(what: string, path: string, f: () => Promise<A>): Effect.Effect<A, TeleportError> {
  return Effect.tryPromise({ try: f, catch: (e) => fsFailure(what, path, e) })
}

/**
 * Removes a file or tree, ignoring failures: it runs in finalizers, where the original error is the one
 * worth reporting and a leftover temp path is swept later.
 */
export function removePath(path: string): Effect.Effect<void> {
  return Effect.tryPromise(() => rm(path, { recursive: true, force: true })).pipe(Effect.ignore)
}

/** Runs `use` with a fresh temp dir under `parent`, removed afterwards whatever happened. */
export function withTempDir<A, E, R>(
  parent: string,
  prefix: string,
  use: (dir: string) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E | TeleportError, R> {
  return Effect.acquireUseRelease(
    fsTry("creating a temp dir in", parent, () => mkdtemp(join(parent, prefix))),
    use,
    (dir) => removePath(dir),
  )
}
