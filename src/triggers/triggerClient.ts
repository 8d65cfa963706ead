import { isRecord } from "../client/clientMessages.js"
import type { DirectConnectError } from "../client/directConnectError.js"
import type { HostClientOptions } from "../client/hostClient.js"
import { badResponse, type HostEndpoint, hostEndpoint, requestJson } from "../client/hostRequest.js"

/** A trigger as the host describes it (schema `Trigger` of `GET /openapi.json`); unknown fields are kept. */
export interface TriggerJson {
  readonly id: string
  readonly name: string
  readonly enabled: boolean
  readonly [field: string]: unknown
}

/** The answer to `POST /v1/code/triggers/:id/run`. */
export interface TriggerRunJson {
  readonly trigger_id: string
  readonly run_id: string
  readonly session_id: string
  readonly ws_url: string
}

const BASE = "/v1/code/triggers"

/**
 * The client of `/v1/code/triggers` (SPEC §4). Like `HostClient`, it holds the token in memory and adds it
 * to each request itself — it never goes to argv, the environment or a log — and turns a non-2xx answer
 * into a {@link DirectConnectError} carrying the host's code (`AGH_TRIGGER_NOT_FOUND`, ...).
 *
 * @example
 * const { serverUrl, authToken } = resolveClientTarget({ home })
 * const triggers = await new TriggerClient({ serverUrl, authToken }).list()
 */
export class TriggerClient {
  readonly serverUrl: string
  private readonly endpoint: HostEndpoint

  constructor(options: HostClientOptions) {
    this.endpoint = hostEndpoint(options)
    this.serverUrl = this.endpoint.serverUrl
  }

  async list(): Promise<ReadonlyArray<TriggerJson>> {
    const value = await this.request("GET", BASE)
    const list = isRecord(value) ? value.triggers : undefined
    if (!Array.isArray(list)) throw this.bad(BASE, "GET /v1/code/triggers is not { triggers: [...] }", value)
    return list.map((item) => this.trigger(BASE, item))
  }

  async get(id: string): Promise<TriggerJson> {
    const path = `${BASE}/${encodeURIComponent(id)}`
    return this.trigger(path, await this.request("GET", path))
  }

  async create(body: Readonly<Record<string, unknown>>): Promise<TriggerJson> {
    return this.trigger(BASE, await this.request("POST", BASE, body))
  }

  async update(id: string, body: Readonly<Record<string, unknown>>): Promise<TriggerJson> {
    const path = `${BASE}/${encodeURIComponent(id)}`
    return this.trigger(path, await this.request("POST", path, body))
  }

  async delete(id: string): Promise<void> {
    await this.request("DELETE", `${BASE}/${encodeURIComponent(id)}`)
  }

  async run(id: string, options: { readonly force?: boolean } = {}): Promise<TriggerRunJson> {
    const path = `${BASE}/${encodeURIComponent(id)}/run`
    const value = await this.request("POST", path, options.force === true ? { force: true } : undefined)
    if (
      !isRecord(value) ||
      typeof value.session_id !== "string" ||
      typeof value.ws_url !== "string" ||
      typeof value.run_id !== "string"
    ) {
      throw this.bad(path, "a run must answer { run_id, session_id, ws_url }", value)
    }
    return {
      trigger_id: typeof value.trigger_id === "string" ? value.trigger_id : id,
      run_id: value.run_id,
      session_id: value.session_id,
      ws_url: value.ws_url,
    }
  }

  private trigger(path: string, value: unknown): TriggerJson {
    if (!isRecord(value) || typeof value.id !== "string" || typeof value.name !== "string") {
      throw this.bad(path, "a trigger must have string id and name", value)
    }
    return { ...value, id: value.id, name: value.name, enabled: value.enabled !== false }
  }

  private bad(path: string, message: string, value: unknown): DirectConnectError {
    return badResponse(`${this.serverUrl}${path}`, message, value)
  }

  private request(method: string, path: string, body?: unknown): Promise<unknown> {
    return requestJson(this.endpoint, method, path, { body })
  }
}
