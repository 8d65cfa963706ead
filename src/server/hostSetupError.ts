import { CodedError } from "../errors/codedError.js"
/** Why `<home>` or its config could not be prepared. Each reason has one stable code (docs/errors.md). */
export type HostSetupErrorReason =
  | "ConfigInvalid"
  | "TokenInsecure"
  | "TokenInvalid"
  | "HomeUnusable"
  | "ListenFailed"

export const HOST_SETUP_ERROR_CODES: Readonly<Record<HostSetupErrorReason, string>> = {
  ConfigInvalid: "AGH_CONFIG_INVALID",
  TokenInsecure: "AGH_TOKEN_INSECURE",
  TokenInvalid: "AGH_TOKEN_INVALID",
  HomeUnusable: "AGH_HOME_UNUSABLE",
  ListenFailed: "AGH_LISTEN_FAILED",
}

/** The host cannot start: bad config, an unsafe token file, an unusable home or a port that cannot be bound. */
export class HostSetupError extends CodedError("HostSetupError", HOST_SETUP_ERROR_CODES)<{
  /** The file or directory the error is about. */
  readonly path?: string
}> {}
