import { afterEach, describe, expect, it } from "vitest"
import {
  exhaustedReply,
  type FakeAnthropic,
  type FakeTurn,
  lastToolResults,
  SIDE_REPLY,
  startFakeAnthropic,
} from "./fakeAnthropic.js"

// The fake must speak the Messages API exactly enough for the real CLI; these checks run even where the
// CLI is not installed, so a broken fake is caught without it.

const script: FakeTurn[] = [
  {
    content: [
      { type: "text", text: "Running it ✓." },
      { type: "tool_use", name: "Bash", input: { command: "echo hi" } },
    ],
  },
  { content: [{ type: "text", text: "Done." }] },
]
const tools = [{ name: "Bash", input_schema: { type: "object" } }]

type SseEvent = { event: string; data: { type: string; [key: string]: unknown } }

function parseSse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => {
      const event = /^event: (.*)$/m.exec(chunk)?.[1] ?? ""
      const data = /^data: (.*)$/m.exec(chunk)?.[1] ?? "null"
      return { event, data: JSON.parse(data) as SseEvent["data"] }
    })
}

/** Folds stream events into the message a client would assemble. */
function assemble(events: SseEvent[]): { content: unknown[]; stopReason: unknown } {
  const blocks: Array<{ type: string; text?: string; json?: string; [key: string]: unknown }> = []
  let stopReason: unknown
  for (const { data } of events) {
    const index = data.index as number
    if (data.type === "content_block_start") blocks[index] = { ...(data.content_block as { type: string }) }
    if (data.type === "content_block_delta") {
      const delta = data.delta as { type: string; text?: string; partial_json?: string }
      const block = blocks[index] as { text?: string; json?: string }
      if (delta.type === "text_delta") block.text = (block.text ?? "") + delta.text
      if (delta.type === "input_json_delta") block.json = (block.json ?? "") + delta.partial_json
    }
    if (data.type === "message_delta") stopReason = (data.delta as { stop_reason: unknown }).stop_reason
  }
  const content = blocks.map(({ json, ...block }) =>
    json === undefined ? block : { ...block, input: JSON.parse(json) as unknown },
  )
  return { content, stopReason }
}

describe("fake Anthropic Messages API", () => {
  let fake: FakeAnthropic | undefined
  afterEach(async () => {
    await fake?.close()
    fake = undefined
  })

  const post = (body: unknown, path = "/v1/messages?beta=true") =>
    fetch(`${fake?.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "fake" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    })

  it("streams a scripted turn as Messages API SSE events that fold back into the scripted content", async () => {
    fake = await startFakeAnthropic(script)
    const res = await post({
      model: "claude-test",
      stream: true,
      tools,
      messages: [{ role: "user", content: "go" }],
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe("text/event-stream")
    const events = parseSse(await res.text())
    expect(events.every((e) => e.event === e.data.type)).toBe(true)
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ])
    expect(events[0]?.data).toMatchObject({
      message: { id: "msg_fake_1", role: "assistant", model: "claude-test", content: [], stop_reason: null },
    })
    expect(assemble(events)).toEqual({
      content: [
        { type: "text", text: "Running it ✓." },
        { type: "tool_use", id: "toolu_fake_0_1", name: "Bash", input: { command: "echo hi" } },
      ],
      stopReason: "tool_use",
    })
    expect(fake.requests).toMatchObject([
      {
        method: "POST",
        path: "/v1/messages",
        kind: "main",
        turn: 0,
        stream: true,
        headers: { "x-api-key": "fake" },
      },
    ])
  })

  it("picks the turn from the assistant replies already in the history, past the end a marked text", async () => {
    fake = await startFakeAnthropic(script)
    const afterToolUse = [
      { role: "user", content: "go" },
      // One reply split over two assistant lines counts once.
      { role: "assistant", content: [{ type: "text", text: "Running it ✓." }] },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_fake_0_1", name: "Bash", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_fake_0_1", content: "hi" }] },
    ]
    const second = await post({ model: "m", stream: false, tools, messages: afterToolUse })
    expect(await second.json()).toMatchObject({
      type: "message",
      content: [{ type: "text", text: "Done." }],
      stop_reason: "end_turn",
    })
    const past = [...afterToolUse, { role: "assistant", content: "Done." }, { role: "user", content: "more" }]
    const third = await post({ model: "m", stream: false, tools, messages: past })
    expect(await third.json()).toMatchObject({ content: [{ type: "text", text: exhaustedReply(2) }] })
    expect(fake.requests.map((r) => r.turn)).toEqual([1, 2])
    expect(lastToolResults(fake.requests[0]!)).toEqual([
      { type: "tool_result", tool_use_id: "toolu_fake_0_1", content: "hi" },
    ])
    expect(lastToolResults(fake.requests[1]!)).toEqual([])
  })

  it("answers requests without tools with a short text, streamed or not, without using the script", async () => {
    fake = await startFakeAnthropic(script)
    const probe = await post({
      model: "claude-x",
      max_tokens: 1,
      messages: [{ role: "user", content: "Hi" }],
    })
    expect(await probe.json()).toMatchObject({
      role: "assistant",
      model: "claude-x",
      content: [{ type: "text", text: SIDE_REPLY }],
      stop_reason: "end_turn",
    })
    const title = await post({
      model: "claude-x",
      stream: true,
      messages: [{ role: "user", content: "name it" }],
    })
    expect(assemble(parseSse(await title.text())).content).toEqual([{ type: "text", text: SIDE_REPLY }])
    expect(fake.requests.map((r) => [r.kind, r.stream])).toEqual([
      ["side", false],
      ["side", true],
    ])
  })

  it("is 200 for HEAD /, 404 for other routes, 400 with an API error for a body that is not JSON", async () => {
    fake = await startFakeAnthropic(script)
    expect((await fetch(`${fake.url}/`, { method: "HEAD" })).status).toBe(200)
    const models = await fetch(`${fake.url}/v1/models`)
    expect(models.status).toBe(404)
    expect(await models.json()).toEqual({
      type: "error",
      error: { type: "not_found_error", message: "no route GET /v1/models" },
    })
    const bad = await post("{not json")
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } })
    expect(fake.requests.map((r) => `${r.method} ${r.url} ${r.kind}`)).toEqual([
      "HEAD / other",
      "GET /v1/models other",
      "POST /v1/messages?beta=true side",
    ])
  })
})
