import { Decoder, Encoder } from "@msgpack/msgpack"
import { crc32 } from "./crc32.js"
import { EventLogError } from "./eventLogError.js"
import {
  LOG_FORMAT_NAME,
  LOG_FORMAT_VERSION,
  type LogHeader,
  type LogRecord,
  type RecordBody,
} from "./logRecord.js"

/**
 * The on-disk format of a log file (docs/eventlog.md is the normative description):
 *
 *     file    = magic header-frame record-frame*
 *     magic   = "AGHLOG" 0x00 version-byte               (8 bytes)
 *     frame   = u32be length, u32be crc32(payload), payload[length]
 *     payload = msgpack [0, header-map] | msgpack [1, seq, at, body-map]
 */
/** The first 7 bytes of every log file; the 8th is the format version. */
export const MAGIC_PREFIX = Buffer.from("AGHLOG\0", "latin1")
/** Length of the magic, and so the offset of the header frame. */
export const MAGIC_BYTES = 8
/** Length of a frame's header: u32 payload length, u32 CRC-32 of the payload. */
export const FRAME_HEADER_BYTES = 8
/** Largest payload a writer produces and a reader accepts; a bigger length field means corruption. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024
/** First element of the header payload `[0, header]`. */
export const PAYLOAD_KIND_HEADER = 0
/** First element of a record payload `[1, seq, at, body]`. */
export const PAYLOAD_KIND_RECORD = 1

/** The 8 magic bytes that open a log of the given format version. */
export function encodeMagic(version: number = LOG_FORMAT_VERSION): Buffer {
  const magic = Buffer.alloc(MAGIC_BYTES)
  MAGIC_PREFIX.copy(magic, 0)
  magic[MAGIC_BYTES - 1] = version
  return magic
}

/** What the magic bytes at the start of a file say. */
export type MagicCheck =
  | { readonly kind: "ok"; readonly version: number }
  | { readonly kind: "short" }
  | { readonly kind: "foreign" }

/** Classifies the first `bytes.length` (≤ 8) bytes of a file. `short` means a valid prefix, cut off. */
export function checkMagic(bytes: Uint8Array): MagicCheck {
  const n = Math.min(bytes.length, MAGIC_PREFIX.length)
  for (let i = 0; i < n; i++) if (bytes[i] !== MAGIC_PREFIX[i]) return { kind: "foreign" }
  if (bytes.length < MAGIC_BYTES) return { kind: "short" }
  return { kind: "ok", version: bytes[MAGIC_BYTES - 1]! }
}

/** The state of the frame starting at `offset` of `buf`, of which `end - offset` bytes are present. */
export type FrameCheck =
  | { readonly kind: "ok"; readonly payloadStart: number; readonly payloadEnd: number }
  /** Not all of the frame is present yet: `needed` bytes from `offset` are. */
  | { readonly kind: "incomplete"; readonly needed: number }
  | { readonly kind: "badLength"; readonly length: number }
  | { readonly kind: "badChecksum"; readonly frameEnd: number }

/** Checks framing and checksum without decoding the payload. */
export function checkFrame(buf: Buffer, offset: number, end: number): FrameCheck {
  if (end - offset < FRAME_HEADER_BYTES) return { kind: "incomplete", needed: FRAME_HEADER_BYTES }
  const length = buf.readUInt32BE(offset)
  if (length === 0 || length > MAX_PAYLOAD_BYTES) return { kind: "badLength", length }
  const payloadStart = offset + FRAME_HEADER_BYTES
  const payloadEnd = payloadStart + length
  if (payloadEnd > end) return { kind: "incomplete", needed: FRAME_HEADER_BYTES + length }
  if (crc32(buf, payloadStart, payloadEnd) !== buf.readUInt32BE(offset + 4)) {
    return { kind: "badChecksum", frameEnd: payloadEnd }
  }
  return { kind: "ok", payloadStart, payloadEnd }
}

/**
 * The `seq` of a record payload read straight from its bytes (`0x94 0x01 <uint>`), without decoding
 * the body: the open-time scan and `afterSeq` skipping use it. `undefined` when the payload is not a
 * record in the canonical shape this encoder writes.
 */
export function peekRecordSeq(buf: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < 3 || buf[start] !== 0x94 || buf[start + 1] !== PAYLOAD_KIND_RECORD) return undefined
  const p = start + 2
  const tag = buf[p]!
  if (tag < 0x80) return tag
  const view = new DataView(buf.buffer, buf.byteOffset + p + 1, Math.max(0, Math.min(8, end - p - 1)))
  switch (tag) {
    case 0xcc:
      return view.byteLength >= 1 ? view.getUint8(0) : undefined
    case 0xcd:
      return view.byteLength >= 2 ? view.getUint16(0) : undefined
    case 0xce:
      return view.byteLength >= 4 ? view.getUint32(0) : undefined
    case 0xcf:
      return view.byteLength >= 8 ? Number(view.getBigUint64(0)) : undefined
    default:
      return undefined
  }
}

// "__proto__" as a msgpack fixstr: the decoder refuses it as a map key, so a writer must too.
const PROTO_KEY_BYTES = Buffer.from([0xa9, ...Buffer.from("__proto__", "latin1")])

function hasProtoKey(value: unknown, depth: number): boolean {
  if (depth > 200 || value === null || typeof value !== "object") return false
  if (Array.isArray(value)) return value.some((v) => hasProtoKey(v, depth + 1))
  if (ArrayBuffer.isView(value)) return false
  for (const key of Object.keys(value)) {
    if (key === "__proto__") return true
    if (hasProtoKey((value as Record<string, unknown>)[key], depth + 1)) return true
  }
  return false
}

const badRecord = (message: string, cause?: unknown) =>
  new EventLogError({ reason: "BadRecord", message, ...(cause === undefined ? {} : { cause }) })

/**
 * Encodes records into frames. One instance per writer: it reuses its msgpack encoder and its output
 * buffer, so the bytes returned by {@link RecordEncoder.encodeFrames} are valid only until the next call.
 */
export class RecordEncoder {
  private readonly encoder = new Encoder({ ignoreUndefined: true })
  private out: Buffer = Buffer.allocUnsafe(64 * 1024)

  /**
   * Frames for `bodies` with seqs `firstSeq, firstSeq + 1, ...` and time `at`. Throws an
   * {@link EventLogError} with reason `BadRecord` (and writes nothing) when a body cannot be encoded.
   */
  encodeFrames(firstSeq: number, at: number, bodies: ReadonlyArray<RecordBody>): Buffer {
    let pos = 0
    for (let i = 0; i < bodies.length; i++) {
      const seq = firstSeq + i
      let payload: Uint8Array
      try {
        payload = this.encoder.encodeSharedRef([PAYLOAD_KIND_RECORD, seq, at, bodies[i]])
      } catch (cause) {
        throw badRecord(`record seq ${seq} cannot be encoded as msgpack: ${String(cause)}`, cause)
      }
      if (payload.length > MAX_PAYLOAD_BYTES) {
        throw badRecord(
          `record seq ${seq} is ${payload.length} bytes encoded, over the ${MAX_PAYLOAD_BYTES}-byte limit`,
        )
      }
      const need = pos + FRAME_HEADER_BYTES + payload.length
      if (need > this.out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(need, this.out.length * 2))
        this.out.copy(bigger, 0, 0, pos)
        this.out = bigger
      }
      const start = pos + FRAME_HEADER_BYTES
      this.out.set(payload, start)
      const written = this.out.subarray(start, start + payload.length)
      if (written.indexOf(PROTO_KEY_BYTES) !== -1 && hasProtoKey(bodies[i], 0)) {
        throw badRecord(`record seq ${seq} has a "__proto__" key, which msgpack readers refuse`)
      }
      this.out.writeUInt32BE(payload.length, pos)
      this.out.writeUInt32BE(crc32(written), pos + 4)
      pos = start + payload.length
    }
    return this.out.subarray(0, pos)
  }
}

/** The bytes a new log file starts with: magic, then the header frame. */
export function encodeLogStart(header: LogHeader): Buffer {
  const encoder = new Encoder({ ignoreUndefined: true })
  let payload: Uint8Array
  try {
    payload = encoder.encode([
      PAYLOAD_KIND_HEADER,
      {
        format: header.format,
        version: header.version,
        stream: header.stream,
        createdAt: header.createdAt,
        meta: header.meta,
      },
    ])
  } catch (cause) {
    throw badRecord(`header meta of stream ${header.stream} cannot be encoded as msgpack`, cause)
  }
  if (payload.length > MAX_PAYLOAD_BYTES) throw badRecord(`header of stream ${header.stream} is too large`)
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
  frame.writeUInt32BE(payload.length, 0)
  frame.writeUInt32BE(crc32(payload), 4)
  frame.set(payload, FRAME_HEADER_BYTES)
  return Buffer.concat([encodeMagic(header.version), frame])
}

/** What a payload held. Invalid payloads throw an `Error` whose message says what was wrong. */
export type DecodedPayload =
  | { readonly kind: "header"; readonly header: LogHeader }
  | { readonly kind: "record"; readonly record: LogRecord }

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v)

/**
 * Decodes payloads. The decoder may return binary values as views into the bytes it was given, so
 * callers must not reuse a buffer after decoding from it (the reader reads every chunk into a fresh one).
 */
export class PayloadDecoder {
  private readonly decoder = new Decoder()

  decode(bytes: Uint8Array): DecodedPayload {
    // Through a plain Uint8Array view, so binary values come out as Uint8Array, not as Node Buffers.
    const view = Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes
    const value = this.decoder.decode(view)
    if (!Array.isArray(value)) throw new Error("payload is not a msgpack array")
    if (value[0] === PAYLOAD_KIND_RECORD) {
      const [, seq, at, body] = value
      if (value.length !== 4 || typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) {
        throw new Error("record payload has no valid seq")
      }
      if (typeof at !== "number") throw new Error(`record seq ${seq} has no numeric time`)
      if (!isMap(body) || typeof body.type !== "string") {
        throw new Error(`record seq ${seq} has no body with a string type`)
      }
      return { kind: "record", record: { seq, at, body: body as unknown as RecordBody } }
    }
    if (value[0] === PAYLOAD_KIND_HEADER) {
      const h = value[1]
      if (value.length !== 2 || !isMap(h) || h.format !== LOG_FORMAT_NAME) {
        throw new Error(`header payload is not a ${LOG_FORMAT_NAME} header`)
      }
      if (typeof h.version !== "number" || typeof h.stream !== "string" || typeof h.createdAt !== "number") {
        throw new Error("header payload lacks version, stream or createdAt")
      }
      const header: LogHeader = {
        format: LOG_FORMAT_NAME,
        version: h.version,
        stream: h.stream,
        createdAt: h.createdAt,
        meta: isMap(h.meta) ? h.meta : {},
      }
      return { kind: "header", header }
    }
    throw new Error(`payload kind ${JSON.stringify(value[0])} is neither header (0) nor record (1)`)
  }
}
