import type { Socket } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { WebSocket } from "ws"
import { FakeSessionHandle } from "../support/fakeSessionHandle.js"
import { openWs, startTestServer, type TestServer, type WsClient } from "./testServer.js"

let t: TestServer | undefined

afterEach(async () => {
  await t?.close()
  t = undefined
})

async function setup(overrides: Parameters<typeof startTestServer>[0] = {}) {
  t = await startTestServer(overrides)
  const session = t.manager.add(new FakeSessionHandle({ id: "s_ws", workDir: t.workRoot, status: "busy" }))
  return { t, session }
}

const isType = (type: string) => (f: Record<string, unknown>) => f.type === type
const errorCode = (f: Record<string, unknown>) => (f.error as { code?: string } | undefined)?.code

/** Resolves once the server has handled everything the client sent before (frames are processed in order). */
async function roundTrip(client: WsClient, id: string): Promise<void> {
  client.send({ type: "control_request", request_id: id, request: { subtype: "noop" } })
  await client.waitFor(
    (f) => f.type === "control_response" && (f.response as { request_id: string }).request_id === id,
  )
}

describe("WebSocket: stream and permissions", () => {
  it("replays history with seq, then streams live; several clients all see it", async () => {
    const { t, session } = await setup()
    session.emit({ type: "system", subtype: "init" })
    const a = await t.ws("/sessions/s_ws/ws")
    const b = await t.ws("/sessions/s_ws/ws?after=0")
    session.emit({ type: "assistant", message: { content: [{ type: "text", text: "hi" }] } })
    await a.waitFor((f) => f.seq === 2)
    await b.waitFor((f) => f.seq === 2)
    expect(a.frames).toEqual([
      { type: "system", subtype: "init", seq: 1 },
      { type: "assistant", message: { content: [{ type: "text", text: "hi" }] }, seq: 2 },
    ])
    expect(b.frames).toEqual(a.frames)
  })

  it("runs a full permission round trip and records the cancel in history", async () => {
    const { t, session } = await setup()
    const client = await t.ws("/sessions/s_ws/ws")
    session.requestPermission("Bash", { command: "rm -rf build" }, "R1")
    const request = await client.waitFor(isType("control_request"))
    expect(request).toEqual({
      type: "control_request",
      request_id: "R1",
      request: {
        subtype: "can_use_tool",
        tool_name: "Bash",
        input: { command: "rm -rf build" },
        tool_use_id: "toolu_R1",
      },
      seq: 1,
    })
    client.send({
      type: "control_response",
      response: {
        subtype: "success",
        request_id: "R1",
        response: { behavior: "allow", updatedInput: { command: "rm -rf build/tmp" }, toolUseID: "toolu_R1" },
      },
    })
    const cancel = await client.waitFor(isType("control_cancel_request"))
    expect(cancel).toEqual({ type: "control_cancel_request", request_id: "R1", seq: 2 })
    expect(session.answers).toEqual([
      {
        requestId: "R1",
        answer: { behavior: "allow", updatedInput: { command: "rm -rf build/tmp" }, toolUseID: "toolu_R1" },
        clientId: "conn_1",
      },
    ])
  })

  it("turns a client's control_response error into a deny", async () => {
    const { t, session } = await setup()
    const client = await t.ws("/sessions/s_ws/ws")
    session.requestPermission("Bash", { command: "x" }, "R9")
    await client.waitFor(isType("control_request"))
    client.send({
      type: "control_response",
      response: { subtype: "error", request_id: "R9", error: "no UI" },
    })
    await client.waitFor(isType("control_cancel_request"))
    expect(session.answers).toEqual([
      {
        requestId: "R9",
        answer: { behavior: "deny", message: "the client could not answer: no UI" },
        clientId: "conn_1",
      },
    ])
  })

  it("forwards user messages with their unknown fields and refuses one for another session", async () => {
    const { t, session } = await setup()
    const client = await t.ws("/sessions/s_ws/ws")
    const user = {
      type: "user",
      message: { role: "user", content: "$ echo hi" },
      parent_tool_use_id: null,
      session_id: "s_ws",
      uuid: "u-1",
      priority: "next",
    }
    client.send(user)
    client.send({ ...user, session_id: "s_other" })
    const error = await client.waitFor(isType("error"))
    expect(error).toEqual({
      type: "error",
      error: {
        code: "AGH_WS_BAD_SHAPE",
        message: 'bad user frame: field "session_id": "s_other" is not this session (s_ws)',
      },
    })
    expect(session.userMessages).toEqual([user])
  })

  it("reports a session that cannot take a message", async () => {
    const { t, session } = await setup()
    session.failSends = Object.assign(new Error("session s_ws is completed"), { code: "AGH_SESSION_ENDED" })
    const client = await t.ws("/sessions/s_ws/ws")
    client.send({ type: "user", message: { role: "user", content: "hi" } })
    expect(await client.waitFor(isType("error"))).toEqual({
      type: "error",
      error: { code: "AGH_SESSION_ENDED", message: "session s_ws is completed" },
    })
  })

  it("interrupts: answers the control_request and withdraws pending permissions", async () => {
    const { t, session } = await setup()
    const client = await t.ws("/sessions/s_ws/ws")
    session.requestPermission("Bash", { command: "make" }, "R2")
    await client.waitFor(isType("control_request"))
    client.send({ type: "control_request", request_id: "int-1", request: { subtype: "interrupt" } })
    const response = await client.waitFor(isType("control_response"))
    expect(response).toEqual({
      type: "control_response",
      response: { subtype: "success", request_id: "int-1", response: {} },
    })
    expect(session.interrupts).toBe(1)
    expect(client.frames.filter((f) => f.seq !== undefined).map((f) => [f.type, f.seq])).toEqual([
      ["control_request", 1],
      ["control_cancel_request", 2],
      ["result", 3],
    ])
    client.send({ type: "control_request", request_id: "m-1", request: { subtype: "set_model" } })
    expect(
      await client.waitFor((f) => (f.response as { request_id?: string })?.request_id === "m-1"),
    ).toEqual({
      type: "control_response",
      response: {
        subtype: "error",
        request_id: "m-1",
        error: "Unsupported control request subtype: set_model",
      },
    })
  })

  it("two clients race to answer: one wins, the other is told and both get control_cancel_request", async () => {
    const { t, session } = await setup()
    const a = await t.ws("/sessions/s_ws/ws")
    const b = await t.ws("/sessions/s_ws/ws")
    session.requestPermission("Bash", { command: "deploy" }, "R3")
    await a.waitFor(isType("control_request"))
    await b.waitFor(isType("control_request"))
    const answer = (behavior: "allow" | "deny") => ({
      type: "control_response",
      response: {
        subtype: "success",
        request_id: "R3",
        response: behavior === "allow" ? { behavior } : { behavior, message: "no" },
      },
    })
    a.send(answer("allow"))
    b.send(answer("deny"))
    await a.waitFor(isType("control_cancel_request"))
    await b.waitFor(isType("control_cancel_request"))
    await roundTrip(a, "sync-a")
    await roundTrip(b, "sync-b")
    expect(session.answers).toHaveLength(1)
    const winner = session.answers[0]?.answer.behavior === "allow" ? a : b
    const loser = winner === a ? b : a
    expect(winner.frames.filter(isType("error"))).toEqual([])
    expect(loser.frames.filter(isType("error"))).toEqual([
      {
        type: "error",
        error: {
          code: "AGH_WS_PERMISSION_ALREADY_ANSWERED",
          message: 'permission request "R3" was already answered (first answer wins)',
        },
        request_id: "R3",
      },
    ])
  })

  it("tells a client about an answer to an unknown request", async () => {
    const { t } = await setup()
    const client = await t.ws("/sessions/s_ws/ws")
    client.send({
      type: "control_response",
      response: { subtype: "success", request_id: "nope", response: { behavior: "allow" } },
    })
    expect(errorCode(await client.waitFor(isType("error")))).toBe("AGH_WS_PERMISSION_UNKNOWN")
  })
})

describe("WebSocket: reconnect", () => {
  it("with ?after= gets exactly the missed messages, then live ones, nothing twice", async () => {
    const { t, session } = await setup()
    for (let i = 0; i < 3; i++) session.emit({ type: "assistant", i })
    const first = await t.ws("/sessions/s_ws/ws")
    await first.waitFor((f) => f.seq === 3)
    first.socket.close()
    await first.closed
    for (let i = 3; i < 6; i++) session.emit({ type: "assistant", i })
    const last = Math.max(...first.seqs())
    const again = await t.ws(`/sessions/s_ws/ws?after=${last}`)
    session.emit({ type: "assistant", i: 6 })
    await again.waitFor((f) => f.seq === 7)
    expect(first.seqs()).toEqual([1, 2, 3])
    expect(again.seqs()).toEqual([4, 5, 6, 7])
    expect([...first.seqs(), ...again.seqs()]).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  it("re-sends a pending permission request the cursor already covers, once, before the replay", async () => {
    const { t, session } = await setup()
    session.emit({ type: "assistant", i: 0 })
    session.requestPermission("Bash", { command: "ls" }, "R4")
    session.emit({ type: "assistant", i: 1 })
    const client = await t.ws("/sessions/s_ws/ws?after=3")
    session.emit({ type: "assistant", i: 2 })
    await client.waitFor((f) => f.seq === 4)
    expect(client.frames.map((f) => [f.type, f.seq])).toEqual([
      ["control_request", 2],
      ["assistant", 4],
    ])
    // Not covered by the cursor: it comes once, in the replay.
    const fresh = await t.ws("/sessions/s_ws/ws?after=1")
    await fresh.waitFor((f) => f.seq === 4)
    expect(fresh.frames.map((f) => f.seq)).toEqual([2, 3, 4])
  })

  it("refuses a cursor beyond the session's last seq and an unknown session before upgrading", async () => {
    const { t, session } = await setup()
    session.emit({ type: "assistant" })
    await expect(t.ws("/sessions/s_ws/ws?after=2")).rejects.toMatchObject({
      status: 400,
      body: {
        error: {
          code: "AGH_BAD_REQUEST",
          message: `query parameter "after": 2 is beyond the session's last seq 1`,
        },
      },
    })
    await expect(t.ws("/sessions/s_ws/ws?after=x")).rejects.toMatchObject({ status: 400 })
    await expect(t.ws("/sessions/s_nope/ws")).rejects.toMatchObject({
      status: 404,
      body: { error: { code: "AGH_SESSION_NOT_FOUND", message: 'no session "s_nope"' } },
    })
  })
})

describe("WebSocket: auth", () => {
  it("needs the token: none → 401 AGH_AUTH_REQUIRED, wrong → 401 AGH_AUTH_INVALID", async () => {
    const { t } = await setup()
    await expect(t.ws("/sessions/s_ws/ws", { token: null })).rejects.toMatchObject({
      status: 401,
      body: { error: { code: "AGH_AUTH_REQUIRED" } },
    })
    await expect(t.ws("/sessions/s_ws/ws", { token: "f".repeat(64) })).rejects.toMatchObject({
      status: 401,
      body: { error: { code: "AGH_AUTH_INVALID" } },
    })
  })

  it("accepts the token as a bearer subprotocol (browsers) and never echoes it", async () => {
    const { t } = await setup()
    const client = await openWs(`${t.wsBase}/sessions/s_ws/ws`, {}, [
      "agenthost.v1",
      `agenthost.bearer.${t.token}`,
    ])
    expect(client.socket.protocol).toBe("agenthost.v1")
    client.socket.close()
    await expect(
      openWs(`${t.wsBase}/sessions/s_ws/ws`, {}, ["agenthost.v1", `agenthost.bearer.${"a".repeat(64)}`]),
    ).rejects.toMatchObject({ status: 401, body: { error: { code: "AGH_AUTH_INVALID" } } })
  })
})

describe("WebSocket: bad input", () => {
  it("answers each kind of bad frame with its code and keeps the connection", async () => {
    const { t, session } = await setup()
    const client = await t.ws("/sessions/s_ws/ws")
    const bad: Array<[string | Buffer, string, string]> = [
      ["{nope", "AGH_WS_NOT_JSON", "frame is not JSON: "],
      ["[1,2]", "AGH_WS_BAD_SHAPE", "frame must be a JSON object, got an array"],
      ["42", "AGH_WS_BAD_SHAPE", "frame must be a JSON object, got number"],
      ['{"x":1}', "AGH_WS_BAD_SHAPE", 'bad frame: field "type": Expected string'],
      [
        '{"type":"assistant"}',
        "AGH_WS_UNKNOWN_TYPE",
        'unknown frame type "assistant"; a client may send user, control_response, control_request, keep_alive',
      ],
      [
        '{"type":"user","message":{"role":"assistant","content":"x"}}',
        "AGH_WS_BAD_SHAPE",
        'bad user frame: field "message.role": Expected "user", got "assistant"',
      ],
      ['{"type":"user"}', "AGH_WS_BAD_SHAPE", 'bad user frame: field "message": missing'],
      [
        '{"type":"control_request","request_id":"","request":{"subtype":"interrupt"}}',
        "AGH_WS_BAD_SHAPE",
        'bad control_request frame: field "request_id": ',
      ],
      [
        Buffer.from([1, 2, 3]),
        "AGH_WS_BINARY",
        "binary frames are not accepted: send one JSON object per text frame",
      ],
    ]
    for (const [frame, code, message] of bad) {
      const from = client.frames.length
      if (typeof frame === "string") client.socket.send(frame)
      else client.socket.send(frame, { binary: true })
      const error = await client.waitFor(isType("error"), { from })
      expect(error.error, String(frame)).toEqual({ code, message: expect.stringContaining(message) })
      expect((error.error as { message: string }).message.startsWith(message), String(frame)).toBe(true)
    }
    // The session is unharmed and the client still attached.
    session.emit({ type: "assistant", ok: true })
    expect(await client.waitFor((f) => f.ok === true)).toEqual({ type: "assistant", ok: true, seq: 1 })
    expect(session.userMessages).toEqual([])
  })

  it("closes a client that keeps sending garbage with 1008 after more than ws_max_bad_frames in the window", async () => {
    const { t, session } = await setup({ ws_max_bad_frames: 5, ws_bad_frame_window_ms: 1_000 })
    const client = await t.ws("/sessions/s_ws/ws")
    // Bad frames spread out over time are forgiven.
    for (let i = 0; i < 5; i++) client.send("garbage")
    await roundTrip(client, "sync-1")
    t.clock.advance(1_000)
    for (let i = 0; i < 5; i++) client.send("garbage")
    await roundTrip(client, "sync-2")
    expect(client.socket.readyState).toBe(WebSocket.OPEN)
    client.send("garbage")
    expect(await client.closed).toEqual({ code: 1008, reason: "AGH_WS_TOO_MANY_BAD_FRAMES: 6 in 1000 ms" })
    expect(client.frames.filter(isType("error"))).toHaveLength(11)
    expect(session.listenerCount).toBe(0)
  })

  it("closes on a frame over max_frame_bytes with 1009 after saying why", async () => {
    const { t } = await setup({ max_frame_bytes: 4096 })
    const client = await t.ws("/sessions/s_ws/ws")
    client.send({ type: "user", message: { role: "user", content: "x".repeat(5000) } })
    expect(await client.closed).toEqual({ code: 1009, reason: "AGH_WS_FRAME_TOO_LARGE" })
    expect(client.frames).toEqual([
      {
        type: "error",
        error: { code: "AGH_WS_FRAME_TOO_LARGE", message: "frame exceeds the host's max_frame_bytes" },
      },
    ])
  })
})

describe("WebSocket: liveness, backpressure, endings", () => {
  it("pings on the clock, sends keep_alive, and drops a peer that misses a pong", async () => {
    const { t } = await setup({ ws_ping_interval_ms: 30_000 })
    const live = await t.ws("/sessions/s_ws/ws")
    const dead = await openWs(`${t.wsBase}/sessions/s_ws/ws`, { authorization: `Bearer ${t.token}` })
    // A peer that never answers pings (ws answers them automatically; this one is told not to).
    ;(dead.socket as unknown as { _autoPong: boolean })._autoPong = false
    t.clock.advance(30_000)
    await live.waitFor(isType("keep_alive"))
    await dead.waitFor(isType("keep_alive"))
    // The live client's pong was written before this frame, so the server has it after the round trip.
    await roundTrip(live, "after-pong")
    await roundTrip(dead, "no-pong")
    t.clock.advance(30_000)
    expect((await dead.closed).code).toBe(1006)
    await live.waitFor(isType("keep_alive"), { from: live.frames.findIndex(isType("keep_alive")) + 1 })
    expect(live.socket.readyState).toBe(WebSocket.OPEN)
    expect(t.server.stats().connections).toBe(1)
  })

  it("closes a client that stops reading with 4008 and keeps host memory bounded", async () => {
    const limit = 256 * 1024
    const { t, session } = await setup({ ws_max_buffered_bytes: limit })
    const slow = await t.ws("/sessions/s_ws/ws")
    const fast = await t.ws("/sessions/s_ws/ws")
    const rawSocket = (slow.socket as unknown as { _socket: Socket })._socket
    rawSocket.pause()
    const payload = "x".repeat(8 * 1024)
    let maxBuffered = 0
    let emitted = 0
    // Emit until the server gives up on the slow client (bounded: 64 MiB at most).
    while (session.listenerCount === 2 && emitted < 8_192) {
      for (let i = 0; i < 16; i++) {
        session.emit({ type: "assistant", payload })
        emitted++
        maxBuffered = Math.max(maxBuffered, t.server.stats().bufferedBytes)
      }
      await new Promise((r) => setImmediate(r))
    }
    // The server stopped feeding it (the socket itself lingers until the closing handshake or ws's timeout).
    expect(session.listenerCount).toBe(1)
    // Bounded: the limit plus one message (the one that crossed it) plus the fast client's share.
    expect(maxBuffered).toBeLessThan(2 * limit + 2 * payload.length)
    rawSocket.resume()
    expect(await slow.closed).toEqual({ code: 4008, reason: "AGH_WS_SLOW_CLIENT" })
    const got = slow.seqs()
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1))
    expect(got.length).toBeLessThan(emitted)
    // It reconnects from its cursor and misses nothing.
    const again = await t.ws(`/sessions/s_ws/ws?after=${got.length}`)
    await again.waitFor((f) => f.seq === emitted, { timeoutMs: 20_000 })
    expect([...got, ...again.seqs()]).toEqual(Array.from({ length: emitted }, (_, i) => i + 1))
    await fast.waitFor((f) => f.seq === emitted, { timeoutMs: 20_000 })
    expect(fast.seqs()).toHaveLength(emitted)
  })

  it("replays a history far larger than the buffer limit without mistaking the client for a slow one", async () => {
    const { t, session } = await setup({ ws_max_buffered_bytes: 128 * 1024 })
    const payload = "y".repeat(8 * 1024)
    for (let i = 0; i < 1_000; i++) session.emit({ type: "assistant", payload })
    const client = await t.ws("/sessions/s_ws/ws")
    session.emit({ type: "assistant", live: true })
    await client.waitFor((f) => f.live === true, { timeoutMs: 20_000 })
    expect(client.seqs()).toEqual(Array.from({ length: 1_001 }, (_, i) => i + 1))
    expect(client.socket.readyState).toBe(WebSocket.OPEN)
  })

  it("sends the final messages then closes with 1000 when the session ends", async () => {
    const { t, session } = await setup()
    const a = await t.ws("/sessions/s_ws/ws")
    const b = await t.ws("/sessions/s_ws/ws")
    session.emit({ type: "result", subtype: "success" })
    session.finish("completed")
    for (const c of [a, b]) {
      expect(await c.closed).toEqual({ code: 1000, reason: "session completed" })
      expect(c.seqs()).toEqual([1])
    }
    // Attaching to an ended session replays its history, then closes.
    const late = await t.ws("/sessions/s_ws/ws")
    expect(await late.closed).toEqual({ code: 1000, reason: "session completed" })
    expect(late.seqs()).toEqual([1])
  })

  it("closes clients with 1001 on shutdown and shuts the session manager down", async () => {
    const { t } = await setup()
    const client = await t.ws("/sessions/s_ws/ws")
    await t.server.close()
    expect(await client.closed).toEqual({ code: 1001, reason: "AGH_HOST_SHUTDOWN" })
    expect(t.manager.shutdownCalls).toBe(1)
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow()
  })
})
