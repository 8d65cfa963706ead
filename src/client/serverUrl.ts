import { readFileSync } from "node:fs"
import { join } from "node:path"
import { isRecord } from "./clientMessages.js"
import { DirectConnectError } from "./directConnectError.js"

/** Where a client connects when nothing says otherwise (SPEC §4 default bind). */
export const DEFAULT_SERVER_URL = "http://127.0.0.1:7420"

/**
 * The server URL a client uses: `--url` if given, else `host`/`port` from `<home>/config.json` (the file
 * `agenthost serve` writes), else {@link DEFAULT_SERVER_URL}. A wildcard bind address (`0.0.0.0`, `::`)
 * is reached through loopback, since it is not an address one can connect to.
 *
 * @throws DirectConnectError `BadUrl` when `--url` is not an http(s) URL or config.json is not valid JSON.
 */
export function resolveServerUrl(home: string, urlFlag?: string): string {
  if (urlFlag !== undefined && urlFlag !== "") return normalizeServerUrl(urlFlag)
  const path = join(home, "config.json")
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch {
    return DEFAULT_SERVER_URL
  }
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch (cause) {
    throw new DirectConnectError({ reason: "BadUrl", message: `${path} is not valid JSON`, cause })
  }
  if (!isRecord(config)) return DEFAULT_SERVER_URL
  const host = typeof config.host === "string" && config.host !== "" ? config.host : "127.0.0.1"
  const port = typeof config.port === "number" && Number.isInteger(config.port) ? config.port : 7420
  if (port <= 0 || port > 65535) {
    throw new DirectConnectError({
      reason: "BadUrl",
      message: `${path} has port ${port}, which a client cannot connect to (1..65535)`,
    })
  }
  return `http://${formatHost(connectableHost(host))}:${port}`
}

/** Checks an http(s) URL and strips a trailing slash so paths can be appended. */
export function normalizeServerUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch (cause) {
    throw new DirectConnectError({
      reason: "BadUrl",
      message: `--url ${JSON.stringify(raw)} is not a URL`,
      cause,
    })
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DirectConnectError({
      reason: "BadUrl",
      message: `--url ${JSON.stringify(raw)} must start with http:// or https://`,
    })
  }
  return url.href.replace(/\/+$/, "")
}

/**
 * The WebSocket URL for a session: the host's `ws_url` resolved against the server URL, with the scheme and a
 * wildcard host taken from the server URL (a host bound to 0.0.0.0 may report that address).
 */
export function resolveWsUrl(serverUrl: string, wsUrl: string | undefined, sessionId: string): string {
  const base = new URL(serverUrl)
  const url = new URL(wsUrl ?? `/sessions/${encodeURIComponent(sessionId)}/ws`, base)
  if (url.protocol === "http:") url.protocol = "ws:"
  else if (url.protocol === "https:") url.protocol = "wss:"
  if (isWildcard(url.hostname)) url.host = base.host
  return url.href
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]"
}

function connectableHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1"
  if (host === "::" || host === "[::]") return "::1"
  return host
}

function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host
}
