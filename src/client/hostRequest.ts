import { isRecord } from "./clientMessages.js"
import { DirectConnectError } from "./directConnectError.js"
import { normalizeServerUrl } from "./serverUrl.js"

/** A host and how to talk to it: what every REST client of this package holds. */
export interface HostEndpoint {
  /** Normalized: no trailing slash, so a path is appended as is. */
  readonly serverUrl: string
  readonly authToken: string
  /** Per-request limit; a host that does not answer in time is `Unreachable`. */
  readonly timeoutMs: number
}

/** Builds a {@link HostEndpoint} from client options: normalizes the URL, defaults the timeout to 30 s. */
export function hostEndpoint(options: {
  readonly serverUrl: string
  readonly authToken: string
  readonly timeoutMs?: number
}): HostEndpoint {
  return {
    serverUrl: normalizeServerUrl(options.serverUrl),
    authToken: options.authToken,
    timeoutMs: options.timeoutMs ?? 30_000,
  }
}

/** Options of one {@link requestJson} call. */
export interface RequestJsonOptions {
  /** Sent as JSON (with `content-type: application/json`) when given. */
  readonly body?: unknown
  /** Whether to send the bearer token. Default true; only `/healthz` is called without it (SPEC §4). */
  readonly auth?: boolean
}

/**
 * One JSON request to the host (SPEC §4). Resolves to the decoded answer (`undefined` for an empty body).
 *
 * @throws DirectConnectError `Unreachable` (no answer, naming method, URL and why), `Unauthorized` / `HttpStatus`
 *   (non-2xx, keeping the host's code) or `BadResponse` (a 2xx that is not JSON).
 * @example
 * const value = await requestJson(hostEndpoint({ serverUrl, authToken }), "GET", "/sessions")
 */
export async function requestJson(
  endpoint: HostEndpoint,
  method: string,
  path: string,
  options: RequestJsonOptions = {},
): Promise<unknown> {
  const { body, auth = true } = options
  const url = `${endpoint.serverUrl}${path}`
  const headers: Record<string, string> = { accept: "application/json" }
  if (auth) headers.authorization = `Bearer ${endpoint.authToken}`
  if (body !== undefined) headers["content-type"] = "application/json"
  let response: Response
  let text: string
  try {
    response = await fetch(url, {
      method,
      headers,
      signal: AbortSignal.timeout(endpoint.timeoutMs),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    text = await response.text()
  } catch (cause) {
    throw new DirectConnectError({
      reason: "Unreachable",
      message: `${method} ${url} failed: ${describeFetchFailure(cause)}`,
      url,
      cause,
    })
  }
  const value = parseJson(text)
  if (!response.ok) throw httpError(method, url, response.status, value, text)
  if (value === undefined && text.trim() !== "")
    throw badResponse(url, `${method} ${path} answered non-JSON`, text)
  return value
}

/** The JSON in `text`, or `undefined` when it is empty or not JSON (the caller decides whether that is bad). */
export function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Builds the error for a non-2xx answer, keeping the host's own code and message when it sent them. */
export function httpError(
  method: string,
  url: string,
  status: number,
  body: unknown,
  text = "",
): DirectConnectError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined
  const hostCode = typeof error?.code === "string" ? error.code : undefined
  const hostMessage = typeof error?.message === "string" ? error.message : text.trim().slice(0, 200)
  const detail = hostMessage === "" ? "" : `: ${hostMessage}`
  return new DirectConnectError({
    reason: status === 401 ? "Unauthorized" : "HttpStatus",
    message:
      status === 401
        ? `${method} ${url} was refused with 401 (the token is wrong or missing)${detail}`
        : `${method} ${url} answered ${status}${detail}`,
    status,
    url,
    ...(hostCode === undefined ? {} : { hostCode }),
  })
}

/** A `BadResponse` naming what was expected and showing the start of what `url` sent instead. */
export function badResponse(url: string, message: string, value: unknown): DirectConnectError {
  const shown = typeof value === "string" ? value : JSON.stringify(value)
  return new DirectConnectError({
    reason: "BadResponse",
    message: `${message} (${url} sent ${String(shown).slice(0, 200)})`,
    url,
  })
}

/** Why fetch failed, in the words that help: the system error code (`ECONNREFUSED ...`) or the timeout. */
function describeFetchFailure(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause)
  if (cause.name === "TimeoutError") return "no answer in time"
  // undici wraps the socket error: its code is what the user can act on.
  const inner = (cause as { cause?: unknown }).cause
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code
    return typeof code === "string" ? `${code} ${inner.message}` : inner.message
  }
  return cause.message
}
