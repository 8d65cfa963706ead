import { HttpCodedError, httpCodeTable } from "../errors/codedError.js"
import { messageOf } from "../errors/messageOf.js"
/** Stable code and the HTTP status a route answers with, per reason (docs/errors.md). */
export const TELEPORT_ERRORS = httpCodeTable({
  NotARepo: { code: "AGH_GIT_NOT_A_REPO", status: 400 },
  BranchExists: { code: "AGH_GIT_BRANCH_EXISTS", status: 409 },
  BranchCheckedOut: { code: "AGH_GIT_BRANCH_CHECKED_OUT", status: 409 },
  BadSessionId: { code: "AGH_TELEPORT_BAD_SESSION_ID", status: 400 },
  BundleTooLarge: { code: "AGH_BUNDLE_TOO_LARGE", status: 413 },
  BundleInvalid: { code: "AGH_BUNDLE_INVALID", status: 400 },
  BundleNotFound: { code: "AGH_BUNDLE_NOT_FOUND", status: 404 },
  UploadFailed: { code: "AGH_BUNDLE_UPLOAD_FAILED", status: 400 },
  DiskFull: { code: "AGH_DISK_FULL", status: 507 },
  WorkspaceExists: { code: "AGH_WORKSPACE_EXISTS", status: 409 },
  WorkspaceEscape: { code: "AGH_WORKSPACE_ESCAPE", status: 400 },
  RemoteUnreachable: { code: "AGH_GIT_REMOTE_UNREACHABLE", status: 400 },
  RefNotFound: { code: "AGH_GIT_REF_NOT_FOUND", status: 400 },
  Io: { code: "AGH_TELEPORT_IO", status: 500 },
})

/** Why a teleport step (snapshot, bundle, workspace, pull-back) failed: a key of {@link TELEPORT_ERRORS}. */
export type TeleportErrorReason = keyof typeof TELEPORT_ERRORS

/**
 * A teleport failure. The message names the directory, file, bundle, branch or limit involved; `path` is the
 * file or directory when there is one.
 */
export class TeleportError extends HttpCodedError("TeleportError", TELEPORT_ERRORS)<{
  readonly path?: string
}> {}

/** Maps a Node file-system error: a full disk or quota is `DiskFull`, anything else `Io`. */
export function fsFailure(what: string, path: string, error: unknown): TeleportError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const detail = messageOf(error)
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new TeleportError({
      reason: "DiskFull",
      message: `disk full while ${what} ${path}: ${detail}`,
      path,
      cause: error,
    })
  }
  return new TeleportError({ reason: "Io", message: `${what} ${path} failed: ${detail}`, path, cause: error })
}
