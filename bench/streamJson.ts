import { encodeNdjsonLine, NdjsonSplitter } from "../src/protocol/ndjson.js"
import { StreamJsonReader } from "../src/protocol/streamJsonReader.js"
import { type Bench, medianOf, opsPerSecond } from "./harness.js"

/** A turn's worth of typical agent output: init, texts, a tool use, a permission request, a tool result. */
function sampleLines(count: number): Buffer {
  const kinds = [
    {
      type: "system",
      subtype: "init",
      session_id: "s",
      cwd: "/w",
      model: "m",
      tools: ["Bash"],
      permissionMode: "default",
    },
    {
      type: "assistant",
      session_id: "s",
      message: {
        id: "msg_1",
        content: [{ type: "text", text: "I will look at the repository first. ".repeat(3) }],
      },
    },
    {
      type: "control_request",
      request_id: "perm_1",
      request: {
        subtype: "can_use_tool",
        tool_name: "Bash",
        input: { command: "ls -la" },
        tool_use_id: "toolu_1",
      },
    },
    {
      type: "user",
      session_id: "s",
      message: {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "file.txt\n".repeat(20), is_error: false },
        ],
      },
    },
    { type: "result", subtype: "success", is_error: false, session_id: "s", result: "done", num_turns: 2 },
  ]
  return Buffer.from(
    Array.from({ length: count }, (_, i) => encodeNdjsonLine(kinds[i % kinds.length]!)).join(""),
  )
}

/** Cuts like a pipe delivers: 64 KiB reads that split lines anywhere. */
function chunks(bytes: Buffer, size = 65_536): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size))
  return out
}

/** Throughput of reading stream-json, against `toString` + `split` + `JSON.parse` of the same bytes. */
export const streamJsonBench: Bench = async () => {
  const lines = 50_000
  const data = chunks(sampleLines(lines))
  const raw = await medianOf(5, () =>
    opsPerSecond(lines, () => {
      let tail = ""
      for (const c of data) {
        const parts = (tail + c.toString("utf8")).split("\n")
        tail = parts.pop() ?? ""
        for (const p of parts) if (p !== "") JSON.parse(p)
      }
    }),
  )
  const framed = await medianOf(5, () =>
    opsPerSecond(lines, () => {
      const s = new NdjsonSplitter()
      for (const c of data) for (const f of s.push(c)) if (f._tag === "Line") JSON.parse(f.text)
    }),
  )
  const validated = await medianOf(5, () =>
    opsPerSecond(lines, () => {
      const r = new StreamJsonReader()
      for (const c of data) r.push(c)
    }),
  )
  return {
    title: "stream-json reading (50k lines, 64 KiB chunks)",
    rows: [
      { name: "raw: toString + split + JSON.parse", value: raw, unit: "lines/s" },
      {
        name: "NdjsonSplitter + JSON.parse",
        value: framed,
        unit: "lines/s",
        baseline: "raw: toString + split + JSON.parse",
        target: 0.7,
      },
      {
        name: "StreamJsonReader (framing + schema validation)",
        value: validated,
        unit: "lines/s",
        baseline: "raw: toString + split + JSON.parse",
        target: 0.4,
      },
    ],
  }
}
