import type { SessionHandle } from "../effects/sessionHandle.js"
import { ServerError } from "./serverError.js"
import type { SessionManager } from "./sessionManager.js"

/** A query parameter that must be a non-negative integer (`digits` bounds its length); absent or empty: undefined. */
function nonNegativeIntParam(query: URLSearchParams, name: string, digits: RegExp): number | undefined {
  const raw = query.get(name)
  if (raw === null || raw === "") return undefined
  if (!digits.test(raw)) {
    throw new ServerError({
      reason: "BadRequest",
      message: `query parameter "${name}": expected a non-negative integer, got ${JSON.stringify(raw.slice(0, 64))}`,
    })
  }
  return Number(raw)
}

/** `?after=N`: a non-negative integer no greater than the session's last seq; 0 when absent. */
export function parseAfter(query: URLSearchParams, lastSeq: number): number {
  const after = nonNegativeIntParam(query, "after", /^\d{1,15}$/) ?? 0
  if (after > lastSeq) {
    throw new ServerError({
      reason: "BadRequest",
      message: `query parameter "after": ${after} is beyond the session's last seq ${lastSeq}`,
    })
  }
  return after
}

/** `?limit=N`: at most N rows; undefined (no limit) when absent. */
export function parseLimit(query: URLSearchParams): number | undefined {
  return nonNegativeIntParam(query, "limit", /^\d{1,9}$/)
}

/** The session a path names (`/sessions/:id...`), or 404 `AGH_SESSION_NOT_FOUND`. */
export function requireSession(sessions: Pick<SessionManager, "get">, id: string | undefined): SessionHandle {
  const handle = id === undefined ? undefined : sessions.get(id)
  if (handle === undefined) {
    throw new ServerError({ reason: "SessionNotFound", message: `no session ${JSON.stringify(id ?? "")}` })
  }
  return handle
}
