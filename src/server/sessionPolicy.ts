import { realpath, stat } from "node:fs/promises"
import { isAbsolute, sep } from "node:path"
import { isFinalStatus, type SessionHandle } from "../effects/sessionHandle.js"
import { admitCloneUrl } from "./cloneSource.js"
import type { ServerConfig } from "./config.js"
import { ServerError } from "./serverError.js"
import { type CreateSessionOptions, type SessionManager, SessionManagerError } from "./sessionManager.js"

/** A session as a client asks for it (`POST /sessions`), before any policy check. */

/**
 * The remote-sessions switch: whatever makes the host take in or clone a repository (a bundle, a
 * `clone_url`, a repository trigger, the reachability probe) needs `allow_remote_sessions`, else 403
 * `AGH_POLICY_REMOTE_SESSIONS`. The message reads `<what> are not allowed on this host (...)<advice>`.
 */
export function requireRemoteSessions(config: ServerConfig, what = "remote sessions", advice = ""): void {
  if (config.allow_remote_sessions) return
  throw new SessionManagerError({
    reason: "PolicyRemoteSessions",
    message: `${what} are not allowed on this host (config allow_remote_sessions is false)${advice}`,
  })
}

export interface SessionRequest {
  readonly cwd?: string
  readonly prompt?: string
  readonly agent?: string
  readonly title?: string
  readonly bundleId?: string
  readonly cloneUrl?: string
  readonly cloneRef?: string
  readonly skipPermissions?: boolean
}

/** Sessions not yet ended: what `max_sessions` caps. */
export function liveSessionCount(manager: Pick<SessionManager, "list">): number {
  return manager.list().filter((h) => !isFinalStatus(h.info().status)).length
}

async function realRoots(roots: ReadonlyArray<string>): Promise<ReadonlyArray<string>> {
  const out: string[] = []
  // A root that does not exist (yet) admits nothing; it is not an error for the host.
  for (const root of roots)
    await realpath(root).then(
      (r) => out.push(r),
      () => undefined,
    )
  return out
}

const inside = (path: string, root: string) =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)

/**
 * Checks a session request against the host's policy (SPEC §9, outermost layer), in this order: the agent
 * exists, skipping permissions is allowed, teleport is allowed, the cwd's real path (symlinks resolved, so a
 * link cannot smuggle a session out) lies in a work root, and the live-session cap. Returns the options for
 * `SessionManager.create`; throws {@link SessionManagerError}.
 */
export async function admitSession(
  request: SessionRequest,
  config: ServerConfig,
): Promise<CreateSessionOptions> {
  const agent = request.agent ?? config.default_agent
  if (config.agents[agent] === undefined) {
    throw new SessionManagerError({
      reason: "UnknownAgent",
      message: `unknown agent ${JSON.stringify(agent)}; configured agents: ${Object.keys(config.agents).join(", ")}`,
    })
  }
  const skipPermissions = request.skipPermissions === true
  if (skipPermissions && !config.allow_skip_permissions) {
    throw new SessionManagerError({
      reason: "PolicySkipPermissions",
      message:
        "dangerously_skip_permissions is not allowed on this host (config allow_skip_permissions is false)",
    })
  }
  if (request.bundleId !== undefined) {
    requireRemoteSessions(config, `remote sessions (bundle_id ${JSON.stringify(request.bundleId)})`)
  }
  let cloneUrl: string | undefined
  if (request.cloneUrl !== undefined) {
    if (request.bundleId !== undefined || request.cwd !== undefined) {
      throw new ServerError({
        reason: "BadRequest",
        message:
          "clone_url cannot be combined with bundle_id or cwd: a session's repository comes from one place",
      })
    }
    requireRemoteSessions(config, `remote sessions (clone_url ${JSON.stringify(request.cloneUrl)})`)
    cloneUrl = await admitCloneUrl(request.cloneUrl, config)
  }
  let workDir: string | undefined
  if (request.cwd !== undefined) workDir = await admitCwd(request.cwd, config.work_roots)
  return {
    agent,
    skipPermissions,
    ...(workDir === undefined ? {} : { workDir }),
    ...(request.prompt === undefined ? {} : { prompt: request.prompt }),
    ...(request.title === undefined ? {} : { title: request.title }),
    ...(request.bundleId === undefined ? {} : { bundleId: request.bundleId }),
    ...(cloneUrl === undefined ? {} : { cloneUrl }),
    ...(cloneUrl === undefined || request.cloneRef === undefined ? {} : { cloneRef: request.cloneRef }),
  }
}

async function admitCwd(cwd: string, roots: ReadonlyArray<string>): Promise<string> {
  if (!isAbsolute(cwd)) {
    throw new SessionManagerError({
      reason: "CwdInvalid",
      message: `cwd ${JSON.stringify(cwd)} is not an absolute path`,
    })
  }
  let real: string
  try {
    real = await realpath(cwd)
  } catch (cause) {
    throw new SessionManagerError({
      reason: "CwdInvalid",
      message: `cwd ${JSON.stringify(cwd)} does not exist or cannot be resolved (${(cause as NodeJS.ErrnoException).code ?? "error"})`,
      cause,
    })
  }
  const allowed = await realRoots(roots)
  if (!allowed.some((root) => inside(real, root))) {
    throw new SessionManagerError({
      reason: "PolicyCwd",
      message: `cwd ${JSON.stringify(cwd)} (real path ${JSON.stringify(real)}) is outside the allowed work roots: ${roots.join(", ")}`,
    })
  }
  if (!(await stat(real)).isDirectory()) {
    throw new SessionManagerError({
      reason: "CwdInvalid",
      message: `cwd ${JSON.stringify(cwd)} is not a directory`,
    })
  }
  return real
}

/** Creates sessions through the policy and the live-session cap; everything else goes to `manager`. */
export interface SessionGate {
  readonly manager: SessionManager
  create(request: SessionRequest): Promise<SessionHandle>
}

/**
 * Puts the policy in front of a session manager. The cap counts sessions being created too, so two requests
 * racing for the last slot cannot both get it.
 */
export function makeSessionGate(manager: SessionManager, config: ServerConfig): SessionGate {
  let creating = 0
  return {
    manager,
    async create(request) {
      const options = await admitSession(request, config)
      const count = liveSessionCount(manager) + creating
      if (count >= config.max_sessions) {
        throw new SessionManagerError({
          reason: "MaxSessions",
          message: `the host already runs ${count} sessions (config max_sessions is ${config.max_sessions}); end one first`,
        })
      }
      creating++
      try {
        return await manager.create(options)
      } finally {
        creating--
      }
    },
  }
}
