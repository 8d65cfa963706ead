import { HttpCodedError, httpCodeTable } from "../errors/codedError.js"
/** Code and HTTP status per reason: the two facts a client relies on (docs/errors.md). */
export const SERVER_ERRORS = httpCodeTable({
  AuthRequired: { code: "AGH_AUTH_REQUIRED", status: 401 },
  AuthInvalid: { code: "AGH_AUTH_INVALID", status: 401 },
  NotFound: { code: "AGH_NOT_FOUND", status: 404 },
  MethodNotAllowed: { code: "AGH_METHOD_NOT_ALLOWED", status: 405 },
  BodyTooLarge: { code: "AGH_BODY_TOO_LARGE", status: 413 },
  UnsupportedMediaType: { code: "AGH_UNSUPPORTED_MEDIA_TYPE", status: 415 },
  BadJson: { code: "AGH_BAD_JSON", status: 400 },
  BadRequest: { code: "AGH_BAD_REQUEST", status: 400 },
  SessionNotFound: { code: "AGH_SESSION_NOT_FOUND", status: 404 },
  UpgradeRequired: { code: "AGH_WS_UPGRADE_REQUIRED", status: 426 },
  ShuttingDown: { code: "AGH_SHUTTING_DOWN", status: 503 },
  Internal: { code: "AGH_INTERNAL", status: 500 },
})

/** Why an HTTP request was refused: a key of {@link SERVER_ERRORS}. */
export type ServerErrorReason = keyof typeof SERVER_ERRORS

/**
 * A request the server refuses. Route handlers throw it (or a {@link HttpError}-shaped error from a module
 * below, such as `SessionManagerError`); the router renders `{ error: { code, message } }` with the status.
 */
export class ServerError extends HttpCodedError("ServerError", SERVER_ERRORS)<{
  /** Extra response headers (e.g. `Allow` on 405, `WWW-Authenticate` on 401). */
  readonly headers?: Readonly<Record<string, string>>
}> {}

/** What the router needs to render any coded error as an HTTP response. */
export interface HttpError {
  readonly code: string
  readonly status: number
  readonly message: string
  readonly headers?: Readonly<Record<string, string>>
}

/** True for errors that know their own HTTP status and code (ServerError, SessionManagerError, ...). */
export function isHttpError(value: unknown): value is HttpError {
  if (typeof value !== "object" || value === null) return false
  const v = value as Partial<Record<keyof HttpError, unknown>>
  return typeof v.code === "string" && typeof v.status === "number" && typeof v.message === "string"
}

/** The JSON body of every error response (SPEC §4). */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } }
}
