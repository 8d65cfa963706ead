import type { IncomingMessage } from "node:http"
import { ServerError } from "./serverError.js"

/** The subprotocol a WebSocket client offers (and the server selects) to speak SPEC §5. */
export const WS_SUBPROTOCOL = "agenthost.v1"

/**
 * Prefix of the subprotocol that carries the token for browsers, which cannot set `Authorization` on a
 * WebSocket: `new WebSocket(url, ["agenthost.v1", "agenthost.bearer." + token])`. The server selects
 * `agenthost.v1`, so the token is never echoed back.
 */
export const WS_BEARER_PROTOCOL_PREFIX = "agenthost.bearer."

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The token a request presents: `Authorization: Bearer`, or (WebSocket upgrades only) the bearer subprotocol. */
export function presentedToken(req: IncomingMessage, allowSubprotocol: boolean): string | undefined {
  const header = req.headers.authorization
  if (header !== undefined) return BEARER.exec(header)?.[1] ?? ""
  if (allowSubprotocol) {
    const offered = req.headers["sec-websocket-protocol"]
    if (offered !== undefined) {
      for (const p of offered.split(",")) {
        const proto = p.trim()
        if (proto.startsWith(WS_BEARER_PROTOCOL_PREFIX)) return proto.slice(WS_BEARER_PROTOCOL_PREFIX.length)
      }
    }
  }
  return undefined
}

/**
 * Checks a request's token; throws {@link ServerError} `AuthRequired` (none presented) or `AuthInvalid`
 * (wrong, or an `Authorization` header that is not a bearer token).
 */
export function authenticate(
  req: IncomingMessage,
  verify: (token: string) => boolean,
  allowSubprotocol = false,
): void {
  const token = presentedToken(req, allowSubprotocol)
  if (token === undefined) {
    throw new ServerError({
      reason: "AuthRequired",
      message: "this route needs `Authorization: Bearer <token>`; the token is in <home>/token on the host",
      headers: { "www-authenticate": 'Bearer realm="agenthost"' },
    })
  }
  if (token === "" || !verify(token)) {
    throw new ServerError({
      reason: "AuthInvalid",
      message: "the bearer token is not this host's token",
      headers: { "www-authenticate": 'Bearer realm="agenthost", error="invalid_token"' },
    })
  }
}
