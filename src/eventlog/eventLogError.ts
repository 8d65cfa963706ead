import { CodedError, codeTable } from "../errors/codedError.js"
/** Stable code per reason (docs/errors.md). */
export const EVENT_LOG_ERROR_CODES = codeTable({
  BadFrame: "AGH_LOG_BAD_FRAME",
  UnknownVersion: "AGH_LOG_UNKNOWN_VERSION",
  Unreadable: "AGH_LOG_UNREADABLE",
  NotFound: "AGH_LOG_NOT_FOUND",
  InvalidStream: "AGH_LOG_INVALID_STREAM",
  AlreadyOpen: "AGH_LOG_ALREADY_OPEN",
  Closed: "AGH_LOG_CLOSED",
  WriteFailed: "AGH_LOG_WRITE_FAILED",
  BadRecord: "AGH_LOG_BAD_RECORD",
})

/** Why an event-log operation failed: a key of {@link EVENT_LOG_ERROR_CODES}. */
export type EventLogErrorReason = keyof typeof EVENT_LOG_ERROR_CODES

/** Code reported (not thrown) when opening a log truncates a torn tail. */
export const TORN_TAIL_CODE = "AGH_LOG_TORN_TAIL"

export class EventLogError extends CodedError("EventLogError", EVENT_LOG_ERROR_CODES)<{
  readonly stream?: string
  /** File (or other backend location) the error is about. */
  readonly location?: string
  /** Byte offset in `location` where the problem starts. */
  readonly offset?: number
}> {}
