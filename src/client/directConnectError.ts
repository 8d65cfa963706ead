import { CodedError, codeTable } from "../errors/codedError.js"
/** The default stable code of each reason (docs/errors.md); the host's own code wins when it sent one. */
export const DIRECT_CONNECT_ERROR_CODES = codeTable({
  /** The host answered an HTTP request with a non-2xx status (its own code is kept when it sent one). */
  HttpStatus: "AGH_CLIENT_HTTP",
  /** The host refused the token (401). */
  Unauthorized: "AGH_CLIENT_UNAUTHORIZED",
  /** Nothing answered at the URL (connection refused, DNS, timeout). */
  Unreachable: "AGH_CLIENT_UNREACHABLE",
  /** The host answered, but not with what the protocol says (not JSON, missing fields). */
  BadResponse: "AGH_CLIENT_BAD_RESPONSE",
  /** The WebSocket upgrade was refused with a status other than 401. */
  UpgradeRejected: "AGH_CLIENT_WS_REJECTED",
  /** Reconnecting gave up after the configured number of attempts. */
  ReconnectFailed: "AGH_CLIENT_RECONNECT_FAILED",
  /** The token file is missing, unreadable or empty. */
  TokenFile: "AGH_CLIENT_TOKEN_FILE",
  /** `<home>/config.json` or `--url` cannot be turned into a server URL. */
  BadUrl: "AGH_CLIENT_BAD_URL",
  /** The host answered a frame of this client with `{ type: "error" }` (its code is kept). */
  HostRejected: "AGH_CLIENT_HOST_ERROR",
  /** History `seq` jumped (a host bug): reported, and the message is still delivered. */
  SeqGap: "AGH_CLIENT_SEQ_GAP",
  /** A callback of the embedding program threw; the connection carries on. */
  CallbackFailed: "AGH_CLIENT_CALLBACK_FAILED",
})

/** Why a direct-connect client operation failed: a key of {@link DIRECT_CONNECT_ERROR_CODES}. */
export type DirectConnectErrorReason = keyof typeof DIRECT_CONNECT_ERROR_CODES

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
