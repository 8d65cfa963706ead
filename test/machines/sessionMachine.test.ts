import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { sessionMachineDefinition } from "../../src/machines/machineRegistry.js"
import {
  DUPLICATE_PERMISSION_REQUEST_CODE,
  SESSION_EVENT as E,
  RECENT_PERMISSIONS_LIMIT,
  type SessionContext,
  type SessionInput,
} from "../../src/machines/sessionMachine.js"
import { runMachine } from "./machineHarness.js"

const T0 = 1_000_000
const baseInput: SessionInput = { sessionId: "s_1", agent: "builtin", workDir: "/w", createdAt: T0 }

function session(input: Partial<SessionInput> = {}) {
  const h = runMachine(sessionMachineDefinition, { ...baseInput, ...input }, new ManualClock(T0))
  const ctx = () => h.snapshot().context as SessionContext
  return { ...h, ctx }
}

function ready(input: Partial<SessionInput> = {}) {
  const s = session(input)
  s.send({ type: E.agentReady, at: T0 + 1, pid: 77 })
  return s
}

const user = (id: string, at = T0 + 10) => ({
  type: E.userMessage,
  at,
  messageId: id,
  content: `text of ${id}`,
})
const result = (at = T0 + 50, extra: Record<string, unknown> = {}) => ({
  type: E.turnCompleted,
  at,
  result: { type: "result", subtype: "success", is_error: false, ...extra },
})
const ask = (requestId: string, at = T0 + 20) => ({
  type: E.permissionRequested,
  at,
  requestId,
  toolName: "Bash",
  toolUseId: `tu_${requestId}`,
})

describe("sessionMachine: starting", () => {
  it("spawns the agent on start with the session's settings", () => {
    const s = session({ title: "fix it", skipPermissions: true })
    expect(s.state()).toBe("starting")
    expect(s.callsOf("spawnAgent")).toEqual([
      { sessionId: "s_1", agent: "builtin", workDir: "/w", skipPermissions: true, title: "fix it" },
    ])
  })

  it("becomes idle on agentReady, recording the time and pid", () => {
    const s = ready()
    expect(s.state()).toEqual({ running: "idle" })
    expect(s.ctx().agentProcess).toEqual({ readyAt: T0 + 1, pid: 77 })
  })

  it("fails when the agent does not answer initialize within startTimeoutMs, on the injected clock", () => {
    const s = session({ startTimeoutMs: 5_000 })
    s.clock.advance(4_999)
    expect(s.state()).toBe("starting")
    s.clock.advance(1)
    expect(s.state()).toBe("failed")
    expect(s.ctx().endReason).toEqual({
      kind: "startTimedOut",
      message: "agent builtin did not answer initialize within 5000 ms",
      exitCode: null,
      signal: null,
      at: T0 + 5_000,
    })
    expect(s.callsOf("killAgent")).toEqual([{ reason: "start timed out" }])
  })

  it("uses a 30 s start timeout by default and none with startTimeoutMs 0", () => {
    const byDefault = session()
    byDefault.clock.advance(30_000)
    expect(byDefault.state()).toBe("failed")
    const never = session({ startTimeoutMs: 0 })
    expect(never.clock.pending).toBe(0)
  })

  it("cancels the start timeout once ready", () => {
    const s = ready({ startTimeoutMs: 5_000 })
    expect(s.clock.pending).toBe(0)
    s.clock.advance(10_000)
    expect(s.state()).toEqual({ running: "idle" })
  })

  it("fails with the agent's reason on agentFailedToStart", () => {
    const s = session()
    s.send({ type: E.agentFailedToStart, at: T0 + 3, message: "spawn ENOENT", code: "AGH_AGENT_SPAWN" })
    expect(s.state()).toBe("failed")
    expect(s.ctx().endReason).toMatchObject({
      kind: "startFailed",
      message: "AGH_AGENT_SPAWN: spawn ENOENT",
      at: T0 + 3,
    })
  })

  it("fails when the agent exits before it is ready", () => {
    const s = session()
    s.send({ type: E.agentExited, at: T0 + 4, code: 127, signal: null })
    expect(s.state()).toBe("failed")
    expect(s.ctx().endReason).toEqual({
      kind: "startFailed",
      message: "agent exited with code 127 before it was ready",
      exitCode: 127,
      signal: null,
      at: T0 + 4,
    })
  })

  it("queues user messages sent while starting and sends the first once ready", () => {
    const s = session()
    s.send(user("m1"))
    s.send(user("m2"))
    expect(s.callsOf("sendToAgent")).toEqual([])
    expect(s.ctx().queue.map((q) => q.messageId)).toEqual(["m1", "m2"])
    s.send({ type: E.agentReady, at: T0 + 30 })
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.callsOf("sendToAgent")).toEqual([{ messageId: "m1", content: "text of m1" }])
    expect(s.ctx().currentMessageId).toBe("m1")
    expect(s.ctx().queue.map((q) => q.messageId)).toEqual(["m2"])
  })

  it("goes straight to closing when a close was requested before it was ready", () => {
    const s = session()
    s.send({ type: E.closeRequested, at: T0 + 2 })
    s.send({ type: E.agentReady, at: T0 + 3 })
    expect(s.state()).toEqual({ running: "closing" })
    expect(s.callsOf("closeAgentInput")).toHaveLength(1)
  })
})

describe("sessionMachine: turns and the queue", () => {
  it("sends a user message right away when idle and becomes busy", () => {
    const s = ready()
    s.send(user("m1"))
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.callsOf("sendToAgent")).toEqual([{ messageId: "m1", content: "text of m1" }])
  })

  it("keeps messages sent while busy in a FIFO and dispatches one per completed turn", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(user("m2"))
    s.send(user("m3"))
    expect(s.callsOf("sendToAgent").map((p) => (p as { messageId: string }).messageId)).toEqual(["m1"])
    s.send(result(T0 + 100))
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.ctx().currentMessageId).toBe("m2")
    s.send(result(T0 + 200))
    expect(s.ctx().currentMessageId).toBe("m3")
    s.send(result(T0 + 300))
    expect(s.state()).toEqual({ running: "idle" })
    expect(s.callsOf("sendToAgent").map((p) => (p as { messageId: string }).messageId)).toEqual([
      "m1",
      "m2",
      "m3",
    ])
    expect(s.ctx().stats.turns).toBe(3)
    expect(s.ctx().currentMessageId).toBeNull()
  })

  it("records the scalars of the last result, never its text", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(
      result(T0 + 60, {
        subtype: "error_during_execution",
        is_error: true,
        num_turns: 3,
        duration_ms: 1234,
        total_cost_usd: 0.5,
        terminal_reason: "aborted_tools",
        result: "long text",
      }),
    )
    expect(s.ctx().lastResult).toEqual({
      subtype: "error_during_execution",
      isError: true,
      numTurns: 3,
      durationMs: 1234,
      totalCostUsd: 0.5,
      terminalReason: "aborted_tools",
      at: T0 + 60,
    })
  })

  it("records a result that arrives while idle without counting a turn", () => {
    const s = ready()
    s.send(result(T0 + 5))
    expect(s.state()).toEqual({ running: "idle" })
    expect(s.ctx().stats.turns).toBe(0)
    expect(s.ctx().lastResult?.subtype).toBe("success")
  })
})

describe("sessionMachine: agent messages", () => {
  it("counts messages by type and keeps the latest TodoWrite list, field by field", () => {
    const s = ready()
    s.send({ type: E.agentMessage, at: T0 + 2, message: { type: "system", subtype: "init" } })
    s.send({
      type: E.agentMessage,
      at: T0 + 3,
      message: {
        type: "assistant",
        message: {
          content: [
            { type: "text", text: "planning" },
            {
              type: "tool_use",
              name: "TodoWrite",
              input: {
                todos: [
                  { content: "write tests", status: "in_progress", activeForm: "Writing tests", extra: 1 },
                  { content: "ship", status: "pending" },
                  { content: 5, status: "pending" },
                ],
              },
            },
          ],
        },
      },
    })
    s.send({
      type: E.agentMessage,
      at: T0 + 4,
      message: { type: "assistant", message: { content: [{ type: "tool_use", name: "Bash", input: {} }] } },
    })
    expect(s.ctx().messageCounts).toEqual({ system: 1, assistant: 2 })
    expect(s.ctx().todoList).toEqual([
      { content: "write tests", status: "in_progress", activeForm: "Writing tests" },
      { content: "ship", status: "pending" },
    ])
  })

  it("records protocol errors and stays where it was", () => {
    const s = ready()
    s.send(user("m1"))
    s.send({ type: E.protocolError, at: T0 + 9, code: "AGH_PROTO_NOT_JSON", message: "line 3 is not JSON" })
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.ctx().stats.protocolErrors).toBe(1)
    expect(s.ctx().stats.lastProtocolError).toEqual({
      code: "AGH_PROTO_NOT_JSON",
      message: "line 3 is not JSON",
      at: T0 + 9,
    })
  })
})

describe("sessionMachine: permissions", () => {
  it("waits in awaiting_permission with every pending request kept by id", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(ask("r1", T0 + 20))
    s.send(ask("r2", T0 + 21))
    expect(s.state()).toEqual({ running: "awaiting_permission" })
    expect(s.ctx().pendingPermissions).toEqual({
      r1: { requestId: "r1", toolName: "Bash", toolUseId: "tu_r1", requestedAt: T0 + 20 },
      r2: { requestId: "r2", toolName: "Bash", toolUseId: "tu_r2", requestedAt: T0 + 21 },
    })
  })

  it("lets the first answer win, forwards it once, withdraws the prompt from the others", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(ask("r1"))
    s.send({
      type: E.permissionAnswered,
      at: T0 + 30,
      requestId: "r1",
      behavior: "allow",
      updatedInput: { command: "ls" },
      clientId: "alice",
    })
    s.send({
      type: E.permissionAnswered,
      at: T0 + 31,
      requestId: "r1",
      behavior: "deny",
      message: "no",
      clientId: "bob",
    })
    expect(s.callsOf("answerPermission")).toEqual([
      { requestId: "r1", behavior: "allow", updatedInput: { command: "ls" } },
    ])
    expect(s.callsOf("withdrawPermissionPrompt")).toEqual([
      { requestId: "r1", reason: "answered", answeredBy: "alice" },
    ])
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.ctx().recentPermissions).toEqual([{ requestId: "r1", outcome: "allowed", by: "alice" }])
    expect(s.ctx().stats.ignoredAnswers).toBe(1)
    expect(s.ctx().stats.lastIgnoredAnswer).toEqual({
      requestId: "r1",
      reason: "alreadyResolved",
      clientId: "bob",
      at: T0 + 31,
    })
  })

  it("stays awaiting until the last of several requests is answered, and tells unknown ids apart", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(ask("r1"))
    s.send(ask("r2"))
    s.send({
      type: E.permissionAnswered,
      at: T0 + 30,
      requestId: "r2",
      behavior: "deny",
      message: "no",
      interrupt: true,
    })
    expect(s.state()).toEqual({ running: "awaiting_permission" })
    s.send({ type: E.permissionAnswered, at: T0 + 31, requestId: "nope", behavior: "allow" })
    expect(s.ctx().stats.lastIgnoredAnswer?.reason).toBe("unknownRequest")
    s.send({ type: E.permissionAnswered, at: T0 + 32, requestId: "r1", behavior: "allow" })
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.callsOf("answerPermission")).toEqual([
      { requestId: "r2", behavior: "deny", message: "no", interrupt: true },
      { requestId: "r1", behavior: "allow" },
    ])
  })

  it("returns to idle when a request that arrived outside a turn is answered", () => {
    const s = ready()
    s.send(ask("r1"))
    expect(s.state()).toEqual({ running: "awaiting_permission" })
    s.send({ type: E.permissionAnswered, at: T0 + 30, requestId: "r1", behavior: "allow" })
    expect(s.state()).toEqual({ running: "idle" })
  })

  it("denies a request nobody answered after permissionTimeoutMs on the injected clock", () => {
    const s = ready({ permissionTimeoutMs: 60_000 })
    s.send(user("m1"))
    s.send(ask("r1"))
    s.clock.advance(59_999)
    expect(s.callsOf("answerPermission")).toEqual([])
    s.clock.advance(1)
    expect(s.callsOf("answerPermission")).toEqual([
      { requestId: "r1", behavior: "deny", message: "permission request r1 timed out after 60000 ms" },
    ])
    expect(s.callsOf("withdrawPermissionPrompt")).toEqual([
      { requestId: "r1", reason: "timedOut", answeredBy: null },
    ])
    expect(s.ctx().recentPermissions).toEqual([{ requestId: "r1", outcome: "timedOut", by: null }])
    expect(s.state()).toEqual({ running: "busy" })
  })

  it("cancels a request's timer when it is answered, so no late deny goes out", () => {
    const s = ready({ permissionTimeoutMs: 1_000 })
    s.send(user("m1"))
    s.send(ask("r1"))
    s.send(ask("r2"))
    expect(s.clock.pending).toBe(2)
    s.send({ type: E.permissionAnswered, at: T0 + 25, requestId: "r1", behavior: "allow" })
    expect(s.clock.pending).toBe(1)
    s.clock.advance(5_000)
    expect(s.callsOf("answerPermission")).toEqual([
      { requestId: "r1", behavior: "allow" },
      { requestId: "r2", behavior: "deny", message: "permission request r2 timed out after 1000 ms" },
    ])
  })

  it("arms no timer with the default permissionTimeoutMs of 0", () => {
    const s = ready()
    s.send(ask("r1"))
    expect(s.clock.pending).toBe(0)
  })

  it("drops a request the agent withdrew, without answering it", () => {
    const s = ready({ permissionTimeoutMs: 1_000 })
    s.send(user("m1"))
    s.send(ask("r1"))
    s.send({ type: E.permissionCancelled, at: T0 + 22, requestId: "r1" })
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.callsOf("answerPermission")).toEqual([])
    expect(s.callsOf("withdrawPermissionPrompt")).toEqual([
      { requestId: "r1", reason: "cancelled", answeredBy: null },
    ])
    expect(s.clock.pending).toBe(0)
  })

  it("withdraws prompts still open when the turn ends", () => {
    const s = ready({ permissionTimeoutMs: 1_000 })
    s.send(user("m1"))
    s.send(ask("r1"))
    s.send(result(T0 + 40))
    expect(s.state()).toEqual({ running: "idle" })
    expect(s.ctx().pendingPermissions).toEqual({})
    expect(s.callsOf("withdrawPermissionPrompt")).toEqual([
      { requestId: "r1", reason: "turnEnded", answeredBy: null },
    ])
    expect(s.clock.pending).toBe(0)
  })

  it("allows by itself when the session skips permissions", () => {
    const s = ready({ skipPermissions: true })
    s.send(user("m1"))
    s.send(ask("r1"))
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.callsOf("answerPermission")).toEqual([{ requestId: "r1", behavior: "allow" }])
    expect(s.ctx().recentPermissions).toEqual([{ requestId: "r1", outcome: "autoAllowed", by: null }])
  })

  it("records a request asked twice while pending as a protocol error", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(ask("r1", T0 + 20))
    s.send(ask("r1", T0 + 21))
    expect(s.ctx().pendingPermissions.r1?.requestedAt).toBe(T0 + 20)
    expect(s.ctx().stats.lastProtocolError?.code).toBe(DUPLICATE_PERMISSION_REQUEST_CODE)
  })

  it("remembers only the last RECENT_PERMISSIONS_LIMIT resolved requests", () => {
    const s = ready({ skipPermissions: true })
    for (let i = 0; i < RECENT_PERMISSIONS_LIMIT + 5; i++) s.send(ask(`r${i}`))
    const recent = s.ctx().recentPermissions
    expect(recent).toHaveLength(RECENT_PERMISSIONS_LIMIT)
    expect(recent[0]?.requestId).toBe("r5")
  })
})

describe("sessionMachine: interrupts", () => {
  it("forwards an interrupt during a turn and keeps the queue", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(user("m2"))
    s.send({ type: E.interruptRequested, at: T0 + 30, clientId: "alice" })
    expect(s.callsOf("interruptAgent")).toEqual([{ messageId: "m1" }])
    expect(s.ctx().queue.map((q) => q.messageId)).toEqual(["m2"])
    expect(s.state()).toEqual({ running: "busy" })
    s.send(result(T0 + 40, { subtype: "error_during_execution", is_error: true }))
    expect(s.callsOf("sendToAgent")).toHaveLength(2)
  })

  it("drops the queue when asked to, telling each sender", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(user("m2"))
    s.send(user("m3"))
    s.send({ type: E.interruptRequested, at: T0 + 30, cancelQueued: true })
    expect(s.callsOf("rejectUserMessage")).toEqual([
      { messageId: "m2", reason: "cancelled by an interrupt" },
      { messageId: "m3", reason: "cancelled by an interrupt" },
    ])
    expect(s.ctx().queue).toEqual([])
    expect(s.ctx().droppedMessages).toBe(2)
  })

  it("counts but does not forward an interrupt when no turn runs", () => {
    const s = ready()
    s.send({ type: E.interruptRequested, at: T0 + 30 })
    expect(s.callsOf("interruptAgent")).toEqual([])
    expect(s.ctx().stats.interrupts).toBe(1)
  })
})

describe("sessionMachine: endings", () => {
  it("closes the agent's input when idle and completes when it exits", () => {
    const s = ready()
    s.send({ type: E.closeRequested, at: T0 + 5 })
    expect(s.state()).toEqual({ running: "closing" })
    expect(s.callsOf("closeAgentInput")).toHaveLength(1)
    s.send(user("late"))
    expect(s.callsOf("rejectUserMessage")).toEqual([{ messageId: "late", reason: "the session is closing" }])
    s.send({ type: E.agentExited, at: T0 + 6, code: 0, signal: null })
    expect(s.state()).toBe("completed")
    expect(s.snapshot().status).toBe("done")
    expect(s.ctx().endReason).toEqual({
      kind: "closed",
      message: "agent exited with code 0 after its input was closed",
      exitCode: 0,
      signal: null,
      at: T0 + 6,
    })
  })

  it("finishes the running turn and the queue before closing", () => {
    const s = ready()
    s.send(user("m1"))
    s.send(user("m2"))
    s.send({ type: E.closeRequested, at: T0 + 11 })
    s.send(user("m3"))
    expect(s.callsOf("rejectUserMessage")).toEqual([{ messageId: "m3", reason: "the session is closing" }])
    s.send(result(T0 + 20))
    expect(s.state()).toEqual({ running: "busy" })
    expect(s.callsOf("closeAgentInput")).toHaveLength(0)
    s.send(result(T0 + 30))
    expect(s.state()).toEqual({ running: "closing" })
    expect(s.callsOf("closeAgentInput")).toHaveLength(1)
  })

  it("fails when the agent exits on its own", () => {
    const s = ready()
    s.send(user("m1"))
    s.send({ type: E.agentExited, at: T0 + 8, code: null, signal: "SIGSEGV" })
    expect(s.state()).toBe("failed")
    expect(s.ctx().endReason).toMatchObject({
      kind: "agentExited",
      message: "agent exited unexpectedly with signal SIGSEGV",
      signal: "SIGSEGV",
    })
  })

  it("puts the host's reason for an exit into the end reason when it gives one", () => {
    const s = ready()
    s.send({ type: E.agentExited, at: T0 + 8, code: null, signal: "SIGTERM", reason: "host restarted" })
    expect(s.ctx().endReason?.message).toBe("host restarted: agent exited with signal SIGTERM")
  })

  it("is killed on killRequested from any running state, killing the agent", () => {
    for (const setupFn of [
      () => session(),
      () => ready(),
      () => {
        const s = ready()
        s.send(user("m1"))
        s.send(ask("r1"))
        return s
      },
    ]) {
      const s = setupFn()
      s.send({ type: E.killRequested, at: T0 + 99, reason: "DELETE /sessions/s_1" })
      expect(s.state()).toBe("killed")
      expect(s.callsOf("killAgent")).toEqual([{ reason: "DELETE /sessions/s_1" }])
      expect(s.ctx().endReason).toMatchObject({
        kind: "killed",
        message: "DELETE /sessions/s_1",
        at: T0 + 99,
      })
    }
  })

  it("cancels every pending timer once final", () => {
    const s = ready({ permissionTimeoutMs: 1_000 })
    s.send(user("m1"))
    s.send(ask("r1"))
    s.send({ type: E.killRequested, at: T0 + 99 })
    expect(s.clock.pending).toBe(0)
  })
})
