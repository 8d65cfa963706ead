/**
 * A small real HTTP + WebSocket host speaking SPEC §4/§5, for testing the direct-connect client before (and
 * beside) the real server. It listens on 127.0.0.1 port 0 and runs a scripted agent per session that behaves
 * like the built-in one: per user message an `assistant` text, and for each line starting with `$ ` a Bash
 * tool use that asks permission, then one `result`. Tests can also emit arbitrary messages, drop sockets and
 * inspect what clients sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { type WebSocket, WebSocketServer } from "ws"

export type Frame = { readonly type: string; readonly [field: string]: unknown }
export type SeqFrame = Frame & { readonly seq: number }

export interface FakeSession {
  readonly id: string
  readonly workDir: string
  readonly title: string
  readonly agent: string
  readonly skipPermissions: boolean
  status: "idle" | "busy" | "awaiting_permission" | "killed"
  readonly history: SeqFrame[]
  /** Pending can_use_tool requests (as sent, with their seq) by request id. */
  readonly pending: Map<
    string,
    { readonly frame: SeqFrame; readonly command: string; readonly toolUseId: string }
  >
  readonly clients: Set<WebSocket>
  /** Every frame clients sent, parsed, in arrival order. */
  readonly received: Frame[]
  /** Commands still to run in the current turn. */
  queue: string[]
  toolCounter: number
  turns: number
  failTurn: boolean
  /** The text of every turn, in order (POST /sessions prompt first). */
  readonly prompts: string[]
}

export interface FakeServerOptions {
  readonly token: string
  /** When set, POST /sessions refuses a `cwd` outside it with 403 AGH_POLICY_CWD. */
  readonly workRoot?: string
}

interface FrameWaiter {
  readonly predicate: (frame: Frame, session: FakeSession) => boolean
  readonly resolve: (frame: Frame) => void
}

export class FakeDirectConnectServer {
  readonly sessions = new Map<string, FakeSession>()
  /** Every accepted WebSocket upgrade: the session and the `after` cursor it asked for. */
  readonly upgrades: Array<{ readonly sessionId: string; readonly after: number }> = []
  /** Every refused upgrade's status. */
  readonly rejectedUpgrades: number[] = []
  private waiters: FrameWaiter[] = []
  /** Frame types whose next arrival is swallowed unprocessed (an answer lost with a dying socket). */
  private readonly toLose: string[] = []
  private upgradeWaiters: Array<{ readonly count: number; readonly resolve: () => void }> = []
  private counter = 0
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeServerOptions,
  ) {}

  static async start(options: FakeServerOptions): Promise<FakeDirectConnectServer> {
    let self: FakeDirectConnectServer | undefined
    const server = createServer((req, res) => {
      self?.handleHttp(req, res).catch((err: unknown) => {
        sendJson(res, 500, { error: { code: "AGH_INTERNAL", message: String(err) } })
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { port } = server.address() as AddressInfo
    self = new FakeDirectConnectServer(server, `http://127.0.0.1:${port}`, options)
    server.on("upgrade", (req, socket, head) => self?.handleUpgrade(req, socket, head))
    return self
  }

  /** Makes a session as POST /sessions would. */
  createSession(body: {
    cwd?: string
    prompt?: string
    title?: string
    agent?: string
    skip?: boolean
  }): FakeSession {
    this.counter += 1
    const id = `s_${this.counter.toString(16).padStart(24, "0")}`
    const session: FakeSession = {
      id,
      workDir: body.cwd ?? `/work/${id}`,
      title: body.title ?? "",
      agent: body.agent ?? "builtin",
      skipPermissions: body.skip ?? false,
      status: "idle",
      history: [],
      pending: new Map(),
      clients: new Set(),
      received: [],
      queue: [],
      toolCounter: 0,
      turns: 0,
      failTurn: false,
      prompts: [],
    }
    this.sessions.set(id, session)
    if (body.prompt !== undefined) this.runTurn(session, body.prompt)
    return session
  }

  session(id: string): FakeSession {
    const session = this.sessions.get(id)
    if (!session) throw new Error(`no fake session ${id}`)
    return session
  }

  /** Appends `frame` to the session's history with the next seq and sends it to every client. */
  emit(sessionId: string, frame: Frame): SeqFrame {
    const session = this.session(sessionId)
    const withSeq: SeqFrame = { ...frame, seq: session.history.length + 1 }
    session.history.push(withSeq)
    for (const client of session.clients) client.send(JSON.stringify(withSeq))
    return withSeq
  }

  /** Sends a frame that is not history (no seq) to every client of the session. */
  sendRaw(sessionId: string, frame: Frame | string): void {
    const text = typeof frame === "string" ? frame : JSON.stringify(frame)
    for (const client of this.session(sessionId).clients) client.send(text)
  }

  /** Kills every client socket of the session without a close frame (a network drop). */
  dropClients(sessionId: string): void {
    const session = this.session(sessionId)
    for (const client of session.clients) client.terminate()
    session.clients.clear()
  }

  /** Closes every client socket of the session with `code`. */
  closeClients(sessionId: string, code: number, reason: string): void {
    const session = this.session(sessionId)
    for (const client of session.clients) client.close(code, reason)
    session.clients.clear()
  }

  /** Kills the session as DELETE /sessions/:id does: clients get a normal close after the history. */
  kill(sessionId: string): void {
    const session = this.session(sessionId)
    session.status = "killed"
    session.pending.clear()
    this.closeClients(session.id, 1000, "session killed")
  }

  /** Resolves once `count` WebSocket upgrades were accepted in total. */
  waitForUpgrades(count: number): Promise<void> {
    if (this.upgrades.length >= count) return Promise.resolve()
    return new Promise((resolve) => this.upgradeWaiters.push({ count, resolve }))
  }

  /** The next client frame of `type` is recorded but not acted on, as if it died with the socket. */
  loseNext(type: string): void {
    this.toLose.push(type)
  }

  /** Resolves with the first client frame (already received or future) that matches. */
  waitForFrame(sessionId: string, predicate: (frame: Frame) => boolean): Promise<Frame> {
    const session = this.session(sessionId)
    const seen = session.received.find(predicate)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => {
      this.waiters.push({ predicate: (frame, s) => s.id === sessionId && predicate(frame), resolve })
    })
  }

  async close(): Promise<void> {
    for (const session of this.sessions.values()) for (const client of session.clients) client.terminate()
    this.wss.close()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  // --- the scripted agent -------------------------------------------------------------------------------

  private runTurn(session: FakeSession, text: string): void {
    session.turns += 1
    session.prompts.push(text)
    session.status = "busy"
    this.emit(session.id, {
      type: "system",
      subtype: "init",
      session_id: session.id,
      model: "fake",
      cwd: session.workDir,
    })
    this.emit(session.id, assistantText(session.id, `You said: ${text}`))
    // A prompt containing "!fail" ends its turn with an error result.
    session.failTurn = text.includes("!fail")
    session.queue = text
      .split("\n")
      .filter((line) => line.startsWith("$ "))
      .map((line) => line.slice(2))
    this.nextTool(session)
  }

  private nextTool(session: FakeSession): void {
    const command = session.queue.shift()
    if (command === undefined) {
      this.emit(session.id, assistantText(session.id, "Done."))
      this.emit(session.id, resultFrame(session, session.failTurn ? "error_during_execution" : "success"))
      session.status = "idle"
      return
    }
    session.toolCounter += 1
    const toolUseId = `toolu_${session.toolCounter}`
    this.emit(session.id, {
      type: "assistant",
      session_id: session.id,
      message: {
        role: "assistant",
        content: [{ type: "tool_use", id: toolUseId, name: "Bash", input: { command } }],
      },
      parent_tool_use_id: null,
    })
    if (session.skipPermissions) {
      this.toolResult(session, toolUseId, `ran: ${command}`, false)
      this.nextTool(session)
      return
    }
    const requestId = `perm_${session.toolCounter}`
    const frame = this.emit(session.id, {
      type: "control_request",
      request_id: requestId,
      request: {
        subtype: "can_use_tool",
        tool_name: "Bash",
        input: { command },
        tool_use_id: toolUseId,
        description: `Run ${command}`,
      },
    })
    session.pending.set(requestId, { frame, command, toolUseId })
    session.status = "awaiting_permission"
  }

  private toolResult(session: FakeSession, toolUseId: string, content: string, isError: boolean): void {
    this.emit(session.id, {
      type: "user",
      session_id: session.id,
      parent_tool_use_id: null,
      message: {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: toolUseId, content, is_error: isError }],
      },
    })
  }

  private answer(session: FakeSession, from: WebSocket, frame: Frame): void {
    const response = isObject(frame.response) ? frame.response : {}
    const requestId = typeof response.request_id === "string" ? response.request_id : ""
    const result = isObject(response.response) ? response.response : {}
    const pending = session.pending.get(requestId)
    if (!pending) {
      from.send(
        JSON.stringify({
          type: "error",
          error: {
            code: "AGH_WS_ALREADY_ANSWERED",
            message: `permission request ${requestId} is not pending`,
          },
        }),
      )
      return
    }
    session.pending.delete(requestId)
    for (const client of session.clients) {
      if (client !== from)
        client.send(JSON.stringify({ type: "control_cancel_request", request_id: requestId }))
    }
    session.status = "busy"
    if (result.behavior === "allow") {
      const updated = isObject(result.updatedInput) ? result.updatedInput.command : undefined
      const command = typeof updated === "string" ? updated : pending.command
      this.toolResult(session, pending.toolUseId, `ran: ${command}`, false)
    } else {
      const message = typeof result.message === "string" ? result.message : "denied"
      this.toolResult(session, pending.toolUseId, message, true)
    }
    this.nextTool(session)
  }

  private interrupt(session: FakeSession, from: WebSocket, frame: Frame): void {
    from.send(
      JSON.stringify({
        type: "control_response",
        response: { subtype: "success", request_id: frame.request_id, response: { still_queued: [] } },
      }),
    )
    if (session.status === "idle" || session.status === "killed") return
    for (const requestId of session.pending.keys()) {
      this.emit(session.id, { type: "control_cancel_request", request_id: requestId })
    }
    session.pending.clear()
    session.queue = []
    this.emit(session.id, {
      type: "user",
      session_id: session.id,
      parent_tool_use_id: null,
      message: { role: "user", content: [{ type: "text", text: "[Request interrupted by user]" }] },
    })
    this.emit(session.id, resultFrame(session, "error_during_execution"))
    session.status = "idle"
  }

  // --- HTTP and WebSocket plumbing ------------------------------------------------------------------------

  private authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.options.token}`
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url)
    const parts = url.pathname.split("/").filter((p) => p !== "")
    if (req.method === "GET" && url.pathname === "/healthz") return sendJson(res, 200, { ok: true })
    if (!this.authorized(req)) {
      const code = req.headers.authorization === undefined ? "AGH_AUTH_REQUIRED" : "AGH_AUTH_INVALID"
      return sendJson(res, 401, { error: { code, message: "a valid bearer token is required" } })
    }
    if (parts[0] !== "sessions")
      return sendJson(res, 404, { error: { code: "AGH_NOT_FOUND", message: url.pathname } })
    if (parts.length === 1 && req.method === "POST") {
      const body = JSON.parse((await readBody(req)) || "{}") as Record<string, unknown>
      if (body.cwd !== undefined && typeof body.cwd !== "string") {
        return sendJson(res, 400, { error: { code: "AGH_BAD_REQUEST", message: "cwd: expected a string" } })
      }
      const cwd = body.cwd as string | undefined
      const root = this.options.workRoot
      if (root !== undefined && cwd !== undefined && !cwd.startsWith(root)) {
        return sendJson(res, 403, {
          error: { code: "AGH_POLICY_CWD", message: `cwd ${cwd} is outside the work roots (${root})` },
        })
      }
      const session = this.createSession({
        ...(cwd === undefined ? {} : { cwd }),
        ...(typeof body.prompt === "string" ? { prompt: body.prompt } : {}),
        ...(typeof body.title === "string" ? { title: body.title } : {}),
        ...(typeof body.agent === "string" ? { agent: body.agent } : {}),
        skip: body.dangerously_skip_permissions === true,
      })
      return sendJson(res, 201, {
        session_id: session.id,
        ws_url: `${this.url.replace(/^http/, "ws")}/sessions/${session.id}/ws`,
        work_dir: session.workDir,
        status: "starting",
      })
    }
    if (parts.length === 1 && req.method === "GET") {
      return sendJson(
        res,
        200,
        [...this.sessions.values()].map((s) => info(s)),
      )
    }
    const session = this.sessions.get(parts[1] ?? "")
    if (!session) {
      return sendJson(res, 404, {
        error: { code: "AGH_SESSION_NOT_FOUND", message: `no session ${JSON.stringify(parts[1])}` },
      })
    }
    if (parts.length === 2 && req.method === "GET") return sendJson(res, 200, info(session))
    if (parts.length === 2 && req.method === "DELETE") {
      this.kill(session.id)
      return sendJson(res, 200, info(session))
    }
    if (parts.length === 3 && parts[2] === "messages" && req.method === "GET") {
      const after = Number(url.searchParams.get("after") ?? "0")
      return sendJson(
        res,
        200,
        session.history.filter((m) => m.seq > after),
      )
    }
    return sendJson(res, 404, { error: { code: "AGH_NOT_FOUND", message: url.pathname } })
  }

  private handleUpgrade(req: IncomingMessage, socket: import("node:stream").Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", this.url)
    const parts = url.pathname.split("/").filter((p) => p !== "")
    const refuse = (status: number, code: string, message: string) => {
      this.rejectedUpgrades.push(status)
      const body = JSON.stringify({ error: { code, message } })
      socket.end(
        `HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      )
    }
    if (!this.authorized(req)) {
      refuse(401, "AGH_AUTH_INVALID", "a valid bearer token is required")
      return
    }
    const session =
      parts[0] === "sessions" && parts[2] === "ws" ? this.sessions.get(parts[1] ?? "") : undefined
    if (!session) {
      refuse(404, "AGH_SESSION_NOT_FOUND", `no session ${JSON.stringify(parts[1])}`)
      return
    }
    const after = Number(url.searchParams.get("after") ?? "0")
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.upgrades.push({ sessionId: session.id, after })
      for (const frame of session.history) if (frame.seq > after) ws.send(JSON.stringify(frame))
      // A request the replay did not cover still needs an answer: send it again (SPEC §5).
      for (const { frame } of session.pending.values()) if (frame.seq <= after) ws.send(JSON.stringify(frame))
      session.clients.add(ws)
      const ready = this.upgradeWaiters.filter((w) => this.upgrades.length >= w.count)
      this.upgradeWaiters = this.upgradeWaiters.filter((w) => !ready.includes(w))
      for (const w of ready) w.resolve()
      ws.on("close", () => session.clients.delete(ws))
      ws.on("message", (data, isBinary) => this.clientFrame(session, ws, data.toString(), isBinary))
    })
  }

  private clientFrame(session: FakeSession, ws: WebSocket, text: string, isBinary: boolean): void {
    let frame: Frame
    try {
      frame = JSON.parse(text) as Frame
    } catch {
      ws.send(
        JSON.stringify({ type: "error", error: { code: "AGH_WS_NOT_JSON", message: "frame is not JSON" } }),
      )
      return
    }
    if (isBinary || !isObject(frame)) return
    session.received.push(frame)
    const ready = this.waiters.filter((w) => w.predicate(frame, session))
    this.waiters = this.waiters.filter((w) => !ready.includes(w))
    for (const w of ready) w.resolve(frame)
    const lost = this.toLose.indexOf(frame.type)
    if (lost >= 0) {
      this.toLose.splice(lost, 1)
      return
    }
    switch (frame.type) {
      case "user": {
        const message = isObject(frame.message) ? frame.message : {}
        const content = message.content
        const text =
          typeof content === "string"
            ? content
            : Array.isArray(content)
              ? content.map((b) => (isObject(b) && typeof b.text === "string" ? b.text : "")).join("\n")
              : ""
        this.runTurn(session, text)
        return
      }
      case "control_response":
        this.answer(session, ws, frame)
        return
      case "control_request":
        if (isObject(frame.request) && frame.request.subtype === "interrupt")
          this.interrupt(session, ws, frame)
        return
      case "keep_alive":
        return
      default:
        ws.send(
          JSON.stringify({
            type: "error",
            error: {
              code: "AGH_WS_UNKNOWN_TYPE",
              message: `unknown message type ${JSON.stringify(frame.type)}`,
            },
          }),
        )
    }
  }
}

function info(session: FakeSession): Record<string, unknown> {
  return {
    id: session.id,
    title: session.title,
    status: session.status,
    agent: session.agent,
    work_dir: session.workDir,
    start_time: "2026-01-01T00:00:00.000Z",
    todo_list: [],
    last_seq: session.history.length,
    pending_permissions: session.pending.size,
  }
}

function assistantText(sessionId: string, text: string): Frame {
  return {
    type: "assistant",
    session_id: sessionId,
    message: { role: "assistant", content: [{ type: "text", text }] },
    parent_tool_use_id: null,
  }
}

function resultFrame(session: FakeSession, subtype: "success" | "error_during_execution"): Frame {
  return {
    type: "result",
    subtype,
    is_error: subtype !== "success",
    result: subtype === "success" ? "Done." : "",
    session_id: session.id,
    duration_ms: 1234,
    duration_api_ms: 0,
    num_turns: session.turns,
    total_cost_usd: 0.0123,
    usage: {},
    permission_denials: [],
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })
}
