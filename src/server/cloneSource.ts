import * as Effect from "effect/Effect"
import { Git } from "../adapters/git.js"
import type { GitRemote } from "../teleport/inspectRepository.js"
import { type ReachableRemote, reachableRemotes } from "../teleport/reachableRemotes.js"
import type { ServerConfig } from "./config.js"
import { SessionManagerError } from "./sessionManager.js"

/**
 * Which of a client's remotes this host would clone itself: local paths inside its work roots that git can
 * read (never network URLs: the host has none of the user's credentials). The same rule admits `clone_url`
 * in `POST /sessions`, so what `POST /host/reachable-remotes` promises is exactly what is accepted.
 */
export function hostReachableRemotes(
  remotes: ReadonlyArray<GitRemote>,
  config: ServerConfig,
): Promise<ReadonlyArray<ReachableRemote>> {
  return Effect.runPromise(
    reachableRemotes(remotes, { localRoots: config.work_roots }).pipe(Effect.provide(Git.layer)),
  )
}

/**
 * Admits a `clone_url`: it must be one {@link hostReachableRemotes} accepts, else 403 `AGH_POLICY_CLONE_URL`
 * (a token holder must not make the host copy any repository of its disk). Returns the URL to clone: for a
 * local path, its real path, so a symlink swapped after the check cannot redirect the clone.
 */
export async function admitCloneUrl(cloneUrl: string, config: ServerConfig): Promise<string> {
  const [reachable] = await hostReachableRemotes([{ name: "clone_url", url: cloneUrl }], config)
  if (reachable === undefined) {
    throw new SessionManagerError({
      reason: "PolicyCloneUrl",
      message: `clone_url ${JSON.stringify(cloneUrl)} is not a repository this host may clone: it must be a local path inside the work roots (${config.work_roots.join(", ")}) that git can read`,
    })
  }
  return reachable.cloneUrl
}
