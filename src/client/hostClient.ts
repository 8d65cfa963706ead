import { isRecord, type SdkMessage } from "./clientMessages.js"
import { badResponse, type HostEndpoint, hostEndpoint, requestJson } from "./hostRequest.js"

/** The body of `POST /sessions` (SPEC §4), in the host's snake_case. */
export interface CreateSessionBody {
  readonly cwd?: string
  readonly prompt?: string
  readonly agent?: string
  readonly title?: string
  readonly bundle_id?: string
  /** A repository the host clones itself (one it listed in `POST /host/reachable-remotes`). */
  readonly clone_url?: string
  /** Branch or commit of `clone_url` to check out. */
  readonly clone_ref?: string
  readonly dangerously_skip_permissions?: boolean
}

/** The 201 answer to `POST /sessions`. */
export interface CreatedSession {
  readonly session_id: string
  readonly ws_url: string
  readonly work_dir: string
  readonly status: string
}

/**
 * A session as `GET /sessions[/:id]` describes it. The fields SPEC §4 names are typed; anything else the host
 * adds is kept.
 */
export interface HostSessionInfo {
  readonly id: string
  readonly title: string
  readonly status: string
  readonly agent: string
  readonly work_dir: string
  readonly start_time: string
  readonly todo_list?: ReadonlyArray<unknown>
  /** Highest history `seq` so far, when the host reports it. */
  readonly last_seq?: number
  readonly [field: string]: unknown
}

/** Options of {@link HostClient}. */
export interface HostClientOptions {
  readonly serverUrl: string
  readonly authToken: string
  /** Per-request limit; a host that does not answer in time is `Unreachable`. Default 30 s. */
  readonly timeoutMs?: number
}

/**
 * The REST half of the direct-connect client (SPEC §4): every call sends the bearer token and turns a non-2xx
 * answer into a {@link DirectConnectError} carrying the host's `{ error: { code, message } }`.
 *
 * @example
 * const host = new HostClient({ serverUrl: "http://127.0.0.1:7420", authToken: readTokenFile(path) })
 * for (const s of await host.listSessions()) console.log(s.id, s.status)
 */
export class HostClient {
  readonly serverUrl: string
  private readonly endpoint: HostEndpoint

  constructor(options: HostClientOptions) {
    this.endpoint = hostEndpoint(options)
    this.serverUrl = this.endpoint.serverUrl
  }

  /** `POST /sessions`. */
  async createSession(body: CreateSessionBody): Promise<CreatedSession> {
    const url = `${this.serverUrl}/sessions`
    const value = await this.request("POST", "/sessions", body)
    if (
      !isRecord(value) ||
      typeof value.session_id !== "string" ||
      typeof value.ws_url !== "string" ||
      typeof value.work_dir !== "string"
    ) {
      throw badResponse(url, "POST /sessions did not answer { session_id, ws_url, work_dir }", value)
    }
    return {
      session_id: value.session_id,
      ws_url: value.ws_url,
      work_dir: value.work_dir,
      status: typeof value.status === "string" ? value.status : "starting",
    }
  }

  /** `GET /sessions`. Accepts a bare array or `{ sessions: [...] }`. */
  async listSessions(): Promise<ReadonlyArray<HostSessionInfo>> {
    const value = await this.request("GET", "/sessions")
    const list = Array.isArray(value) ? value : isRecord(value) ? value.sessions : undefined
    if (!Array.isArray(list))
      throw badResponse(`${this.serverUrl}/sessions`, "GET /sessions is not a list", value)
    return list.map((item) => toSessionInfo(`${this.serverUrl}/sessions`, item))
  }

  /** `GET /sessions/:id`. */
  async getSession(sessionId: string): Promise<HostSessionInfo> {
    const path = `/sessions/${encodeURIComponent(sessionId)}`
    return toSessionInfo(`${this.serverUrl}${path}`, await this.request("GET", path))
  }

  /** `DELETE /sessions/:id`: ends the agent; the session becomes `killed`. */
  async killSession(sessionId: string): Promise<HostSessionInfo | undefined> {
    const path = `/sessions/${encodeURIComponent(sessionId)}`
    const value = await this.request("DELETE", path)
    return isRecord(value) && typeof value.id === "string"
      ? toSessionInfo(`${this.serverUrl}${path}`, value)
      : undefined
  }

  /** `GET /sessions/:id/messages?after=N`: the history from seq N+1. Accepts an array or `{ messages }`. */
  async getMessages(sessionId: string, afterSeq = 0): Promise<ReadonlyArray<SdkMessage>> {
    const path = `/sessions/${encodeURIComponent(sessionId)}/messages?after=${afterSeq}`
    const value = await this.request("GET", path)
    const list = Array.isArray(value) ? value : isRecord(value) ? value.messages : undefined
    if (!Array.isArray(list) || !list.every((m) => isRecord(m) && typeof m.type === "string")) {
      throw badResponse(`${this.serverUrl}${path}`, "the message log is not a list of messages", value)
    }
    return list as ReadonlyArray<SdkMessage>
  }

  private request(method: string, path: string, body?: unknown): Promise<unknown> {
    return requestJson(this.endpoint, method, path, { body })
  }
}

function toSessionInfo(url: string, value: unknown): HostSessionInfo {
  if (!isRecord(value) || typeof value.id !== "string" || typeof value.status !== "string") {
    throw badResponse(url, "a session must have string id and status", value)
  }
  const text = (field: string) => (typeof value[field] === "string" ? (value[field] as string) : "")
  return {
    ...value,
    id: value.id,
    status: value.status,
    title: text("title"),
    agent: text("agent"),
    work_dir: text("work_dir"),
    start_time: text("start_time"),
  }
}
