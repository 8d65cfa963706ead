import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { sequentialIds } from "../../src/adapters/ids.js"
import type { SupportedPermissionMode } from "../../src/agent/agentDefaults.js"
import { BuiltinAgent, promptCommands } from "../../src/agent/builtinAgent.js"
import type {
  CommandOutcome,
  CommandRunner,
  RunningCommand,
  RunOptions,
} from "../../src/agent/commandRunner.js"
import { decodeAgentLine } from "../../src/protocol/decodeMessage.js"
import {
  allowResponse,
  controlError,
  denyResponse,
  initializeRequest,
  interruptRequest,
  setPermissionModeRequest,
  userMessage,
} from "../../src/protocol/hostMessages.js"

// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary emitted JSON.
type Json = any

interface FakeRun {
  readonly command: string
  readonly options: RunOptions
  interrupted: boolean
  finish(partial?: Partial<CommandOutcome>): void
}

/** Commands finish only when a test says so; interrupt settles them the way the live runner does. */
class FakeRunner implements CommandRunner {
  readonly runs: FakeRun[] = []

  run = (command: string, options: RunOptions): RunningCommand => {
    let settle: (o: CommandOutcome) => void = () => {}
    const outcome = new Promise<CommandOutcome>((resolve) => {
      settle = resolve
    })
    const base: CommandOutcome = {
      stdout: "",
      stderr: "",
      exitCode: 0,
      signal: null,
      interrupted: false,
      timedOut: false,
      truncated: false,
    }
    const run: FakeRun = {
      command,
      options,
      interrupted: false,
      finish: (partial = {}) => settle({ ...base, ...partial }),
    }
    this.runs.push(run)
    return {
      pid: 1000 + this.runs.length,
      outcome,
      interrupt: () => {
        run.interrupted = true
        settle({ ...base, stdout: "partial\n", exitCode: null, signal: "SIGTERM", interrupted: true })
      },
    }
  }
}

/** Lets the agent's promise chain run; no timers involved. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

function harness(options: { mode?: SupportedPermissionMode; canPrompt?: boolean } = {}) {
  const out: Json[] = []
  const logs: string[] = []
  const clock = new ManualClock(1_000)
  const runner = new FakeRunner()
  const agent = new BuiltinAgent({
    sessionId: "S1",
    cwd: "/work/dir",
    permissionMode: options.mode ?? "default",
    canPrompt: options.canPrompt ?? true,
    runner,
    emit: (m) => out.push(JSON.parse(JSON.stringify(m))),
    log: (l) => logs.push(l),
    clock,
    uuid: sequentialIds().uuid,
    version: "agenthost-builtin/test",
    pid: 4242,
    commandTimeoutMs: 5_000,
  })
  const send = async (message: object | string) => {
    agent.receive(decodeAgentLine(typeof message === "string" ? message : JSON.stringify(message)))
    await settle()
  }
  /** Everything emitted since the last call. */
  let seen = 0
  const take = (): Json[] => {
    const fresh = out.slice(seen)
    seen = out.length
    return fresh
  }
  const kinds = (messages: Json[]) =>
    messages.map((m) =>
      m.type === "system" || m.type === "result"
        ? `${m.type}/${m.subtype}`
        : m.type === "control_request"
          ? `control_request/${m.request.subtype}`
          : m.type === "control_response"
            ? `control_response/${m.response.subtype}`
            : m.type === "assistant" || m.type === "user"
              ? `${m.type}:${m.message.content[0]?.type ?? "text"}`
              : m.type,
    )
  return { agent, out, logs, clock, runner, send, take, kinds }
}

const toolResultOf = (m: Json) => m.message.content[0]

describe("BuiltinAgent: control requests", () => {
  it("answers initialize with the real CLI's fields", async () => {
    const h = harness()
    await h.send(initializeRequest("R1"))
    expect(h.take()).toEqual([
      {
        type: "control_response",
        response: {
          subtype: "success",
          request_id: "R1",
          response: {
            commands: [],
            agents: [],
            output_style: "default",
            available_output_styles: ["default"],
            models: [],
            account: { apiKeySource: "none", apiProvider: "builtin" },
            pid: 4242,
            claude_code_version: "agenthost-builtin/test",
            current_permission_mode: "default",
            session_state: "idle",
            capabilities: ["interrupt_receipt_v1", "interrupt_cancel_queued_v1", "msg_lifecycle_v1"],
            pending_permission_requests: [],
          },
        },
      },
    ])
  })

  it("answers unknown control subtypes with unsupported_request, like the CLI", async () => {
    const h = harness()
    await h.send({ type: "control_request", request_id: "q", request: { subtype: "mcp_status" } })
    expect(h.take()).toEqual([
      {
        type: "control_response",
        response: {
          subtype: "error",
          request_id: "q",
          error: "Unsupported control request subtype: mcp_status",
          error_code: "unsupported_request",
        },
      },
    ])
  })

  it("switches permission mode, and refuses a mode it does not obey", async () => {
    const h = harness()
    await h.send(setPermissionModeRequest("m1", "bypassPermissions"))
    const [ack, status] = h.take()
    expect(ack).toEqual({
      type: "control_response",
      response: { subtype: "success", request_id: "m1", response: { mode: "bypassPermissions" } },
    })
    expect(status).toMatchObject({ type: "system", subtype: "status", permissionMode: "bypassPermissions" })
    expect(h.agent.permissionMode).toBe("bypassPermissions")
    await h.send(setPermissionModeRequest("m2", "plan"))
    expect(h.take()).toEqual([
      controlError(
        "m2",
        'Unsupported permission mode "plan" (the builtin agent supports default, acceptEdits, dontAsk, bypassPermissions)',
      ),
    ])
    expect(h.agent.permissionMode).toBe("bypassPermissions")
  })

  it("logs malformed lines and unknown answers to stderr and emits nothing", async () => {
    const h = harness()
    await h.send("this is not json")
    await h.send('{"type":"control_request","request":{"subtype":"interrupt"}}')
    await h.send(allowResponse("perm_99"))
    await h.send({ type: "keep_alive" })
    await h.send({ type: "control_cancel_request", request_id: "x" })
    expect(h.take()).toEqual([])
    expect(h.logs).toEqual([
      'agenthost agent: AGH_PROTO_NOT_JSON: line is not JSON: "this is not json"',
      'agenthost agent: AGH_PROTO_BAD_SHAPE: bad "control_request/interrupt" message: field "request_id": Missing key',
      'agenthost agent: ignoring a control_response for unknown request "perm_99"',
    ])
  })
})

describe("BuiltinAgent: turns", () => {
  it("a prompt without commands: init, one assistant text, one success result", async () => {
    const h = harness()
    await h.send(
      userMessage([{ type: "text", text: "hello" }, { type: "image" }, { type: "text", text: "there" }]),
    )
    const out = h.take()
    expect(h.kinds(out)).toEqual(["system/init", "assistant:text", "result/success"])
    expect(out[0]).toMatchObject({
      session_id: "S1",
      cwd: "/work/dir",
      model: "builtin",
      tools: ["Bash"],
      permissionMode: "default",
      claude_code_version: "agenthost-builtin/test",
    })
    expect(out[1].message.content).toEqual([{ type: "text", text: "You said: hello\nthere" }])
    expect(out[2]).toMatchObject({
      is_error: false,
      result: "You said: hello\nthere",
      num_turns: 1,
      session_id: "S1",
      duration_api_ms: 0,
      total_cost_usd: 0,
      usage: { input_tokens: 0, output_tokens: 0 },
      permission_denials: [],
      terminal_reason: "completed",
      result_index: 0,
    })
  })

  it("asks before running, runs the allowed command in its cwd, reports output and ends with one result", async () => {
    const h = harness()
    await h.send(userMessage("please\n$ echo hi\n"))
    const first = h.take()
    expect(h.kinds(first)).toEqual([
      "system/init",
      "assistant:text",
      "assistant:tool_use",
      "control_request/can_use_tool",
    ])
    expect(first[1].message.content[0].text).toBe("I will run 1 command.")
    expect(first[2].message.content[0]).toEqual({
      type: "tool_use",
      id: "toolu_1",
      name: "Bash",
      input: { command: "echo hi" },
    })
    // The text and the tool use are blocks of one model response.
    expect(first[2].message.id).toBe(first[1].message.id)
    expect(first[3]).toEqual({
      type: "control_request",
      request_id: "perm_1",
      request: {
        subtype: "can_use_tool",
        tool_name: "Bash",
        input: { command: "echo hi" },
        tool_use_id: "toolu_1",
        permission_suggestions: [],
        description: "Run shell command: echo hi",
      },
    })
    expect(h.runner.runs).toEqual([])
    expect(h.agent.state).toBe("requires_action")

    await h.send(allowResponse("perm_1"))
    expect(h.runner.runs.map((r) => [r.command, r.options])).toEqual([
      ["echo hi", { cwd: "/work/dir", timeoutMs: 5_000 }],
    ])
    expect(h.agent.state).toBe("running")
    h.clock.advance(250)
    h.runner.runs[0]!.finish({ stdout: "hi\n" })
    await h.send({ type: "keep_alive" })
    const rest = h.take()
    expect(h.kinds(rest)).toEqual(["user:tool_result", "assistant:text", "result/success"])
    expect(toolResultOf(rest[0])).toEqual({
      type: "tool_result",
      tool_use_id: "toolu_1",
      content: "hi\n",
      is_error: false,
    })
    expect(rest[0].tool_use_result).toEqual({
      stdout: "hi\n",
      stderr: "",
      exitCode: 0,
      interrupted: false,
      timedOut: false,
      truncated: false,
    })
    expect(rest[2]).toMatchObject({
      subtype: "success",
      is_error: false,
      result: "Finished 1 command: 1 succeeded, 0 failed, 0 denied.",
      num_turns: 2,
      duration_ms: 250,
      terminal_reason: "completed",
      result_index: 0,
    })
    expect(h.agent.state).toBe("idle")
  })

  it("runs updatedInput instead of the original, and rejects an updatedInput without a command", async () => {
    const h = harness()
    await h.send(userMessage("$ rm -rf /tmp/x\n$ ls"))
    await h.send(allowResponse("perm_1", { command: "echo safer" }))
    expect(h.runner.runs.map((r) => r.command)).toEqual(["echo safer"])
    h.runner.runs[0]!.finish()
    await settle()
    await h.send(allowResponse("perm_2", { cmd: "ls" }))
    expect(h.runner.runs).toHaveLength(1)
    const out = h.take()
    const results = out.filter((m: Json) => m.type === "user").map(toolResultOf)
    expect(results[1]).toEqual({
      type: "tool_result",
      tool_use_id: "toolu_2",
      content: "Tool permission request failed: updatedInput.command must be a non-empty string, got nothing",
      is_error: true,
    })
    expect(out.at(-1)).toMatchObject({ subtype: "success", permission_denials: [] })
  })

  it("a denial becomes an error tool result and a permission_denials entry; the turn goes on", async () => {
    const h = harness()
    await h.send(userMessage("$ echo one\n$ echo two"))
    await h.send(denyResponse("perm_1", "not that one"))
    const afterDeny = h.take()
    expect(toolResultOf(afterDeny.find((m: Json) => m.type === "user"))).toEqual({
      type: "tool_result",
      tool_use_id: "toolu_1",
      content: "not that one",
      is_error: true,
    })
    expect(afterDeny.at(-1)).toMatchObject({ type: "control_request", request_id: "perm_2" })
    await h.send(allowResponse("perm_2"))
    h.runner.runs[0]!.finish({ stdout: "two\n" })
    await settle()
    const result = h.take().at(-1)
    expect(result).toMatchObject({
      subtype: "success",
      result: "Finished 2 commands: 1 succeeded, 0 failed, 1 denied.",
      num_turns: 3,
      permission_denials: [
        { tool_name: "Bash", tool_use_id: "toolu_1", tool_input: { command: "echo one" } },
      ],
    })
    expect(h.runner.runs.map((r) => r.command)).toEqual(["echo two"])
  })

  it("a denial with interrupt ends the turn as aborted_streaming without asking again", async () => {
    const h = harness()
    await h.send(userMessage("$ echo one\n$ echo two"))
    h.take()
    await h.send(denyResponse("perm_1", "stop", { interrupt: true }))
    const out = h.take()
    expect(h.kinds(out)).toEqual(["user:tool_result", "user:text", "result/error_during_execution"])
    expect(out[1].message.content).toEqual([{ type: "text", text: "[Request interrupted by user]" }])
    expect(out[2]).toMatchObject({
      is_error: true,
      terminal_reason: "aborted_streaming",
      errors: ["[Request interrupted by user]"],
      permission_denials: [{ tool_use_id: "toolu_1" }],
    })
    expect(h.runner.runs).toEqual([])
  })

  it("an error answer or an invalid permission result fails the tool call without running it", async () => {
    const h = harness()
    await h.send(userMessage("$ a\n$ b"))
    await h.send(controlError("perm_1", "boom"))
    await h.send({
      type: "control_response",
      response: { subtype: "success", request_id: "perm_2", response: { behavior: "maybe" } },
    })
    const results = h
      .take()
      .filter((m: Json) => m.type === "user")
      .map((m: Json) => toolResultOf(m).content)
    expect(results).toEqual([
      "Tool permission request failed: Error: boom",
      'Tool permission request failed: bad "permission result" message: field "behavior": Expected "allow" or "deny", got "maybe"',
    ])
    expect(h.runner.runs).toEqual([])
  })

  it("reports a failing, a timed-out and a signalled command as errors, with notes", async () => {
    const h = harness({ mode: "bypassPermissions" })
    await h.send(userMessage("$ false\n$ slow\n$ doomed"))
    h.runner.runs[0]!.finish({ exitCode: 3 })
    await settle()
    h.runner.runs[1]!.finish({ stdout: "so far\n", exitCode: null, signal: "SIGTERM", timedOut: true })
    await settle()
    h.runner.runs[2]!.finish({ stderr: "bye\n", exitCode: null, signal: "SIGKILL" })
    await settle()
    const out = h.take()
    expect(out.filter((m: Json) => m.type === "control_request")).toEqual([])
    expect(out.filter((m: Json) => m.type === "user").map((m: Json) => toolResultOf(m))).toEqual([
      { type: "tool_result", tool_use_id: "toolu_1", content: "Exit code 3", is_error: true },
      {
        type: "tool_result",
        tool_use_id: "toolu_2",
        content: "so far\n\n[command timed out after 5000 ms and was killed]",
        is_error: true,
      },
      {
        type: "tool_result",
        tool_use_id: "toolu_3",
        content: "bye\n\n[command terminated by signal SIGKILL]",
        is_error: true,
      },
    ])
    expect(out.at(-1)).toMatchObject({
      subtype: "success",
      result: "Finished 3 commands: 0 succeeded, 3 failed, 0 denied.",
    })
  })

  it("denies without asking in dontAsk mode and without a prompt tool", async () => {
    for (const [options, reason] of [
      [{ mode: "dontAsk" as const }, "permission mode is dontAsk"],
      [
        { canPrompt: false },
        "no permission prompt tool (start the agent with --permission-prompt-tool stdio)",
      ],
    ] as const) {
      const h = harness(options)
      await h.send(userMessage("$ ls"))
      const out = h.take()
      expect(h.kinds(out)).toEqual([
        "system/init",
        "assistant:text",
        "assistant:tool_use",
        "system/permission_denied",
        "user:tool_result",
        "assistant:text",
        "result/success",
      ])
      const message = `Permission to use Bash was denied: ${reason}`
      expect(out[3]).toMatchObject({ tool_name: "Bash", tool_use_id: "toolu_1", message })
      expect(toolResultOf(out[4])).toMatchObject({ content: message, is_error: true })
      expect(out[6].permission_denials).toHaveLength(1)
      expect(h.runner.runs).toEqual([])
    }
  })

  it("reports the pending prompt in a later initialize (a reconnecting host re-sends it)", async () => {
    const h = harness()
    await h.send(userMessage("$ ls"))
    const request = h.take().at(-1)
    await h.send(initializeRequest("R2"))
    expect(h.take()[0].response.response).toMatchObject({
      session_state: "requires_action",
      pending_permission_requests: [request],
    })
  })
})

describe("BuiltinAgent: interrupts and the queue", () => {
  it("interrupting a running command stops it and ends the turn as aborted_tools", async () => {
    const h = harness({ mode: "bypassPermissions" })
    await h.send(userMessage("$ tail -f /dev/null\n$ echo never"))
    h.take()
    await h.send(interruptRequest("I1"))
    expect(h.runner.runs[0]!.interrupted).toBe(true)
    const out = h.take()
    expect(h.kinds(out)).toEqual([
      "control_response/success",
      "user:tool_result",
      "user:text",
      "result/error_during_execution",
    ])
    expect(out[0].response).toEqual({ subtype: "success", request_id: "I1", response: { still_queued: [] } })
    expect(toolResultOf(out[1])).toEqual({
      type: "tool_result",
      tool_use_id: "toolu_1",
      content: "partial\n\n[command stopped while running: interrupted by user]",
      is_error: true,
    })
    expect(out[1].tool_use_result).toMatchObject({ interrupted: true, exitCode: null })
    expect(out[2].message.content[0].text).toBe("[Request interrupted by user for tool use]")
    expect(out[3]).toMatchObject({ is_error: true, terminal_reason: "aborted_tools", result_index: 0 })
    expect(h.runner.runs).toHaveLength(1)
    // The session stays usable.
    await h.send(userMessage("$ echo again"))
    h.runner.runs[1]!.finish({ stdout: "again\n" })
    await settle()
    expect(h.take().at(-1)).toMatchObject({ subtype: "success", result_index: 1 })
  })

  it("interrupting a pending prompt withdraws it first; a late answer is ignored", async () => {
    const h = harness()
    await h.send(userMessage("$ ls\n$ pwd"))
    h.take()
    await h.send(interruptRequest("I1"))
    const out = h.take()
    expect(h.kinds(out)).toEqual([
      "control_cancel_request",
      "control_response/success",
      "user:tool_result",
      "user:text",
      "result/error_during_execution",
    ])
    expect(out[0]).toEqual({ type: "control_cancel_request", request_id: "perm_1" })
    expect(toolResultOf(out[2])).toMatchObject({ tool_use_id: "toolu_1", is_error: true })
    expect(out[3].message.content[0].text).toBe("[Request interrupted by user]")
    expect(out[4]).toMatchObject({ terminal_reason: "aborted_streaming", is_error: true })
    await h.send(allowResponse("perm_1"))
    expect(h.take()).toEqual([])
    expect(h.runner.runs).toEqual([])
    expect(h.logs).toEqual(['agenthost agent: ignoring a control_response for unknown request "perm_1"'])
  })

  it("an interrupt right after an allow, before the command starts, runs nothing and still answers the tool use", async () => {
    const h = harness()
    await h.send(userMessage("$ echo late"))
    h.take()
    h.agent.receive(decodeAgentLine(JSON.stringify(allowResponse("perm_1"))))
    h.agent.receive(decodeAgentLine(JSON.stringify(interruptRequest("I1"))))
    await settle()
    const out = h.take()
    expect(h.kinds(out)).toEqual([
      "control_response/success",
      "user:tool_result",
      "user:text",
      "result/error_during_execution",
    ])
    expect(toolResultOf(out[1])).toMatchObject({
      tool_use_id: "toolu_1",
      content: "[command not started: interrupted by user]",
      is_error: true,
    })
    expect(out[3].terminal_reason).toBe("aborted_streaming")
    expect(h.runner.runs).toEqual([])
  })

  it("an interrupt while idle is acknowledged and does nothing else", async () => {
    const h = harness()
    await h.send(interruptRequest("I1"))
    await h.send(interruptRequest("I2"))
    expect(h.take()).toEqual([
      {
        type: "control_response",
        response: { subtype: "success", request_id: "I1", response: { still_queued: [] } },
      },
      {
        type: "control_response",
        response: { subtype: "success", request_id: "I2", response: { still_queued: [] } },
      },
    ])
  })

  it("queues prompts that arrive mid-turn and runs them in order, with lifecycle frames for uuids", async () => {
    const h = harness()
    await h.send(userMessage("$ first", { uuid: "u1" }))
    await h.send(userMessage("second", { uuid: "u2" }))
    await h.send(userMessage("third"))
    await h.send(interruptRequest("I0"))
    // The interrupt hit turn 1's prompt; the queued prompts then run in order.
    const out = h.take()
    expect(
      out
        .filter((m: Json) => m.type === "command_lifecycle")
        .map((m: Json) => `${m.command_uuid}:${m.state}`),
    ).toEqual(["u1:queued", "u1:started", "u2:queued", "u1:cancelled", "u2:started", "u2:completed"])
    const interruptAck = out.find((m: Json) => m.type === "control_response")
    expect(interruptAck.response.response).toEqual({ still_queued: ["u2"] })
    const results = out.filter((m: Json) => m.type === "result")
    expect(results.map((r: Json) => [r.result_index, r.subtype, r.result ?? r.errors[0]])).toEqual([
      [0, "error_during_execution", "[Request interrupted by user]"],
      [1, "success", "You said: second"],
      [2, "success", "You said: third"],
    ])
    expect(results[1].user_message_uuid).toBe("u2")
    expect(out.filter((m: Json) => m.type === "system" && m.subtype === "init")).toHaveLength(3)
  })

  it("interrupt with cancel_queued drops the queue and says so", async () => {
    const h = harness()
    await h.send(userMessage("$ first"))
    await h.send(userMessage("second", { uuid: "u2" }))
    await h.send({
      type: "control_request",
      request_id: "I1",
      request: { subtype: "interrupt", cancel_queued: true },
    })
    const out = h.take()
    expect(out.find((m: Json) => m.type === "control_response").response.response).toEqual({
      still_queued: [],
      cancelled: ["u2"],
    })
    expect(out.filter((m: Json) => m.type === "result")).toHaveLength(1)
    expect(out.some((m: Json) => m.type === "command_lifecycle" && m.state === "cancelled")).toBe(true)
  })
})

describe("BuiltinAgent: end of input", () => {
  it("is done at once when idle", async () => {
    const h = harness()
    h.agent.endInput()
    await h.agent.done
    expect(h.take()).toEqual([])
  })

  it("finishes the current and queued turns, denying what can no longer be asked", async () => {
    const h = harness()
    await h.send(userMessage("$ ls"))
    await h.send(userMessage("$ pwd"))
    h.take()
    h.agent.endInput()
    await h.agent.done
    const out = h.take()
    expect(out[0]).toEqual({ type: "control_cancel_request", request_id: "perm_1" })
    const results = out.filter((m: Json) => m.type === "result")
    expect(results.map((r: Json) => [r.subtype, r.permission_denials.length])).toEqual([
      ["success", 1],
      ["success", 1],
    ])
    expect(out.filter((m: Json) => m.type === "user").map((m: Json) => toolResultOf(m).content)).toEqual([
      "Permission request withdrawn: stdin closed before it was answered",
      "Permission to use Bash was denied: stdin is closed, nobody can answer a permission request",
    ])
    expect(h.runner.runs).toEqual([])
  })

  it("waits for a running command before it is done", async () => {
    const h = harness({ mode: "bypassPermissions" })
    await h.send(userMessage("$ make"))
    h.agent.endInput()
    let done = false
    void h.agent.done.then(() => {
      done = true
    })
    await settle()
    expect(done).toBe(false)
    h.runner.runs[0]!.finish({ stdout: "built\n" })
    await h.agent.done
    expect(h.take().at(-1)).toMatchObject({ type: "result", subtype: "success" })
  })
})

describe("promptCommands", () => {
  it("takes every line starting with '$ ', and nothing else", () => {
    expect(promptCommands("a\n$ echo 1\r\n  $ not\n$not\n$ \n$ echo $HOME")).toEqual(["echo 1", "echo $HOME"])
  })
})
