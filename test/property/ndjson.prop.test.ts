import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeAgentLine } from "../../src/protocol/decodeMessage.js"
import { encodeNdjsonLine, NdjsonSplitter } from "../../src/protocol/ndjson.js"
import { PROTOCOL_ERROR_CODES } from "../../src/protocol/protocolError.js"
import { StreamJsonReader } from "../../src/protocol/streamJsonReader.js"

const CODES = new Set(Object.values(PROTOCOL_ERROR_CODES))

/** Cuts `bytes` at the given (unsorted, possibly repeated) positions. */
function chunked(bytes: Uint8Array, cuts: ReadonlyArray<number>): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p))
    prev = p
  }
  return out
}

const jsonLine = fc.oneof(
  fc.dictionary(fc.string({ unit: "binary" }), fc.jsonValue({ stringUnit: "binary", maxDepth: 3 })),
  fc.array(fc.jsonValue({ stringUnit: "binary", maxDepth: 3 })),
)

describe("NDJSON framing (property)", () => {
  it("any JSON objects/arrays, encoded and cut at arbitrary byte boundaries, decode to the same values", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(jsonLine, fc.boolean(), fc.nat(2)), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (entries, cuts) => {
          // Mix LF and CRLF terminators and interleave empty lines: both must be invisible.
          const text = entries
            .map(([value, crlf, blanks]) => {
              const line = encodeNdjsonLine(value)
              return (crlf ? `${line.slice(0, -1)}\r\n` : line) + "\n".repeat(blanks)
            })
            .join("")
          const splitter = new NdjsonSplitter()
          const frames = chunked(Buffer.from(text, "utf8"), cuts).flatMap((c) => splitter.push(c))
          frames.push(...splitter.end())
          const texts = frames.map((f) => {
            if (f._tag === "Error") throw new Error(`unexpected ${f.error.code}: ${f.error.message}`)
            return f.text
          })
          expect(texts.map((t) => JSON.parse(t))).toEqual(entries.map(([v]) => JSON.parse(JSON.stringify(v))))
          const numbers = frames.map((f) => (f._tag === "Line" ? f.line : 0))
          expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
        },
      ),
      { numRuns: 300 },
    )
  })

  it("garbage bytes in arbitrary chunks never throw; every rejection carries a known code", () => {
    const garbage = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom(...["\n", "\r\n", "{", "}", '"', "\\", "é", '{"type":'].map((s) => Buffer.from(s))),
        fc.constant(Uint8Array.from([0xff, 0xfe, 0xc3])),
      ),
      { maxLength: 30 },
    )
    fc.assert(
      fc.property(
        garbage,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1, max: 64 }),
        (parts, cuts, cap) => {
          const reader = new StreamJsonReader({ maxLineBytes: cap })
          const bytes = Buffer.concat(parts)
          const items = chunked(bytes, cuts).flatMap((c) => reader.push(c))
          items.push(...reader.end())
          for (const item of items) {
            if (Result.isFailure(item)) expect(CODES.has(item.failure.code)).toBe(true)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it("decodeAgentLine never throws on any string", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.json()), (line) => {
        const r = decodeAgentLine(line)
        if (Result.isFailure(r)) expect(CODES.has(r.failure.code)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })
})
