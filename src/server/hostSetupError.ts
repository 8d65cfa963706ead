import { CodedError, codeTable } from "../errors/codedError.js"
/** Stable code per reason (docs/errors.md). */
export const HOST_SETUP_ERROR_CODES = codeTable({
  ConfigInvalid: "AGH_CONFIG_INVALID",
  TokenInsecure: "AGH_TOKEN_INSECURE",
  TokenInvalid: "AGH_TOKEN_INVALID",
  HomeUnusable: "AGH_HOME_UNUSABLE",
  ListenFailed: "AGH_LISTEN_FAILED",
})

/** Why the host could not start: a key of {@link HOST_SETUP_ERROR_CODES}. */
export type HostSetupErrorReason = keyof typeof HOST_SETUP_ERROR_CODES

/** The host cannot start: bad config, an unsafe token file, an unusable home or a port that cannot be bound. */
export class HostSetupError extends CodedError("HostSetupError", HOST_SETUP_ERROR_CODES)<{
  /** The file or directory the error is about. */
  readonly path?: string
}> {}
