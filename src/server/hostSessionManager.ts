import { mkdirSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { agentDefinitionFromConfig } from "../adapters/agentDefinition.js"
import { type AgentLauncherShape, makeLiveAgentLauncher } from "../adapters/agentProcess.js"
import type { ClockShape } from "../adapters/clock.js"
import { Git } from "../adapters/git.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import { openMachineRuntime } from "../effects/openMachineRuntime.js"
import type { SessionHandle, SessionInfo } from "../effects/sessionHandle.js"
import { type SessionRuntime, startSessionRuntime } from "../effects/sessionRuntime.js"
import type { Durability } from "../eventlog/eventLog.js"
import { fileEventLogLayer } from "../eventlog/fileEventLog.js"
import type { BundleStore } from "../teleport/bundleStore.js"
import { prepareWorkspace, type WorkspaceSource } from "../teleport/workspace.js"
import type { ServerConfig } from "./config.js"
import type { HomeLayout } from "./home.js"
import { type CreateSessionOptions, type SessionManager, SessionManagerError } from "./sessionManager.js"

export interface HostSessionManagerDeps {
  readonly config: ServerConfig
  readonly home: HomeLayout
  readonly clock: ClockShape
  readonly ids?: IdsShape
  readonly launcher?: AgentLauncherShape
  /** The host's environment; agents only see what the allow-list lets through. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>
  readonly durability?: Durability
  /** Where uploaded bundles live (teleport). Without it, `bundle_id` sessions are refused. */
  readonly bundles?: BundleStore
  /** Sessions recovered from the logs of an earlier run (see `recoverSessions`). */
  readonly recovered?: ReadonlyArray<SessionHandle>
  /** Diagnostics, one line each. */
  readonly log?: (line: string) => void
}

/** How long a killed agent gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 3_000

/**
 * The host's sessions: each a session runtime on its own event-log stream `<home>/logs/<session id>.aglog`,
 * its agent in its own work directory. Policy is checked in front of it (the server's session gate).
 */
export function createHostSessionManager(deps: HostSessionManagerDeps): SessionManager {
  const ids = deps.ids ?? liveIds
  const launcher = deps.launcher ?? makeLiveAgentLauncher(deps.clock)
  const sessions = new Map<string, SessionHandle>()
  for (const handle of deps.recovered ?? []) sessions.set(handle.id, handle)
  const live = new Set<SessionRuntime>()
  const closers = new Set<Promise<void>>()
  let shuttingDown = false

  const prepareWorkDir = async (sessionId: string, options: CreateSessionOptions) => {
    const workRoot = deps.config.work_roots[0] as string
    let source: WorkspaceSource | undefined
    if (options.bundleId !== undefined) {
      if (deps.bundles === undefined) {
        throw new SessionManagerError({
          reason: "CreateFailed",
          message: "this host does not accept bundles",
        })
      }
      source = { bundleId: options.bundleId, bundles: deps.bundles }
    } else if (options.cloneUrl !== undefined) {
      source =
        options.cloneRef === undefined
          ? { cloneUrl: options.cloneUrl }
          : { cloneUrl: options.cloneUrl, ref: options.cloneRef }
    }
    if (source !== undefined) {
      const workspace = await Effect.runPromise(
        prepareWorkspace({ source, workRoot, sessionId }).pipe(Effect.provide(Git.layer)),
      )
      return workspace.workDir
    }
    if (options.workDir !== undefined) return options.workDir
    const dir = join(workRoot, sessionId)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    return dir
  }

  const create = async (options: CreateSessionOptions): Promise<SessionHandle> => {
    if (shuttingDown) {
      throw new SessionManagerError({ reason: "CreateFailed", message: "the host is shutting down" })
    }
    const agentConfig = deps.config.agents[options.agent]
    if (agentConfig === undefined) {
      throw new SessionManagerError({
        reason: "UnknownAgent",
        message: `no agent named ${JSON.stringify(options.agent)}`,
      })
    }
    const sessionId = ids.sessionId()
    let workDir: string
    try {
      workDir = await prepareWorkDir(sessionId, options)
    } catch (cause) {
      if (cause instanceof SessionManagerError) throw cause
      const code = (cause as { code?: unknown }).code
      if (code === "AGH_BUNDLE_NOT_FOUND") {
        throw new SessionManagerError({ reason: "BundleNotFound", message: (cause as Error).message, cause })
      }
      // A bundle that cannot become a workspace is useless: it goes, like the bundle of an ended session.
      if (options.bundleId !== undefined && deps.bundles !== undefined) {
        await Effect.runPromise(Effect.ignore(deps.bundles.delete(options.bundleId)))
      }
      throw new SessionManagerError({
        reason: "CreateFailed",
        message: `cannot prepare the work directory: ${typeof code === "string" ? `${code}: ` : ""}${(cause as Error).message ?? String(cause)}`,
        cause,
      })
    }
    const { runtime, close } = await openMachineRuntime({
      eventLog: fileEventLogLayer({
        dir: deps.home.logsDir,
        ...(deps.durability === undefined ? {} : { durability: deps.durability }),
      }),
      clock: deps.clock,
      stream: sessionId,
      open: { meta: { kind: "session", agent: options.agent } },
    })
    let session: SessionRuntime
    try {
      session = await startSessionRuntime({
        runtime,
        input: {
          sessionId,
          agent: options.agent,
          workDir,
          createdAt: deps.clock.now(),
          title: options.title ?? options.prompt?.slice(0, 80) ?? "",
          skipPermissions: options.skipPermissions,
          permissionTimeoutMs: deps.config.permission_timeout_ms,
        },
        agentDefinition: agentDefinitionFromConfig(agentConfig),
        launcher,
        clock: deps.clock,
        ids,
        hostEnv: deps.hostEnv,
        killGraceMs: KILL_GRACE_MS,
      })
    } catch (cause) {
      await close()
      throw new SessionManagerError({
        reason: "CreateFailed",
        message: `the session could not start: ${(cause as Error).message ?? String(cause)}`,
        cause,
      })
    }
    sessions.set(sessionId, session)
    live.add(session)
    const closer = session.whenDone().then(async () => {
      live.delete(session)
      await close().catch((error: unknown) =>
        deps.log?.(`AGH_LOG_WRITE_FAILED closing ${sessionId}: ${String(error)}`),
      )
      if (options.bundleId !== undefined && deps.bundles !== undefined) {
        await Effect.runPromise(Effect.ignore(deps.bundles.delete(options.bundleId)))
      }
    })
    closers.add(closer)
    void closer.finally(() => closers.delete(closer))
    if (options.prompt !== undefined && options.prompt !== "") {
      await session.sendUserMessage({ type: "user", message: { role: "user", content: options.prompt } })
    }
    return session
  }

  return {
    create,
    get: (id) => sessions.get(id),
    list: () => [...sessions.values()],
    async kill(id, reason) {
      const session = sessions.get(id)
      if (session === undefined) return undefined
      await session.kill(reason ?? "killed on request")
      return session.whenDone()
    },
    async shutdown() {
      shuttingDown = true
      await Promise.all(
        [...live].map((s) => s.kill("the host shut down").catch(() => undefined) as Promise<unknown>),
      )
      await Promise.all([...closers])
    },
  }
}

export type { SessionInfo }
