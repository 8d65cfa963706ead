import * as Result from "effect/Result"
import { type DecodedMessage, decodeAgentLine } from "./decodeMessage.js"
import { type NdjsonFrame, NdjsonSplitter, type NdjsonSplitterOptions } from "./ndjson.js"
import type { ProtocolError } from "./protocolError.js"

/** One decoded line of a stream-json stream, or why it was rejected. */
export type StreamJsonItem = Result.Result<DecodedMessage, ProtocolError>

/**
 * Bytes in, messages out: {@link NdjsonSplitter} framing plus {@link decodeAgentLine} validation. What both
 * ends of the protocol read with (the host reading an agent's stdout, the built-in agent reading stdin).
 * Never throws on input; a rejected line is one failure item and the stream goes on.
 *
 * @example
 * const reader = new StreamJsonReader()
 * child.stdout.on("data", (chunk) => reader.push(chunk).forEach(handle))
 * child.stdout.on("end", () => reader.end().forEach(handle))
 */
export class StreamJsonReader {
  private readonly splitter: NdjsonSplitter

  constructor(options: NdjsonSplitterOptions = {}) {
    this.splitter = new NdjsonSplitter(options)
  }

  /** Feeds a chunk; returns the items of the lines it completed. */
  push(chunk: Uint8Array): StreamJsonItem[] {
    return this.splitter.push(chunk).map(toItem)
  }

  /** Ends the stream (a last line without a newline still counts). */
  end(): StreamJsonItem[] {
    return this.splitter.end().map(toItem)
  }
}

function toItem(frame: NdjsonFrame): StreamJsonItem {
  if (frame._tag === "Error") return Result.fail(frame.error)
  // The splitter already enforced the cap on bytes; a decoded string cannot exceed it again.
  return decodeAgentLine(frame.text, { line: frame.line, maxLineBytes: Number.POSITIVE_INFINITY })
}
