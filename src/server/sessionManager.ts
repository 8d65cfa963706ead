import type { SessionHandle, SessionInfo } from "../effects/sessionHandle.js"
import { HttpCodedError, httpCodeTable } from "../errors/codedError.js"

/** What a session is created with, after the host's policy checks (see `withSessionPolicy`). */
export interface CreateSessionOptions {
  /**
   * The session's work directory: an existing real path inside a configured work root. Absent: the manager
   * makes a fresh directory for the session under the first work root (`<root>/<session id>`).
   */
  readonly workDir?: string
  /** Sent as the session's first user message once the agent is ready. */
  readonly prompt?: string
  /** A key of the config's `agents`. */
  readonly agent: string
  readonly title?: string
  /** A git bundle uploaded with `POST /bundles`, to check out into the work directory (teleport). */
  readonly bundleId?: string
  /**
   * Teleport by clone: a repository the host reaches itself, already checked by the policy with
   * `reachableRemotes` against the work roots. Never together with `bundleId`.
   */
  readonly cloneUrl?: string
  /** Branch or commit of `cloneUrl` to check out (`prepareWorkspace`'s `ref`); default its HEAD. */
  readonly cloneRef?: string
  readonly skipPermissions: boolean
}

/**
 * The sessions of one host. The server talks only to this interface; the session runtime implements it and
 * `makeServer` wraps whatever it is given with the policy checks, so an implementation does not repeat them.
 */
export interface SessionManager {
  /** Starts a session. Rejects with {@link SessionManagerError}. */
  create(options: CreateSessionOptions): Promise<SessionHandle>
  get(id: string): SessionHandle | undefined
  /** Every session the host knows, live and ended, oldest first. */
  list(): ReadonlyArray<SessionHandle>
  /** Kills the session's agent and resolves with its final info; `undefined` for an unknown id. */
  kill(id: string, reason?: string): Promise<SessionInfo | undefined>
  /** Ends every live session and flushes their logs. Called once, when the host shuts down. */
  shutdown(): Promise<void>
}

/** Code and HTTP status per reason (docs/errors.md). */
export const SESSION_MANAGER_ERRORS = httpCodeTable({
  PolicyCwd: { code: "AGH_POLICY_CWD", status: 403 },
  PolicySkipPermissions: { code: "AGH_POLICY_SKIP_PERMISSIONS", status: 403 },
  PolicyRemoteSessions: { code: "AGH_POLICY_REMOTE_SESSIONS", status: 403 },
  PolicyCloneUrl: { code: "AGH_POLICY_CLONE_URL", status: 403 },
  MaxSessions: { code: "AGH_MAX_SESSIONS", status: 429 },
  UnknownAgent: { code: "AGH_UNKNOWN_AGENT", status: 400 },
  CwdInvalid: { code: "AGH_CWD_INVALID", status: 400 },
  NotImplemented: { code: "AGH_NOT_IMPLEMENTED", status: 501 },
  CreateFailed: { code: "AGH_SESSION_CREATE_FAILED", status: 500 },
  BundleNotFound: { code: "AGH_BUNDLE_NOT_FOUND", status: 404 },
})

/** Why a session could not be created or reached: a key of {@link SESSION_MANAGER_ERRORS}. */
export type SessionManagerErrorReason = keyof typeof SESSION_MANAGER_ERRORS

/** A session request refused by policy, or a session that failed to start. */
export class SessionManagerError extends HttpCodedError("SessionManagerError", SESSION_MANAGER_ERRORS) {}
