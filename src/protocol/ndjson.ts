import { DEFAULT_MAX_LINE_BYTES } from "./limits.js"
import { badUtf8Error, lineTooLongError, type ProtocolError } from "./protocolError.js"

/** One complete line, decoded from UTF-8, without its `\n` / `\r\n`. */
export interface NdjsonLine {
  readonly _tag: "Line"
  readonly text: string
  /** 1-based line number; empty lines count, so numbers match an editor's. */
  readonly line: number
  /** Byte offset of the line's first byte in the stream. */
  readonly offset: number
}

/** A line that could not be framed: AGH_PROTO_LINE_TOO_LONG or AGH_PROTO_BAD_UTF8. */
export interface NdjsonFrameError {
  readonly _tag: "Error"
  readonly error: ProtocolError
}

/** What {@link NdjsonSplitter} yields, in stream order. */
export type NdjsonFrame = NdjsonLine | NdjsonFrameError

/** Options of {@link NdjsonSplitter}. */
export interface NdjsonSplitterOptions {
  /** Longest accepted line in bytes, not counting `\n` or `\r\n` (default 8 MiB). */
  readonly maxLineBytes?: number
}

const NL = 0x0a
const CR = 0x0d
const BLANK = /^[ \t]*$/

/**
 * Incremental NDJSON framing over raw bytes. Lines may arrive split anywhere, a multi-byte character
 * included; decoding waits for the whole line. Empty (and blank) lines are skipped. A line over the cap is
 * dropped up to its newline — never buffered — and reported once; framing then continues with the next.
 *
 * @example
 * const splitter = new NdjsonSplitter()
 * for (const frame of splitter.push(chunk)) if (frame._tag === "Line") handle(frame.text)
 * for (const frame of splitter.end()) ...
 */
export class NdjsonSplitter {
  private readonly maxLineBytes: number
  private readonly decoder = new TextDecoder("utf-8", { fatal: true })
  private parts: Uint8Array[] = []
  private partsBytes = 0
  /** Bytes of the current line seen so far, buffered or (when discarding) not. */
  private lineBytes = 0
  private discarding = false
  private lineNo = 0
  private consumed = 0

  constructor(options: NdjsonSplitterOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  }

  /** Feeds a chunk; returns the frames it completed. */
  push(chunk: Uint8Array): NdjsonFrame[] {
    const out: NdjsonFrame[] = []
    let start = 0
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start)
      const end = nl === -1 ? chunk.length : nl
      // A line completed inside this chunk is consumed before push returns, so a view will do; only an
      // unfinished tail outlives the call and is copied (the caller may reuse its buffer).
      this.take(chunk, start, end, nl === -1)
      if (nl === -1) break
      this.finishLine(out)
      this.consumed += 1
      start = nl + 1
    }
    return out
  }

  /** Ends the stream: a last line without a newline is still a line. */
  end(): NdjsonFrame[] {
    const out: NdjsonFrame[] = []
    if (this.lineBytes > 0) this.finishLine(out)
    return out
  }

  private take(chunk: Uint8Array, start: number, end: number, copy: boolean): void {
    const n = end - start
    if (n === 0) return
    this.lineBytes += n
    this.consumed += n
    if (this.discarding) return
    // One byte of slack: a trailing `\r` is not part of the line, but we only know once `\n` arrives.
    if (this.lineBytes > this.maxLineBytes + 1) {
      this.discarding = true
      this.parts = []
      this.partsBytes = 0
      return
    }
    const view = chunk.subarray(start, end)
    this.parts.push(copy ? Uint8Array.from(view) : view)
    this.partsBytes += n
  }

  private finishLine(out: NdjsonFrame[]): void {
    this.lineNo += 1
    const line = this.lineNo
    const offset = this.consumed - this.lineBytes
    const total = this.lineBytes
    // Undefined when the line went over the cap and was discarded.
    const bytes = this.discarding
      ? undefined
      : this.parts.length === 1
        ? this.parts[0]!
        : Buffer.concat(this.parts, this.partsBytes)
    this.parts = []
    this.partsBytes = 0
    this.lineBytes = 0
    this.discarding = false
    if (bytes === undefined) {
      out.push({ _tag: "Error", error: lineTooLongError(line, total, this.maxLineBytes) })
      return
    }
    let length = bytes.length
    if (length > 0 && bytes[length - 1] === CR) length -= 1
    if (length > this.maxLineBytes) {
      out.push({ _tag: "Error", error: lineTooLongError(line, length, this.maxLineBytes) })
      return
    }
    if (length === 0) return
    let text: string
    try {
      text = this.decoder.decode(bytes.subarray(0, length))
    } catch (cause) {
      out.push({ _tag: "Error", error: badUtf8Error(line, offset, cause) })
      return
    }
    const first = text.charCodeAt(0)
    if ((first === 0x20 || first === 0x09) && BLANK.test(text)) return
    out.push({ _tag: "Line", text, line, offset })
  }
}

const HAS_LINE_SEPARATOR = /[\u2028\u2029]/
const LINE_SEPARATORS = /[\u2028\u2029]/g

/**
 * One NDJSON line for `value`: `JSON.stringify` output (which never holds a raw newline: control
 * characters in strings are escaped) plus `\n`. U+2028/U+2029 are escaped too, because some line readers
 * (JavaScript's own, pre-ES2019) treat them as line ends.
 */
export function encodeNdjsonLine(value: object): string {
  const json = JSON.stringify(value)
  if (json === undefined) throw new TypeError("encodeNdjsonLine: value is not JSON-serialisable")
  return `${HAS_LINE_SEPARATOR.test(json) ? json.replace(LINE_SEPARATORS, escapeSeparator) : json}\n`
}

const escapeSeparator = (ch: string) => (ch === "\u2028" ? "\\u2028" : "\\u2029")
