import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { encodeNdjsonLine, type NdjsonFrame, NdjsonSplitter } from "../../src/protocol/ndjson.js"
import { StreamJsonReader } from "../../src/protocol/streamJsonReader.js"

const b = (s: string) => Buffer.from(s, "utf8")

const describeFrames = (frames: ReadonlyArray<NdjsonFrame>) =>
  frames.map((f) =>
    f._tag === "Line" ? `${f.line}@${f.offset}:${f.text}` : `${f.error.code}: ${f.error.message}`,
  )

function feed(splitter: NdjsonSplitter, chunks: ReadonlyArray<Uint8Array>): string[] {
  const out: NdjsonFrame[] = []
  for (const c of chunks) out.push(...splitter.push(c))
  out.push(...splitter.end())
  return describeFrames(out)
}

describe("NdjsonSplitter", () => {
  it("joins a line split across chunks and numbers lines with their byte offsets", () => {
    const s = new NdjsonSplitter()
    expect(s.push(b('{"a":'))).toEqual([])
    expect(describeFrames(s.push(b('1}\n{"b":2}\n{"c"')))).toEqual(['1@0:{"a":1}', '2@8:{"b":2}'])
    expect(describeFrames(s.push(b(":3}\n")))).toEqual(['3@16:{"c":3}'])
    expect(s.end()).toEqual([])
  })

  it("decodes a multi-byte character split between chunks", () => {
    const bytes = b('{"t":"é✓😀"}\n')
    // Split inside every character boundary in turn.
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(feed(new NdjsonSplitter(), [bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([
        '1@0:{"t":"é✓😀"}',
      ])
    }
  })

  it("strips CRLF, skips empty and blank lines but still counts them", () => {
    expect(feed(new NdjsonSplitter(), [b('{"a":1}\r\n\r\n\n  \t\n{"b":2}\n')])).toEqual([
      '1@0:{"a":1}',
      '5@16:{"b":2}',
    ])
  })

  it("emits a last line that has no newline at end of stream", () => {
    expect(feed(new NdjsonSplitter(), [b('{"a":1}\n{"b"'), b(":2}")])).toEqual(['1@0:{"a":1}', '2@8:{"b":2}'])
  })

  it("reports an over-long line once, discards it up to its newline, and carries on", () => {
    const s = new NdjsonSplitter({ maxLineBytes: 10 })
    const chunks = [b('{"a":1}\n'), b("x".repeat(7)), b("y".repeat(7)), b("z".repeat(1000)), b('\n{"b":2}\n')]
    expect(feed(s, chunks)).toEqual([
      '1@0:{"a":1}',
      "AGH_PROTO_LINE_TOO_LONG: line 2 is 1014 bytes, over the 10-byte limit",
      '3@1023:{"b":2}',
    ])
  })

  it("counts the cap without the line terminator: exactly maxLineBytes passes with LF and CRLF", () => {
    const ten = '{"a":"12"}'
    expect(ten.length).toBe(10)
    expect(feed(new NdjsonSplitter({ maxLineBytes: 10 }), [b(`${ten}\r\n${ten}\n${ten}x\n`)])).toEqual([
      `1@0:${ten}`,
      `2@12:${ten}`,
      "AGH_PROTO_LINE_TOO_LONG: line 3 is 11 bytes, over the 10-byte limit",
    ])
  })

  it("reports an over-long unterminated last line at end of stream", () => {
    expect(feed(new NdjsonSplitter({ maxLineBytes: 4 }), [b("abcdefgh")])).toEqual([
      "AGH_PROTO_LINE_TOO_LONG: line 1 is 8 bytes, over the 4-byte limit",
    ])
  })

  it("reports invalid UTF-8 for that line only", () => {
    const chunk = Buffer.concat([b('{"a":1}\n'), Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a]), b('{"b":2}\n')])
    expect(feed(new NdjsonSplitter(), [chunk])).toEqual([
      '1@0:{"a":1}',
      "AGH_PROTO_BAD_UTF8: line 2 (starting at byte 8 of the stream) is not valid UTF-8",
      '3@13:{"b":2}',
    ])
  })

  it("does not keep a reference to the caller's buffer", () => {
    const s = new NdjsonSplitter()
    const chunk = b('{"a":1')
    s.push(chunk)
    chunk.fill(0x20)
    expect(describeFrames(s.push(b("}\n")))).toEqual(['1@0:{"a":1}'])
  })
})

describe("encodeNdjsonLine", () => {
  it("writes one line per value: newlines and U+2028/U+2029 in strings never appear raw", () => {
    const value = { type: "user", text: "a\nb\r\nc\u2028d\u2029e" }
    const line = encodeNdjsonLine(value)
    expect(line.endsWith("\n")).toBe(true)
    expect(line.slice(0, -1)).not.toMatch(/[\n\r\u2028\u2029]/)
    expect(line).toBe('{"type":"user","text":"a\\nb\\r\\nc\\u2028d\\u2029e"}\n')
    expect(JSON.parse(line)).toEqual(value)
  })

  it("refuses a value JSON cannot represent instead of writing a bogus line", () => {
    expect(() => encodeNdjsonLine({ toJSON: () => undefined })).toThrow(
      "encodeNdjsonLine: value is not JSON-serialisable",
    )
  })
})

describe("StreamJsonReader", () => {
  it("decodes messages and reports bad lines with their line numbers, in order", () => {
    const reader = new StreamJsonReader()
    const items = [
      ...reader.push(
        b('{"type":"keep_alive"}\nnot json\n{"type":"control_cancel_request"}\n{"type":"x","y"'),
      ),
      ...reader.push(b(":1}")),
      ...reader.end(),
    ]
    expect(
      items.map((i) =>
        Result.isSuccess(i) ? i.success.kind : `${i.failure.code} ${i.failure.line}: ${i.failure.message}`,
      ),
    ).toEqual([
      "keep_alive",
      'AGH_PROTO_NOT_JSON 2: line 2 is not JSON: "not json"',
      'AGH_PROTO_BAD_SHAPE 3: line 3: bad "control_cancel_request" message: field "request_id": Missing key',
      "unknown",
    ])
  })

  it("applies its line cap", () => {
    const reader = new StreamJsonReader({ maxLineBytes: 8 })
    const [item] = reader.push(b('{"type":"keep_alive"}\n'))
    expect(item && Result.isFailure(item) && item.failure.code).toBe("AGH_PROTO_LINE_TOO_LONG")
  })
})
