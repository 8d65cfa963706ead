import { CodedError } from "../errors/codedError.js"
/** Why a direct-connect client operation failed. Each reason has a default stable code (docs/errors.md). */
export type DirectConnectErrorReason =
  /** The host answered an HTTP request with a non-2xx status (its own code is kept when it sent one). */
  | "HttpStatus"
  /** The host refused the token (401). */
  | "Unauthorized"
  /** Nothing answered at the URL (connection refused, DNS, timeout). */
  | "Unreachable"
  /** The host answered, but not with what the protocol says (not JSON, missing fields). */
  | "BadResponse"
  /** The WebSocket upgrade was refused with a status other than 401. */
  | "UpgradeRejected"
  /** Reconnecting gave up after the configured number of attempts. */
  | "ReconnectFailed"
  /** The token file is missing, unreadable or empty. */
  | "TokenFile"
  /** `<home>/config.json` or `--url` cannot be turned into a server URL. */
  | "BadUrl"
  /** The host answered a frame of this client with `{ type: "error" }` (its code is kept). */
  | "HostRejected"
  /** History `seq` jumped (a host bug): reported, and the message is still delivered. */
  | "SeqGap"
  /** A callback of the embedding program threw; the connection carries on. */
  | "CallbackFailed"

export const DIRECT_CONNECT_ERROR_CODES: Readonly<Record<DirectConnectErrorReason, string>> = {
  HttpStatus: "AGH_CLIENT_HTTP",
  Unauthorized: "AGH_CLIENT_UNAUTHORIZED",
  Unreachable: "AGH_CLIENT_UNREACHABLE",
  BadResponse: "AGH_CLIENT_BAD_RESPONSE",
  UpgradeRejected: "AGH_CLIENT_WS_REJECTED",
  ReconnectFailed: "AGH_CLIENT_RECONNECT_FAILED",
  TokenFile: "AGH_CLIENT_TOKEN_FILE",
  BadUrl: "AGH_CLIENT_BAD_URL",
  HostRejected: "AGH_CLIENT_HOST_ERROR",
  SeqGap: "AGH_CLIENT_SEQ_GAP",
  CallbackFailed: "AGH_CLIENT_CALLBACK_FAILED",
}

/**
 * A failure of the direct-connect client. `code` is the host's own code when the host sent one (for example
 * `AGH_POLICY_CWD` or `AGH_SESSION_NOT_FOUND`), else the default code of the `reason`.
 */
export class DirectConnectError extends CodedError("DirectConnectError", DIRECT_CONNECT_ERROR_CODES)<{
  /** The host's error code, when its response carried `{ error: { code } }`. */
  readonly hostCode?: string
  /** HTTP status of the response (or of the refused upgrade). */
  readonly status?: number
  /** The URL the request went to. */
  readonly url?: string
}> {
  override get code(): string {
    return this.hostCode ?? super.code
  }
}
