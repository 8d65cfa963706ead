import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import { Git, type GitError } from "../adapters/git.js"
import { removePath } from "../teleport/fsEffects.js"
import { reachableRemotes } from "../teleport/reachableRemotes.js"
import type { TeleportError } from "../teleport/teleportError.js"
import { prepareWorkspace } from "../teleport/workspace.js"
import { TriggerError } from "./triggerError.js"
import type { TriggerRunRequest } from "./triggerLauncher.js"
import type { TriggerProject } from "./triggerTypes.js"

/** The `repository` of a trigger's project: what to clone and, optionally, which branch, tag or commit. */
export type TriggerRepositorySource = Extract<TriggerProject, { repository: unknown }>["repository"]

/** Options of {@link makeTriggerRepositories}. */
export interface TriggerRepositoriesOptions {
  /**
   * The host's work roots. A local repository (absolute path or `file://` URL) must resolve inside one of
   * them; each run's workspace is made in the first.
   */
  readonly workRoots: ReadonlyArray<string>
  /** Network URL prefixes the host clones from (e.g. `https://git.example.com/acme/`). Default none. */
  readonly urlPrefixes?: ReadonlyArray<string>
  /** Git for the reachability probe and the clone. Default the live layer (host isolation, scrubbed env). */
  readonly git?: Layer.Layer<Git>
}

/** A run's fresh clone, ready to become its session's work directory. */
export interface PreparedRepository {
  /** `<first work root>/<trigger id>_<run id>`, real path. */
  readonly workDir: string
  /** The commit checked out, or `null` for an empty repository. */
  readonly headSha: string | null
  /** The branch checked out, or `null` when detached (a tag or a commit). */
  readonly branch: string | null
  /** Removes the workspace: for a run whose session could not be created after all. */
  readonly discard: () => Promise<void>
}

/** How a host clones the repositories of trigger projects. */
export interface TriggerRepositories {
  /**
   * Resolves with the URL the host would clone (a local path's real path) when it can reach `repository`,
   * else rejects with `AGH_TRIGGER_PROJECT_UNSUPPORTED` (422) naming the roots and prefixes it accepts.
   */
  readonly admit: (repository: TriggerRepositorySource) => Promise<string>
  /**
   * Admits the repository again (it may have moved since the trigger was saved) and clones it into a
   * workspace of its own, checked out at `ref` or the source's HEAD. Rejects with the admission error, a
   * teleport error (`AGH_GIT_REF_NOT_FOUND`, `AGH_GIT_REMOTE_UNREACHABLE`, `AGH_WORKSPACE_EXISTS`,
   * `AGH_DISK_FULL`, ...) or a `GitError` (which carries its HTTP status); a failed clone leaves nothing behind.
   */
  readonly prepare: (
    repository: TriggerRepositorySource,
    request: TriggerRunRequest,
  ) => Promise<PreparedRepository>
}

/**
 * The directory name of a run's workspace. Trigger and run ids are both `[a-z0-9_]`, so the name passes the
 * workspace's id check; the run id alone would be unique, the trigger id makes the directory findable.
 */
export function triggerWorkspaceName(request: Pick<TriggerRunRequest, "trigger" | "runId">): string {
  return `${request.trigger.id}_${request.runId}`
}

function refusal(url: string, options: TriggerRepositoriesOptions): TriggerError {
  const prefixes = options.urlPrefixes ?? []
  const network =
    prefixes.length === 0
      ? "this host clones no network URLs (no URL prefixes are configured)"
      : `or a URL starting with ${prefixes.map((p) => JSON.stringify(p)).join(", ")}`
  return new TriggerError({
    reason: "ProjectUnsupported",
    message:
      `repository ${JSON.stringify(url)} is not one this host can clone: give the path (or file:// URL) of a ` +
      `git repository inside its work roots (${options.workRoots.join(", ")}), ${network}; or use a work_dir project`,
  })
}

async function runGit<A>(effect: Effect.Effect<A, GitError | TeleportError, Git>, git: Layer.Layer<Git>) {
  const exit = await Effect.runPromiseExit(effect.pipe(Effect.provide(git)))
  if (Exit.isSuccess(exit)) return exit.value
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure === undefined) throw Cause.squash(exit.cause)
  // Teleport and git errors carry their own code and status: the router and the run history take them as
  // they are.
  throw failure.error
}

/**
 * Trigger runs of repository projects, on the teleport code: `reachableRemotes` decides what the host may
 * clone (local repositories inside its work roots, configured URL prefixes), `prepareWorkspace` clones into
 * `<first work root>/<trigger id>_<run id>` with host-isolated git (no hooks, no templates, no system or
 * global configuration, no host secrets in git's environment, the URL passed as an argument after `--`,
 * never through a shell). Workspaces outlive their sessions, like teleported ones, so `agenthost pull`
 * can bring a run's result back; nothing here removes them except {@link PreparedRepository.discard}.
 *
 * @example
 * const repositories = makeTriggerRepositories({ workRoots: config.work_roots })
 * triggersRoutes(store, { repositories })
 */
export function makeTriggerRepositories(options: TriggerRepositoriesOptions): TriggerRepositories {
  const git = options.git ?? Git.layer
  const admit = async (repository: TriggerRepositorySource): Promise<string> => {
    const remote = { name: "repository", url: repository.url }
    const [reachable] = await runGit(
      reachableRemotes([remote], {
        localRoots: options.workRoots,
        ...(options.urlPrefixes === undefined ? {} : { urlPrefixes: options.urlPrefixes }),
      }),
      git,
    )
    if (reachable === undefined) throw refusal(repository.url, options)
    return reachable.cloneUrl
  }
  return {
    admit,
    async prepare(repository, request) {
      const cloneUrl = await admit(repository)
      const workRoot = options.workRoots[0]
      if (workRoot === undefined) throw refusal(repository.url, options)
      const workspace = await runGit(
        prepareWorkspace({
          source: repository.ref === undefined ? { cloneUrl } : { cloneUrl, ref: repository.ref },
          workRoot,
          sessionId: triggerWorkspaceName(request),
        }),
        git,
      )
      return {
        workDir: workspace.workDir,
        headSha: workspace.headSha,
        branch: workspace.branch,
        discard: () => Effect.runPromise(removePath(workspace.workDir)),
      }
    },
  }
}
