import { EventLogError } from "./eventLogError.js"
import { LOG_FORMAT_VERSION } from "./logRecord.js"

/** A corrupt frame in `path` at byte `offset`. */
export const badFrame = (path: string, offset: number, why: string): EventLogError =>
  new EventLogError({
    reason: "BadFrame",
    location: path,
    offset,
    message: `corrupt event log ${path} at byte offset ${offset}: ${why}`,
  })

/** A log written in a format version this build does not know. */
export const unknownVersion = (path: string, version: unknown, offset: number): EventLogError =>
  new EventLogError({
    reason: "UnknownVersion",
    location: path,
    offset,
    message: `event log ${path} has format version ${String(version)} (byte offset ${offset}); this build reads version ${LOG_FORMAT_VERSION}`,
  })

/** No log file at `path`. */
export const fileNotFound = (path: string, stream?: string): EventLogError =>
  new EventLogError({
    reason: "NotFound",
    location: path,
    ...(stream === undefined ? {} : { stream }),
    message:
      stream === undefined
        ? `no event log file ${path}`
        : `no event log stream ${JSON.stringify(stream)} (no file ${path})`,
  })

const UNREADABLE_CODES = new Set(["EACCES", "EPERM", "EISDIR", "ENOTDIR", "ELOOP", "EIO", "ENXIO", "EBADF"])

/**
 * Maps whatever a file operation threw: an {@link EventLogError} passes through, ENOENT is `NotFound`,
 * other errors are `Unreadable` (when `writing` is false) or `WriteFailed`.
 */
export function fileFailure(
  path: string,
  err: unknown,
  what: string,
  options: { readonly stream?: string; readonly writing?: boolean } = {},
): EventLogError {
  if (err instanceof EventLogError) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === "ENOENT") return fileNotFound(path, options.stream)
  const writing = options.writing === true && !UNREADABLE_CODES.has(code ?? "")
  return new EventLogError({
    reason: writing ? "WriteFailed" : "Unreadable",
    location: path,
    ...(options.stream === undefined ? {} : { stream: options.stream }),
    message: `cannot ${what} event log ${path}: ${(err as Error | undefined)?.message ?? String(err)}`,
    cause: err,
  })
}
