import { HostClient } from "./hostClient.js"
import { normalizeServerUrl, resolveWsUrl } from "./serverUrl.js"

/** What a {@link DirectConnectSessionManager} needs to reach one session. */
export interface DirectConnectConfig {
  /** The host's HTTP base URL, e.g. `http://127.0.0.1:7420`. */
  readonly serverUrl: string
  readonly sessionId: string
  /** The session's WebSocket URL (without `?after=`; the manager adds its cursor). */
  readonly wsUrl: string
  readonly authToken: string
}

/** Options of {@link createDirectConnectSession} (camelCase; sent to the host as SPEC §4's snake_case body). */
export interface CreateDirectConnectSessionOptions {
  readonly serverUrl: string
  readonly authToken: string
  /** The directory the session works in; must lie inside one of the host's work roots. */
  readonly cwd?: string
  /** A first user message, queued by the host as the session starts. */
  readonly prompt?: string
  /** Agent name from the host's config (`builtin` by default). */
  readonly agent?: string
  readonly title?: string
  /** Run tools without asking; the host refuses unless its policy allows it. */
  readonly dangerouslySkipPermissions?: boolean
  /** HTTP request limit in ms (default 30 s). */
  readonly timeoutMs?: number
}

/** The answer of {@link createDirectConnectSession}. */
export interface DirectConnectSession {
  readonly config: DirectConnectConfig
  /** Where the host runs the session's agent. */
  readonly workDir: string
  /** The session's status right after creation (usually `starting`). */
  readonly status: string
}

/**
 * Creates a session on a host (`POST /sessions`) and returns what a {@link DirectConnectSessionManager} needs to
 * connect to it.
 *
 * @throws DirectConnectError with the host's code and status when the host refuses (for example
 * `AGH_POLICY_CWD`, 403), `Unauthorized` on 401, `Unreachable` when nothing answers.
 *
 * @example
 * const { config } = await createDirectConnectSession({ serverUrl, authToken, cwd: process.cwd(), prompt: "hi" })
 * const manager = new DirectConnectSessionManager(config, { onMessage: (m) => console.log(m) })
 * manager.connect()
 */
export async function createDirectConnectSession(
  options: CreateDirectConnectSessionOptions,
): Promise<DirectConnectSession> {
  const serverUrl = normalizeServerUrl(options.serverUrl)
  const host = new HostClient({
    serverUrl,
    authToken: options.authToken,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  })
  const created = await host.createSession({
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    ...(options.title === undefined ? {} : { title: options.title }),
    ...(options.dangerouslySkipPermissions === undefined
      ? {}
      : { dangerously_skip_permissions: options.dangerouslySkipPermissions }),
  })
  return {
    config: {
      serverUrl,
      sessionId: created.session_id,
      wsUrl: resolveWsUrl(serverUrl, created.ws_url, created.session_id),
      authToken: options.authToken,
    },
    workDir: created.work_dir,
    status: created.status,
  }
}

/** The config for attaching to an existing session by id (the host's WebSocket route of SPEC §4). */
export function directConnectConfigFor(
  serverUrl: string,
  sessionId: string,
  authToken: string,
): DirectConnectConfig {
  const base = normalizeServerUrl(serverUrl)
  return { serverUrl: base, sessionId, wsUrl: resolveWsUrl(base, undefined, sessionId), authToken }
}
