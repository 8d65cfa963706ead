import { CodedError, codeTable } from "../errors/codedError.js"
/** The stable code of each reason (docs/errors.md). */
export const PROTOCOL_ERROR_CODES = codeTable({
  NotJson: "AGH_PROTO_NOT_JSON",
  BadShape: "AGH_PROTO_BAD_SHAPE",
  LineTooLong: "AGH_PROTO_LINE_TOO_LONG",
  BadUtf8: "AGH_PROTO_BAD_UTF8",
})

/** Why a stream-json line was rejected: a key of {@link PROTOCOL_ERROR_CODES}. */
export type ProtocolErrorReason = keyof typeof PROTOCOL_ERROR_CODES

/**
 * A stream-json line the host or the agent could not accept. A value, never thrown by the decoders: a
 * peer sending garbage must not take the reader down, so every decoder returns this instead.
 */
export class ProtocolError extends CodedError("ProtocolError", PROTOCOL_ERROR_CODES)<{
  /** 1-based line number in the stream, when the line came from a framed stream. */
  readonly line?: number
  /** Dotted path of the offending field for `BadShape` (`""` is the message itself). */
  readonly field?: string
}> {}

/** "line 3" when the line number is known, else "line": the subject of every message. */
export function lineLabel(line: number | undefined): string {
  return line === undefined ? "line" : `line ${line}`
}

/** A short, printable rendering of a value for messages; long values are cut so logs stay readable. */
export function excerpt(value: string, max = 60): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value
  return JSON.stringify(cut)
}

/** AGH_PROTO_LINE_TOO_LONG for a line of `bytes` bytes (without its newline) over `limit`. */
export function lineTooLongError(line: number | undefined, bytes: number, limit: number): ProtocolError {
  return new ProtocolError({
    reason: "LineTooLong",
    message: `${lineLabel(line)} is ${bytes} bytes, over the ${limit}-byte limit`,
    ...(line === undefined ? {} : { line }),
  })
}

/** AGH_PROTO_BAD_UTF8; `offset` is where the line starts in the stream, when known. */
export function badUtf8Error(line: number | undefined, offset?: number, cause?: unknown): ProtocolError {
  const at = offset === undefined ? "" : ` (starting at byte ${offset} of the stream)`
  return new ProtocolError({
    reason: "BadUtf8",
    message: `${lineLabel(line)}${at} is not valid UTF-8`,
    ...(line === undefined ? {} : { line }),
    ...(cause === undefined ? {} : { cause }),
  })
}
