import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** One content block of a scripted model reply. */
export type FakeBlock =
  | { readonly type: "text"; readonly text: string }
  | {
      readonly type: "tool_use"
      readonly name: string
      readonly input: Readonly<Record<string, unknown>>
      /** Defaults to a deterministic `toolu_fake_<turn>_<block>`. */
      readonly id?: string
    }

/** One scripted model reply, i.e. one Messages API response to a main-loop request. */
export interface FakeTurn {
  readonly content: ReadonlyArray<FakeBlock>
  /** Defaults to `tool_use` when the reply contains a tool use, else `end_turn`. */
  readonly stopReason?: "end_turn" | "tool_use" | "max_tokens" | "stop_sequence"
}

/**
 * Which request this was: `main` = the agent loop (a `/v1/messages` call that offers tools, answered from
 * the script); `side` = any other `/v1/messages` call (session title, `set_model` probe, ...), answered
 * with {@link SIDE_REPLY}; `other` = any other route (404, or `HEAD /`).
 */
export type FakeRequestKind = "main" | "side" | "other"

/** A request as the fake received it, recorded for assertions. */
export interface FakeRequest {
  readonly method: string
  /** Path and query as sent, e.g. `/v1/messages?beta=true`. */
  readonly url: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The parsed JSON body; `undefined` for an empty body. */
  readonly body: MessagesRequestBody | undefined
  readonly kind: FakeRequestKind
  /** For `main` requests: the index of the scripted turn that was served (may be past the script's end). */
  readonly turn?: number
  readonly stream: boolean
}

/** The parts of a Messages API request body the fake looks at; the rest is kept as sent. */
export interface MessagesRequestBody {
  readonly model?: string
  readonly stream?: boolean
  readonly tools?: ReadonlyArray<unknown>
  readonly messages?: ReadonlyArray<{ readonly role: string; readonly content: unknown }>
  readonly [key: string]: unknown
}

/** A running fake Messages API. */
export interface FakeAnthropic {
  /** `http://127.0.0.1:<port>`: the value for `ANTHROPIC_BASE_URL`. */
  readonly url: string
  /** Every request received, in arrival order (a live array: it grows while the fake runs). */
  readonly requests: ReadonlyArray<FakeRequest>
  /** Stops listening and drops open connections. */
  readonly close: () => Promise<void>
}

/** What a non-main request (session title, `set_model` probe, ...) gets back. */
export const SIDE_REPLY = "ok"

/** The text a main request gets once the script has no turn left for it. */
export const exhaustedReply = (turn: number): string => `fake-anthropic: no scripted turn ${turn}`

/**
 * Starts a fake Anthropic Messages API on 127.0.0.1 (a free port), good enough for the real Claude Code
 * CLI: `POST /v1/messages` (with or without `?beta=true`) streams SSE in the Messages API event format, or
 * answers JSON for `stream:false`; `HEAD /` is 200; every other route is 404.
 *
 * Which turn a main request gets is read from the request itself, not from a counter: the number of
 * assistant messages already in `messages` (consecutive ones counted once) is the turn index. So a
 * retried request gets the same reply again, and the turn after a tool use is served once the CLI sends
 * the tool_result back.
 *
 * @example
 * const fake = await startFakeAnthropic([
 *   { content: [{ type: "text", text: "Running it." }, { type: "tool_use", name: "Bash", input: { command: "echo hi" } }] },
 *   { content: [{ type: "text", text: "Done." }] },
 * ])
 * // spawn claude with ANTHROPIC_BASE_URL=fake.url ...; then inspect fake.requests
 * await fake.close()
 */
export async function startFakeAnthropic(script: ReadonlyArray<FakeTurn>): Promise<FakeAnthropic> {
  const requests: FakeRequest[] = []
  let replies = 0

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? "/"
    const path = url.split("?")[0] ?? "/"
    const raw = await readBody(req)
    const record = (extra: Pick<FakeRequest, "body" | "kind" | "stream"> & { turn?: number }) =>
      requests.push({ method: req.method ?? "", url, path, headers: req.headers, ...extra })

    if (req.method !== "POST" || path !== "/v1/messages") {
      record({ body: undefined, kind: "other", stream: false })
      res.writeHead(req.method === "HEAD" && path === "/" ? 200 : 404, { "content-type": "application/json" })
      res.end(
        req.method === "HEAD" ? undefined : apiError("not_found_error", `no route ${req.method} ${path}`),
      )
      return
    }
    let body: MessagesRequestBody
    try {
      body = JSON.parse(raw) as MessagesRequestBody
    } catch (cause) {
      record({ body: undefined, kind: "side", stream: false })
      res.writeHead(400, { "content-type": "application/json" })
      res.end(apiError("invalid_request_error", `body is not JSON: ${String(cause)}`))
      return
    }
    const stream = body.stream === true
    const main = Array.isArray(body.tools) && body.tools.length > 0
    const model = typeof body.model === "string" ? body.model : "claude-fake"
    const messageId = `msg_fake_${++replies}`
    if (!main) {
      record({ body, kind: "side", stream })
      reply(res, stream, messageId, model, { content: [{ type: "text", text: SIDE_REPLY }] }, 0)
      return
    }
    const turn = assistantTurnsIn(body)
    record({ body, kind: "main", stream, turn })
    const scripted = script[turn] ?? { content: [{ type: "text", text: exhaustedReply(turn) }] }
    reply(res, stream, messageId, model, scripted, turn)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((cause: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" })
      res.end(apiError("api_error", `fake-anthropic failed: ${String(cause)}`))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        // Keep-alive sockets from the CLI would otherwise hold close() open.
        server.closeAllConnections()
      }),
  }
}

/** The `tool_result` blocks of a request's last message (the CLI's answer to the previous tool use). */
export function lastToolResults(
  request: FakeRequest,
): Array<{ tool_use_id: string; content: unknown; is_error?: boolean }> {
  const last = request.body?.messages?.at(-1)
  if (last?.role !== "user" || !Array.isArray(last.content)) return []
  return last.content.filter(
    (block): block is { type: "tool_result"; tool_use_id: string; content: unknown; is_error?: boolean } =>
      typeof block === "object" && block !== null && (block as { type?: unknown }).type === "tool_result",
  )
}

function assistantTurnsIn(body: MessagesRequestBody): number {
  let turns = 0
  let previous = ""
  for (const message of body.messages ?? []) {
    // The CLI keeps one assistant line per content block; consecutive ones are one model reply.
    if (message.role === "assistant" && previous !== "assistant") turns++
    previous = message.role
  }
  return turns
}

function reply(
  res: ServerResponse,
  stream: boolean,
  id: string,
  model: string,
  turn: FakeTurn,
  turnIndex: number,
): void {
  const content = turn.content.map((block, i) =>
    block.type === "text"
      ? { type: "text" as const, text: block.text }
      : {
          type: "tool_use" as const,
          id: block.id ?? `toolu_fake_${turnIndex}_${i}`,
          name: block.name,
          input: block.input,
        },
  )
  const stopReason = turn.stopReason ?? (content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn")
  const outputTokens = Math.max(1, Math.ceil(JSON.stringify(content).length / 4))
  const headers = { "request-id": `req_${id}` }
  if (!stream) {
    res.writeHead(200, { ...headers, "content-type": "application/json" })
    res.end(
      JSON.stringify({
        id,
        type: "message",
        role: "assistant",
        model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: outputTokens },
      }),
    )
    return
  }
  res.writeHead(200, { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache" })
  const send = (event: string, data: object) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  send("message_start", {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 10,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    },
  })
  send("ping", { type: "ping" })
  content.forEach((block, index) => {
    if (block.type === "text") {
      send("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      })
      // Two deltas, so a client that only keeps the last delta would show a truncated text.
      for (const text of halves(block.text)) {
        send("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text },
        })
      }
    } else {
      send("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      })
      for (const partial_json of halves(JSON.stringify(block.input))) {
        send("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json },
        })
      }
    }
    send("content_block_stop", { type: "content_block_stop", index })
  })
  send("message_delta", {
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  })
  send("message_stop", { type: "message_stop" })
  res.end()
}

function halves(text: string): string[] {
  // Split on code points: a surrogate pair cut in two would be two broken JSON strings.
  const chars = Array.from(text)
  const mid = Math.ceil(chars.length / 2)
  return chars.length < 2 ? [text] : [chars.slice(0, mid).join(""), chars.slice(mid).join("")]
}

function apiError(type: string, message: string): string {
  return JSON.stringify({ type: "error", error: { type, message } })
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })
}
