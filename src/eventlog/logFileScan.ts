import * as fs from "node:fs"
import { FrameReader } from "./frameReader.js"
import { badFrame, unknownVersion } from "./logFileErrors.js"
import { LOG_FORMAT_VERSION, type LogHeader } from "./logRecord.js"
import { checkMagic, MAGIC_BYTES, type PayloadDecoder, peekRecordSeq } from "./recordCodec.js"

/** A log whose creation was cut short: fewer bytes than magic + header frame, all of them plausible. */
export interface TornHeader {
  readonly kind: "tornHeader"
  readonly size: number
  readonly why: string
}

/** The header, and a frame reader positioned on the first record. */
export interface OpenedHeader {
  readonly kind: "header"
  readonly header: LogHeader
  readonly frames: FrameReader
}

function readAt(fd: number, length: number, position: number) {
  return new Promise<Buffer>((resolve, reject) => {
    const buf = Buffer.alloc(length)
    fs.read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(buf.subarray(0, n))))
  })
}

/**
 * Reads magic and header frame. Rejects with an {@link EventLogError} (`BadFrame`, `UnknownVersion`)
 * when they are wrong, and with the raw I/O error when the file cannot be read.
 */
export async function openHeader(
  fd: number,
  path: string,
  decoder: PayloadDecoder,
  chunkBytes?: number,
): Promise<OpenedHeader | TornHeader> {
  const magic = await readAt(fd, MAGIC_BYTES, 0)
  const m = checkMagic(magic)
  if (m.kind === "foreign") {
    throw badFrame(path, 0, `not an agenthost event log (magic ${JSON.stringify(magic.toString("latin1"))})`)
  }
  if (m.kind === "short") return { kind: "tornHeader", size: magic.length, why: "magic cut short" }
  if (m.version !== LOG_FORMAT_VERSION) throw unknownVersion(path, m.version, MAGIC_BYTES - 1)
  const frames = new FrameReader(fd, MAGIC_BYTES, chunkBytes)
  const first = await frames.next()
  if (first.kind === "end" || first.kind === "torn") {
    const why = first.kind === "end" ? "no header frame" : `header frame torn: ${first.why}`
    return { kind: "tornHeader", size: first.kind === "end" ? first.offset : first.offset + first.bytes, why }
  }
  if (first.kind === "bad") throw badFrame(path, first.offset, first.why)
  // Only the header frame is consumed: later frames of this batch are re-read by the caller.
  const [, start, end] = first.spans as [number, number, number]
  let decoded: ReturnType<PayloadDecoder["decode"]>
  try {
    decoded = decoder.decode(first.buf.subarray(start, end))
  } catch (cause) {
    throw badFrame(path, MAGIC_BYTES, `header frame: ${String(cause)}`)
  }
  if (decoded.kind !== "header") {
    throw badFrame(path, MAGIC_BYTES, "first frame is a record, not the header")
  }
  if (decoded.header.version !== LOG_FORMAT_VERSION) {
    throw unknownVersion(path, decoded.header.version, MAGIC_BYTES)
  }
  const afterHeader = first.base + end
  return { kind: "header", header: decoded.header, frames: new FrameReader(fd, afterHeader, chunkBytes) }
}

/** Result of checking every record of a log (the writer's open-time scan). */
export interface RecordScan {
  readonly lastSeq: number
  /** File offset just past the last intact record: where the next append goes. */
  readonly end: number
  readonly torn?: { readonly offset: number; readonly bytes: number; readonly why: string }
}

/**
 * Checks framing, checksums and seq continuity of every record after the header, streaming through the
 * file. Bodies are not decoded: the checksum vouches for them and the seq is read from the bytes.
 */
export async function scanRecords(
  frames: FrameReader,
  path: string,
  decoder: PayloadDecoder,
): Promise<RecordScan> {
  let lastSeq = 0
  for (;;) {
    const batch = await frames.next()
    if (batch.kind === "end") return { lastSeq, end: batch.offset }
    if (batch.kind === "torn") {
      return {
        lastSeq,
        end: batch.offset,
        torn: { offset: batch.offset, bytes: batch.bytes, why: batch.why },
      }
    }
    if (batch.kind === "bad") throw badFrame(path, batch.offset, batch.why)
    const { buf, base, spans } = batch
    for (let i = 0; i < spans.length; i += 3) {
      const start = spans[i + 1]!
      const end = spans[i + 2]!
      let seq = peekRecordSeq(buf, start, end)
      if (seq === undefined) {
        // Another writer may encode the seq less compactly: let the full decoder decide.
        let decoded: ReturnType<PayloadDecoder["decode"]>
        try {
          decoded = decoder.decode(buf.subarray(start, end))
        } catch (cause) {
          throw badFrame(path, base + spans[i]!, String(cause))
        }
        if (decoded.kind !== "record") throw badFrame(path, base + spans[i]!, "a second header frame")
        seq = decoded.record.seq
      }
      if (seq !== lastSeq + 1) {
        throw badFrame(path, base + spans[i]!, `record seq ${seq} where ${lastSeq + 1} was expected`)
      }
      lastSeq = seq
    }
  }
}
