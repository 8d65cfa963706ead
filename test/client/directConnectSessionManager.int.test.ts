import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { sequentialIds } from "../../src/adapters/ids.js"
import { DirectConnectError } from "../../src/client/directConnectError.js"
import {
  createDirectConnectSession,
  type DirectConnectConfig,
  directConnectConfigFor,
} from "../../src/client/directConnectSession.js"
import {
  type DirectConnectOptions,
  DirectConnectSessionManager,
} from "../../src/client/directConnectSessionManager.js"
import { FakeDirectConnectServer } from "../support/fakeDirectConnectServer.js"
import { CallbackRecorder } from "./callbackRecorder.js"

const TOKEN = "t0k3n-for-tests"

let server: FakeDirectConnectServer
let clock: ManualClock
const managers: DirectConnectSessionManager[] = []

beforeEach(async () => {
  server = await FakeDirectConnectServer.start({ token: TOKEN, workRoot: "/work" })
  clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"))
})

afterEach(async () => {
  for (const m of managers.splice(0)) m.disconnect()
  await server.close()
})

function manage(
  config: DirectConnectConfig,
  options: DirectConnectOptions = {},
): { manager: DirectConnectSessionManager; rec: CallbackRecorder } {
  const rec = new CallbackRecorder()
  const manager = new DirectConnectSessionManager(config, rec.callbacks, {
    clock,
    ids: sequentialIds(),
    ...options,
  })
  managers.push(manager)
  return { manager, rec }
}

async function created(prompt?: string) {
  return createDirectConnectSession({
    serverUrl: server.url,
    authToken: TOKEN,
    cwd: "/work/project",
    ...(prompt === undefined ? {} : { prompt }),
  })
}

describe("createDirectConnectSession", () => {
  it("creates a session with POST /sessions and returns the manager's config", async () => {
    const session = await createDirectConnectSession({
      serverUrl: `${server.url}/`,
      authToken: TOKEN,
      cwd: "/work/project",
      title: "fix the build",
      agent: "builtin",
      dangerouslySkipPermissions: true,
    })
    const fake = server.session(session.config.sessionId)
    expect(session.workDir).toBe("/work/project")
    expect(session.status).toBe("starting")
    expect(session.config).toEqual({
      serverUrl: server.url,
      sessionId: fake.id,
      wsUrl: `${server.url.replace("http", "ws")}/sessions/${fake.id}/ws`,
      authToken: TOKEN,
    })
    expect(fake.title).toBe("fix the build")
    expect(fake.skipPermissions).toBe(true)
  })

  it("turns a 401 into Unauthorized carrying the host's code and status", async () => {
    const error = await createDirectConnectSession({ serverUrl: server.url, authToken: "wrong" }).catch(
      (e) => e,
    )
    expect(error).toBeInstanceOf(DirectConnectError)
    expect(error.reason).toBe("Unauthorized")
    expect(error.code).toBe("AGH_AUTH_INVALID")
    expect(error.status).toBe(401)
    expect(error.message).toContain(`POST ${server.url}/sessions was refused with 401`)
  })

  it("keeps the host's code and message for a policy refusal", async () => {
    const error = await createDirectConnectSession({
      serverUrl: server.url,
      authToken: TOKEN,
      cwd: "/etc",
    }).catch((e) => e)
    expect(error.code).toBe("AGH_POLICY_CWD")
    expect(error.status).toBe(403)
    expect(error.message).toBe(
      `POST ${server.url}/sessions answered 403: cwd /etc is outside the work roots (/work)`,
    )
  })

  it("reports an unreachable host as AGH_CLIENT_UNREACHABLE naming the URL", async () => {
    const url = server.url
    await server.close()
    server = await FakeDirectConnectServer.start({ token: TOKEN })
    const error = await createDirectConnectSession({ serverUrl: url, authToken: TOKEN }).catch((e) => e)
    expect(error.code).toBe("AGH_CLIENT_UNREACHABLE")
    expect(error.message).toContain(`POST ${url}/sessions failed: ECONNREFUSED`)
  })
})

describe("DirectConnectSessionManager", () => {
  it("streams a turn in seq order and sends user messages in the SPEC shape", async () => {
    const { config } = await created("hello")
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.results().length === 1)
    expect(manager.isConnected()).toBe(true)
    expect(rec.log.slice(0, 5)).toEqual([
      "connected:0",
      "message:system/init",
      "message:assistant",
      "message:assistant",
      "message:result/success",
    ])
    expect(rec.seqs()).toEqual([1, 2, 3, 4])

    expect(manager.sendMessage("again")).toBe(true)
    await rec.until(() => rec.results().length === 2)
    const sent = await server.waitForFrame(config.sessionId, (f) => f.type === "user")
    expect(sent).toEqual({
      type: "user",
      message: { role: "user", content: "again" },
      parent_tool_use_id: null,
      session_id: config.sessionId,
    })
    expect(rec.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(manager.lastSeq()).toBe(8)
  })

  it("round-trips a permission request: allow with updatedInput, then deny with a message", async () => {
    const { config } = await created("$ echo hi\n$ rm -rf /")
    const { manager, rec } = manage(config)
    rec.onPermission = (requestId, request) => {
      if (request.input.command === "echo hi") {
        manager.respondToPermissionRequest(requestId, {
          behavior: "allow",
          updatedInput: { command: "echo bye" },
        })
      } else {
        manager.respondToPermissionRequest(requestId, { behavior: "deny", message: "not that one" })
      }
    }
    manager.connect()
    await rec.until(() => rec.results().length === 1)
    expect(rec.permissions.map((p) => [p.requestId, p.request.tool_name, p.request.input])).toEqual([
      ["perm_1", "Bash", { command: "echo hi" }],
      ["perm_2", "Bash", { command: "rm -rf /" }],
    ])
    const toolResults = rec.messages
      .filter((m) => m.type === "user")
      .map((m) => (m.message as { content: Array<{ content: string; is_error: boolean }> }).content[0])
    expect(toolResults).toEqual([
      { type: "tool_result", tool_use_id: "toolu_1", content: "ran: echo bye", is_error: false },
      { type: "tool_result", tool_use_id: "toolu_2", content: "not that one", is_error: true },
    ])
    const answer = await server.waitForFrame(config.sessionId, (f) => f.type === "control_response")
    expect(answer).toEqual({
      type: "control_response",
      response: {
        subtype: "success",
        request_id: "perm_1",
        response: { behavior: "allow", updatedInput: { command: "echo bye" } },
      },
    })
    // Permission requests never reach onMessage.
    expect(rec.messages.some((m) => m.type === "control_request")).toBe(false)
    expect(rec.cancelled).toEqual([])
  })

  it("interrupts a turn waiting for permission: the request is cancelled and the turn ends in error", async () => {
    const { config } = await created("$ sleep 100")
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.permissions.length === 1)
    expect(manager.sendInterrupt()).toBe(true)
    await rec.until(() => rec.results().length === 1)
    expect(rec.cancelled).toEqual(["perm_1"])
    expect(rec.results()[0]?.subtype).toBe("error_during_execution")
    const frame = await server.waitForFrame(config.sessionId, (f) => f.type === "control_request")
    expect(frame).toEqual({
      type: "control_request",
      request_id: "req_0000000000000002",
      request: { subtype: "interrupt" },
    })
    // The cancel is ordered before the result, and the host's control_response to the interrupt is hidden.
    expect(rec.log.indexOf("cancelled:perm_1")).toBeLessThan(
      rec.log.indexOf("message:result/error_during_execution"),
    )
    expect(rec.messages.some((m) => m.type === "control_response")).toBe(false)
  })

  it("filters what SPEC §5 says a client does not forward, and reports host error frames", async () => {
    const { config } = await created()
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.connected.length === 1)
    const id = config.sessionId
    server.sendRaw(id, { type: "keep_alive" })
    server.emit(id, { type: "streamlined_text", text: "x" })
    server.emit(id, { type: "streamlined_tool_use_summary", summary: "y" })
    server.emit(id, { type: "system", subtype: "post_turn_summary", summary: "z" })
    server.sendRaw(id, { type: "control_response", response: { subtype: "success", request_id: "r" } })
    server.emit(id, { type: "control_cancel_request", request_id: "never-delivered" })
    server.sendRaw(id, {
      type: "error",
      error: { code: "AGH_WS_BAD_SHAPE", message: "message.content: expected" },
    })
    server.emit(id, { type: "system", subtype: "status", status: "requesting" })
    server.emit(id, { type: "rate_limit_event", info: {} })
    server.emit(id, {
      type: "assistant",
      message: { role: "assistant", content: [{ type: "text", text: "hi" }] },
    })
    await rec.until(() => rec.messages.some((m) => m.type === "assistant"))
    expect(rec.messages.map((m) => [m.type, m.subtype, m.seq])).toEqual([
      ["system", "status", 5],
      ["rate_limit_event", undefined, 6],
      ["assistant", undefined, 7],
    ])
    expect(rec.cancelled).toEqual([])
    expect(rec.errors.map((e) => [e.reason, e.code, e.message])).toEqual([
      ["HostRejected", "AGH_WS_BAD_SHAPE", "the host rejected a frame: message.content: expected"],
    ])
    expect(manager.lastSeq()).toBe(7)
  })

  it("reconnects after a dropped socket with ?after= and delivers the missed messages exactly once", async () => {
    const { config } = await created("first")
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.results().length === 1)
    const id = config.sessionId

    server.dropClients(id)
    await rec.until(() => rec.disconnected.length === 1)
    expect(rec.disconnected[0]?.willReconnect).toBe(true)
    expect(manager.phase()).toBe("reconnecting")
    // While the client is away the session goes on.
    server.emit(id, {
      type: "assistant",
      message: { role: "assistant", content: [{ type: "text", text: "m5" }] },
    })
    server.emit(id, {
      type: "assistant",
      message: { role: "assistant", content: [{ type: "text", text: "m6" }] },
    })
    // Sent while away: queued, flushed on reconnect.
    expect(manager.sendMessage("second")).toBe(true)

    // Nothing happens before the backoff elapses on the injected clock.
    clock.advance(499)
    expect(server.upgrades).toHaveLength(1)
    clock.advance(1)
    await rec.until(() => rec.results().length === 2)
    expect(server.upgrades).toEqual([
      { sessionId: id, after: 0 },
      { sessionId: id, after: 4 },
    ])
    expect(rec.connected).toEqual([
      { reconnect: false, afterSeq: 0 },
      { reconnect: true, afterSeq: 4 },
    ])
    // A stale duplicate from the host (seq already seen) is dropped.
    const old = server.session(id).history[2]
    server.sendRaw(id, old as object as { type: string })
    server.emit(id, { type: "system", subtype: "status", status: null })
    await rec.until(() => manager.lastSeq() === 11)
    expect(rec.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect(server.session(id).received.filter((f) => f.type === "user")).toHaveLength(1)
  })

  it("does not deliver a pending permission request twice when the host re-sends it after a reconnect", async () => {
    const { config } = await created("$ make")
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.permissions.length === 1)
    const id = config.sessionId
    server.dropClients(id)
    await rec.until(() => rec.disconnected.length === 1)
    clock.advance(500)
    await rec.until(() => rec.connected.length === 2)
    expect(server.upgrades.at(-1)).toEqual({ sessionId: id, after: manager.lastSeq() })
    // The host re-sent perm_1 (its seq is at or below the cursor); wait until it reached us, then answer.
    server.emit(id, { type: "system", subtype: "status", status: "marker" })
    await rec.until(() => rec.messages.some((m) => m.status === "marker"))
    expect(rec.permissions.map((p) => p.requestId)).toEqual(["perm_1"])
    manager.respondToPermissionRequest("perm_1", { behavior: "allow" })
    await rec.until(() => rec.results().length === 1)
    expect(rec.permissions).toHaveLength(1)
    expect(rec.cancelled).toEqual([])
  })

  it("sends an answer given while disconnected once, on reconnect", async () => {
    const { config } = await created("$ make\n$ make install")
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.permissions.length === 1)
    const id = config.sessionId
    server.dropClients(id)
    await rec.until(() => rec.disconnected.length === 1)
    expect(manager.respondToPermissionRequest("perm_1", { behavior: "allow" })).toBe(true)
    clock.advance(500)
    await rec.until(() => rec.permissions.length === 2)
    // The host re-sent perm_1 before the queued answer reached it; the answer on the new socket covers it.
    expect(rec.permissions.map((p) => p.requestId)).toEqual(["perm_1", "perm_2"])
    expect(server.session(id).received.filter((f) => f.type === "control_response")).toHaveLength(1)
    manager.respondToPermissionRequest("perm_2", { behavior: "deny", message: "no" })
    await rec.until(() => rec.results().length === 1)
    expect(rec.permissions).toHaveLength(2)
    expect(rec.errors).toEqual([])
  })

  it("answers again, without asking its owner, a request whose answer was lost with the old socket", async () => {
    const { config } = await created("$ make")
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.permissions.length === 1)
    const id = config.sessionId
    server.loseNext("control_response")
    manager.respondToPermissionRequest("perm_1", { behavior: "allow", updatedInput: { command: "make -j2" } })
    await server.waitForFrame(id, (f) => f.type === "control_response")
    server.dropClients(id)
    await rec.until(() => rec.disconnected.length === 1)
    clock.advance(500)
    await rec.until(() => rec.results().length === 1)
    expect(rec.permissions).toHaveLength(1)
    expect(server.session(id).received.filter((f) => f.type === "control_response")).toHaveLength(2)
    const toolResult = rec.messages.find((m) => m.type === "user")
    expect(JSON.stringify(toolResult)).toContain("ran: make -j2")
    expect(rec.errors).toEqual([])
  })

  it("holds history permission requests when attaching and asks only for the ones still pending", async () => {
    const { config } = await created("$ one")
    const first = manage(config)
    first.manager.connect()
    await first.rec.until(() => first.rec.permissions.length === 1)
    first.manager.respondToPermissionRequest("perm_1", { behavior: "allow" })
    await first.rec.until(() => first.rec.results().length === 1)
    first.manager.sendMessage("$ two")
    await first.rec.until(() => first.rec.permissions.length === 2)
    const lastSeq = server.session(config.sessionId).history.length

    const attached = manage(config, { historyEndSeq: lastSeq })
    attached.manager.connect()
    await attached.rec.until(() => attached.manager.lastSeq() === lastSeq)
    expect(attached.rec.permissions.map((p) => p.requestId)).toEqual(["perm_2"])
    expect(attached.rec.cancelled).toEqual([])

    // Without the boundary, an answered request in the history is delivered, then cancelled by its tool result.
    const naive = manage(config)
    naive.manager.connect()
    await naive.rec.until(() => naive.manager.lastSeq() === lastSeq)
    expect(naive.rec.permissions.map((p) => p.requestId)).toEqual(["perm_1", "perm_2"])
    expect(naive.rec.cancelled).toEqual(["perm_1"])

    // The first client answers: the other two are told the request is settled.
    first.manager.respondToPermissionRequest("perm_2", { behavior: "allow" })
    await attached.rec.until(() => attached.rec.cancelled.length === 1)
    await naive.rec.until(() => naive.rec.cancelled.length === 2)
    expect(attached.rec.cancelled).toEqual(["perm_2"])
  })

  it("refuses a bad token on the upgrade without retrying", async () => {
    const { config } = await created()
    const { manager, rec } = manage({ ...config, authToken: "wrong" })
    manager.connect()
    await rec.until(() => rec.errors.length === 1)
    expect(manager.phase()).toBe("failed")
    expect(rec.errors[0]?.code).toBe("AGH_AUTH_INVALID")
    expect(rec.errors[0]?.status).toBe(401)
    expect(rec.disconnected).toEqual([{ reason: expect.stringContaining("401"), willReconnect: false }])
    clock.advance(60_000)
    expect(server.rejectedUpgrades).toEqual([401])
    expect(manager.sendMessage("x")).toBe(false)
  })

  it("fails without retrying when the session does not exist", async () => {
    const config = directConnectConfigFor(server.url, "s_nope", TOKEN)
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.errors.length === 1)
    expect(manager.phase()).toBe("failed")
    expect(rec.errors[0]?.reason).toBe("UpgradeRejected")
    expect(rec.errors[0]?.code).toBe("AGH_SESSION_NOT_FOUND")
    expect(rec.errors[0]?.message).toContain('no session "s_nope"')
  })

  it("gives up after the configured attempts with exponential backoff on the injected clock", async () => {
    const { config } = await created()
    const url = server.url
    await server.close()
    const { manager, rec } = manage(
      { ...config, wsUrl: config.wsUrl },
      { reconnect: { initialDelayMs: 100, maxDelayMs: 150, maxAttempts: 2 } },
    )
    expect(url).toBe(config.serverUrl)
    manager.connect()
    await rec.until(() => rec.disconnected.length === 1)
    expect(clock.nextDue()).toBe(clock.now() + 100)
    clock.advance(100)
    await rec.until(() => rec.disconnected.length === 2)
    expect(clock.nextDue()).toBe(clock.now() + 150)
    clock.advance(150)
    await rec.until(() => rec.disconnected.length === 3)
    expect(rec.disconnected.map((d) => d.willReconnect)).toEqual([true, true, false])
    expect(manager.phase()).toBe("failed")
    expect(rec.errors.map((e) => e.code)).toEqual(["AGH_CLIENT_RECONNECT_FAILED"])
    expect(rec.errors[0]?.message).toMatch(
      /^gave up after 2 reconnect attempt\(s\); last drop: code 1006, connect ECONNREFUSED 127.0.0.1:\d+$/,
    )
    server = await FakeDirectConnectServer.start({ token: TOKEN })
  })

  it("ends without reconnecting when the host closes the stream normally (session killed)", async () => {
    const { config } = await created()
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.connected.length === 1)
    server.closeClients(config.sessionId, 1000, "session killed")
    await rec.until(() => rec.disconnected.length === 1)
    expect(rec.disconnected[0]).toEqual({
      reason: "the host closed the session stream: session killed (close code 1000)",
      willReconnect: false,
    })
    expect(manager.phase()).toBe("completed")
    expect(clock.pending).toBe(0)
  })

  it("sends keep_alive on the interval and reconnects when the host goes silent", async () => {
    const { config } = await created()
    const { manager, rec } = manage(config, { keepAliveIntervalMs: 1_000, staleAfterMs: 5_000 })
    manager.connect()
    await rec.until(() => rec.connected.length === 1)
    clock.advance(1_000)
    await server.waitForFrame(config.sessionId, (f) => f.type === "keep_alive")
    clock.advance(4_000)
    expect(rec.disconnected).toEqual([
      { reason: "no frame or ping from the host for 5000 ms", willReconnect: true },
    ])
    clock.advance(500)
    await rec.until(() => rec.connected.length === 2)
    expect(manager.isConnected()).toBe(true)
  })

  it("stops after disconnect(): no reconnect, sends refused", async () => {
    const { config } = await created()
    const { manager, rec } = manage(config)
    manager.connect()
    await rec.until(() => rec.connected.length === 1)
    manager.disconnect()
    expect(manager.phase()).toBe("completed")
    expect(rec.disconnected).toEqual([{ reason: "disconnected by the client", willReconnect: false }])
    expect(manager.sendMessage("late")).toBe(false)
    expect(manager.respondToPermissionRequest("perm_1", { behavior: "allow" })).toBe(false)
    expect(clock.pending).toBe(0)
  })

  it("keeps going when a callback throws, reporting AGH_CLIENT_CALLBACK_FAILED", async () => {
    const { config } = await created("hi")
    const rec = new CallbackRecorder()
    let thrown = 0
    const manager = new DirectConnectSessionManager(
      config,
      {
        ...rec.callbacks,
        onMessage: (m) => {
          if (m.type === "assistant" && thrown === 0) {
            thrown += 1
            throw new Error("boom")
          }
          rec.callbacks.onMessage(m)
        },
      },
      { clock },
    )
    managers.push(manager)
    manager.connect()
    await rec.until(() => rec.results().length === 1)
    expect(rec.errors.map((e) => [e.code, e.message])).toEqual([
      ["AGH_CLIENT_CALLBACK_FAILED", "a callback threw: boom"],
    ])
    expect(rec.seqs()).toEqual([1, 3, 4])
  })
})
