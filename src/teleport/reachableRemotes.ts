import { realpath } from "node:fs/promises"
import { tmpdir } from "node:os"
import { isAbsolute, sep } from "node:path"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import { gitRunner } from "./gitRunner.js"
import type { GitRemote } from "./inspectRepository.js"

/** A client remote the host can clone itself, and the URL to clone it from. */
export interface ReachableRemote extends GitRemote {
  readonly cloneUrl: string
  readonly kind: "local" | "network"
}

export interface ReachabilityOptions {
  /**
   * Directories of the host a client may name as a local remote (the host's allowed roots). A path must
   * resolve, symlinks and all, inside one of them: a token holder must not be able to make the host copy an
   * arbitrary repository of its disk into a workspace.
   */
  readonly localRoots: ReadonlyArray<string>
  /**
   * Network URL prefixes the host clones from as given (e.g. `https://github.com/acme/`). Default none:
   * the host has no credentials of the user and no network probe is made, so by default network remotes
   * are not reachable and the repository travels as a bundle.
   */
  readonly urlPrefixes?: ReadonlyArray<string>
}

/** A remote URL naming a path on this machine, or `undefined` (network, scp-like, relative). */
export function localPathOf(url: string): string | undefined {
  if (url.startsWith("file://")) {
    try {
      return fileURLToPath(url)
    } catch {
      return undefined
    }
  }
  return isAbsolute(url) ? url : undefined
}

const realOrUndefined = (path: string) =>
  Effect.tryPromise(() => realpath(path)).pipe(Effect.orElseSucceed(() => undefined))

/**
 * Host side: which of a client's remotes this host can clone itself. Local paths count when they resolve
 * inside `localRoots` and `git ls-remote` (host-isolated) reads them; network URLs count only when they
 * start with one of `urlPrefixes`. Order is kept; unreachable remotes are left out.
 */
export const reachableRemotes = Effect.fn("Teleport.reachableRemotes")(function* (
  remotes: ReadonlyArray<GitRemote>,
  options: ReachabilityOptions,
) {
  const roots: string[] = []
  for (const root of options.localRoots) {
    const real = yield* realOrUndefined(root)
    if (real !== undefined) roots.push(real === sep ? real : real + sep)
  }
  const run = gitRunner({ cwd: tmpdir(), isolation: "host" })
  const reachable: ReachableRemote[] = []
  for (const remote of remotes) {
    const local = localPathOf(remote.url)
    if (local === undefined) {
      if ((options.urlPrefixes ?? []).some((prefix) => remote.url.startsWith(prefix))) {
        reachable.push({ ...remote, cloneUrl: remote.url, kind: "network" })
      }
      continue
    }
    const real = yield* realOrUndefined(local)
    if (real === undefined || !roots.some((root) => real.startsWith(root) || real + sep === root)) continue
    const probe = yield* run(["ls-remote", "-q", real, "HEAD"]).pipe(
      Effect.map(() => true),
      Effect.orElseSucceed(() => false),
    )
    if (probe) reachable.push({ ...remote, cloneUrl: real, kind: "local" })
  }
  return reachable as ReadonlyArray<ReachableRemote>
})
