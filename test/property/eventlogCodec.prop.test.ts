import * as zlib from "node:zlib"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  actorStartedBodyArb,
  eventBodyArb,
  msgpackValueArb,
  noteBodyArb,
  recordBodyArb,
} from "../../src/eventlog/arbitraries.js"
import { crc32, tableCrc32 } from "../../src/eventlog/crc32.js"
import {
  LOG_FORMAT_NAME,
  LOG_FORMAT_VERSION,
  type LogHeader,
  type RecordBody,
} from "../../src/eventlog/logRecord.js"
import {
  checkFrame,
  encodeLogStart,
  MAGIC_BYTES,
  PayloadDecoder,
  peekRecordSeq,
  RecordEncoder,
} from "../../src/eventlog/recordCodec.js"

/** Splits framed bytes back into decoded payloads, checking every frame. */
function decodeFrames(bytes: Buffer, from = 0) {
  const decoder = new PayloadDecoder()
  const out = []
  for (let at = from; at < bytes.length; ) {
    const c = checkFrame(bytes, at, bytes.length)
    if (c.kind !== "ok") throw new Error(`frame at ${at}: ${c.kind}`)
    out.push({ decoded: decoder.decode(bytes.subarray(c.payloadStart, c.payloadEnd)), c })
    at = c.payloadEnd
  }
  return out
}

describe("record codec", () => {
  const bodyTypes: ReadonlyArray<readonly [string, fc.Arbitrary<RecordBody>]> = [
    ["actor.started", actorStartedBodyArb],
    ["event", eventBodyArb],
    ["note", noteBodyArb],
  ]
  for (const [name, arb] of bodyTypes) {
    it(`round-trips ${name} bodies with any seq and time`, () => {
      const encoder = new RecordEncoder()
      fc.assert(
        fc.property(
          fc.array(arb, { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 8 }),
          fc.oneof(
            fc.integer({ min: 0, max: 8_640_000_000_000 }),
            fc.double({ min: 0, max: 1e13, noNaN: true }),
          ),
          (bodies, seq, at) => {
            const frames = Buffer.from(encoder.encodeFrames(seq, at, bodies))
            const decoded = decodeFrames(frames)
            expect(decoded.map((d) => d.decoded)).toEqual(
              bodies.map((body, i) => ({ kind: "record", record: { seq: seq + i, at, body } })),
            )
            decoded.forEach((d, i) => {
              expect(peekRecordSeq(frames, d.c.payloadStart, d.c.payloadEnd)).toBe(seq + i)
            })
          },
        ),
        { numRuns: 300 },
      )
    })
  }

  it("round-trips the header with any meta", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 8 }).filter((k) => k !== "__proto__"),
          msgpackValueArb,
          {
            maxKeys: 5,
            noNullPrototype: true,
          },
        ),
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
        fc.integer({ min: 0, max: 8_640_000_000_000 }),
        (meta, stream, createdAt) => {
          const header: LogHeader = {
            format: LOG_FORMAT_NAME,
            version: LOG_FORMAT_VERSION,
            stream,
            createdAt,
            meta,
          }
          const bytes = encodeLogStart(header)
          expect(bytes.subarray(0, MAGIC_BYTES).toString("latin1")).toBe(`AGHLOG\0\x01`)
          const [first, ...rest] = decodeFrames(bytes, MAGIC_BYTES)
          expect(rest).toEqual([])
          expect(first?.decoded).toEqual({ kind: "header", header })
        },
      ),
      { numRuns: 200 },
    )
  })

  it("frames detect any single corrupted byte (length or checksum check fails, never a wrong record)", () => {
    const encoder = new RecordEncoder()
    fc.assert(
      fc.property(recordBodyArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (body, where, flip) => {
        const frame = Buffer.from(encoder.encodeFrames(1, 0, [body]))
        const i = where % frame.length
        frame[i]! ^= flip
        expect(checkFrame(frame, 0, frame.length).kind).not.toBe("ok")
      }),
      { numRuns: 300 },
    )
  })

  it("computes CRC-32 (IEEE) identically natively and with the portable table", () => {
    expect(tableCrc32(Buffer.from("123456789"))).toBe(0xcbf43926)
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926)
    const native = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const start = bytes.length === 0 ? 0 : cut % bytes.length
        expect(crc32(bytes, start)).toBe(tableCrc32(bytes.subarray(start)))
        if (native) expect(native(bytes) >>> 0).toBe(tableCrc32(bytes))
      }),
      { numRuns: 300 },
    )
  })
})
