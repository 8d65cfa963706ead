import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import {
  allowResponse,
  denyResponse,
  initializeRequest,
  interruptRequest,
  userMessage,
} from "../../src/protocol/hostMessages.js"
import { encodeNdjsonLine } from "../../src/protocol/ndjson.js"
import { processAlive } from "./processAlive.js"

// Runs the built binary (`npm test` builds first), exactly as a host launches the builtin agent.
const BIN = resolve(import.meta.dirname, "../../bin/agenthost.js")
const STREAM_ARGS = ["agent", "--input-format", "stream-json", "--output-format", "stream-json"]

// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary emitted JSON.
type Json = any

const WAIT_MS = 15_000

/** One agent process with its stdout parsed line by line; tests wait for specific messages, never sleep. */
class AgentProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly messages: Json[] = []
  stdoutText = ""
  stderr = ""
  private cursor = 0
  private readonly waiters = new Set<() => void>()
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  constructor(args: ReadonlyArray<string>, cwd: string) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd, env: process.env, stdio: "pipe" })
    let partial = ""
    this.child.stdout.setEncoding("utf8")
    this.child.stdout.on("data", (chunk: string) => {
      this.stdoutText += chunk
      partial += chunk
      let nl = partial.indexOf("\n")
      while (nl !== -1) {
        this.messages.push(JSON.parse(partial.slice(0, nl)))
        partial = partial.slice(nl + 1)
        nl = partial.indexOf("\n")
      }
      for (const wake of this.waiters) wake()
    })
    this.child.stderr.setEncoding("utf8")
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr += chunk
      for (const wake of this.waiters) wake()
    })
    this.exited = new Promise((resolveExit) => {
      this.child.on("exit", (code, signal) => {
        resolveExit({ code, signal })
        for (const wake of this.waiters) wake()
      })
    })
  }

  send(message: object | string | Uint8Array): void {
    this.child.stdin.write(
      typeof message === "object" && !(message instanceof Uint8Array) ? encodeNdjsonLine(message) : message,
    )
  }

  closeStdin(): void {
    this.child.stdin.end()
  }

  /** The next message (after the previous `next`) matching `pred`; skipped messages stay readable in `messages`. */
  next(pred: (m: Json) => boolean, what: string): Promise<Json> {
    return this.until(() => {
      for (let i = this.cursor; i < this.messages.length; i++) {
        if (pred(this.messages[i])) {
          this.cursor = i + 1
          return this.messages[i]
        }
      }
      return undefined
    }, what)
  }

  nextType(type: string, subtype?: string): Promise<Json> {
    return this.next(
      (m) =>
        m.type === type && (subtype === undefined || m.subtype === subtype || m.request?.subtype === subtype),
      subtype === undefined ? type : `${type}/${subtype}`,
    )
  }

  /** Waits until `check` returns a value; fails with what was seen after WAIT_MS. */
  until<T>(check: () => T | undefined, what: string): Promise<T> {
    return new Promise<T>((resolveWait, reject) => {
      const attempt = () => {
        const value = check()
        if (value === undefined) return
        this.waiters.delete(attempt)
        clearTimeout(timer)
        resolveWait(value)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(attempt)
        reject(
          new Error(`timed out waiting for ${what}\nstdout:\n${this.stdoutText}\nstderr:\n${this.stderr}`),
        )
      }, WAIT_MS)
      this.waiters.add(attempt)
      attempt()
    })
  }
}

let dir: string
const started: AgentProcess[] = []
/** Grandchildren a test learned about: killed afterwards even when an assertion failed mid-test. */
const strays: number[] = []
const start = (extra: ReadonlyArray<string> = ["--permission-prompt-tool", "stdio"]) => {
  const agent = new AgentProcess([...STREAM_ARGS, ...extra], dir)
  started.push(agent)
  return agent
}

beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "agh-agent-")))
})
afterEach(async () => {
  for (const agent of started.splice(0)) {
    if (agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill("SIGKILL")
      await agent.exited
    }
  }
  for (const pid of strays.splice(0)) if (processAlive(pid)) process.kill(pid, "SIGKILL")
  rmSync(dir, { recursive: true, force: true })
})

const readWhenWritten = (path: string) =>
  vi.waitFor(
    () => {
      const text = existsSync(path) ? readFileSync(path, "utf8") : ""
      if (!text.endsWith("\n")) throw new Error(`${path} not written yet`)
      return Number(text.trim())
    },
    { timeout: WAIT_MS, interval: 20 },
  )

describe("agenthost agent (real process)", () => {
  it("answers initialize; asks permission for `$ echo hi`, runs it in its cwd, ends with one result; EOF exits 0", async () => {
    const agent = start(["--permission-prompt-tool", "stdio", "--session-id", "sess-1"])
    agent.send(initializeRequest("R1", { systemPrompt: [""] }))
    const response = await agent.nextType("control_response")
    expect(response.response).toMatchObject({ subtype: "success", request_id: "R1" })
    expect(response.response.response).toMatchObject({
      pid: agent.child.pid,
      current_permission_mode: "default",
      session_state: "idle",
      commands: [],
      models: [],
    })
    expect(response.response.response.claude_code_version).toMatch(/^agenthost-builtin\/\d+\.\d+\.\d+/)
    agent.send(userMessage("say hi\n$ echo hi"))
    const init = await agent.nextType("system", "init")
    expect(init).toMatchObject({ session_id: "sess-1", cwd: dir, model: "builtin", tools: ["Bash"] })
    const ask = await agent.nextType("control_request", "can_use_tool")
    expect(ask.request).toMatchObject({ tool_name: "Bash", input: { command: "echo hi" } })
    agent.send(allowResponse(ask.request_id))
    const toolResult = await agent.nextType("user")
    expect(toolResult.message.content[0]).toEqual({
      type: "tool_result",
      tool_use_id: ask.request.tool_use_id,
      content: "hi\n",
      is_error: false,
    })
    const result = await agent.nextType("result")
    expect(result).toMatchObject({
      subtype: "success",
      is_error: false,
      session_id: "sess-1",
      terminal_reason: "completed",
      result_index: 0,
    })
    expect(agent.messages.filter((m) => m.type === "result")).toHaveLength(1)
    agent.closeStdin()
    expect(await agent.exited).toEqual({ code: 0, signal: null })
    expect(agent.stderr).toBe("")
  })

  it("a deny becomes an error tool result; nothing runs", async () => {
    const agent = start()
    agent.send(userMessage(`$ touch ${join(dir, "forbidden")}`))
    const ask = await agent.nextType("control_request", "can_use_tool")
    agent.send(denyResponse(ask.request_id, "no touching"))
    const toolResult = await agent.nextType("user")
    expect(toolResult.message.content[0]).toMatchObject({ content: "no touching", is_error: true })
    const result = await agent.nextType("result")
    expect(result.permission_denials).toEqual([
      { tool_name: "Bash", tool_use_id: ask.request.tool_use_id, tool_input: ask.request.input },
    ])
    expect(existsSync(join(dir, "forbidden"))).toBe(false)
  })

  it("bypassPermissions runs without asking; EOF mid-turn finishes the turn, then exits 0", async () => {
    const agent = start(["--permission-mode", "bypassPermissions"])
    agent.send(userMessage("$ echo made > made.txt && cat made.txt"))
    agent.closeStdin()
    const result = await agent.nextType("result")
    expect(result).toMatchObject({ subtype: "success", is_error: false })
    expect(agent.messages.some((m) => m.type === "control_request")).toBe(false)
    expect(readFileSync(join(dir, "made.txt"), "utf8")).toBe("made\n")
    expect(agent.messages.find((m) => m.type === "user").message.content[0].content).toBe("made\n")
    expect((await agent.exited).code).toBe(0)
  })

  it("an interrupt during a long command kills its whole process group and ends the turn", async () => {
    const agent = start(["--permission-mode", "bypassPermissions"])
    agent.send(userMessage("$ tail -f /dev/null & echo $! > tail.pid; wait"))
    const tailPid = await readWhenWritten(join(dir, "tail.pid"))
    strays.push(tailPid)
    expect(processAlive(tailPid)).toBe(true)
    agent.send(interruptRequest("I1"))
    const ack = await agent.nextType("control_response")
    expect(ack.response).toEqual({ subtype: "success", request_id: "I1", response: { still_queued: [] } })
    const toolResult = await agent.nextType("user")
    expect(toolResult.message.content[0].is_error).toBe(true)
    expect(toolResult.tool_use_result).toMatchObject({ interrupted: true })
    const notice = await agent.nextType("user")
    expect(notice.message.content[0].text).toBe("[Request interrupted by user for tool use]")
    const result = await agent.nextType("result")
    expect(result).toMatchObject({
      subtype: "error_during_execution",
      is_error: true,
      terminal_reason: "aborted_tools",
    })
    await vi.waitFor(() => expect(processAlive(tailPid)).toBe(false), { timeout: WAIT_MS, interval: 20 })
    // A second interrupt, now idle, is acknowledged and changes nothing.
    agent.send(interruptRequest("I2"))
    await agent.next((m) => m.type === "control_response" && m.response.request_id === "I2", "I2 ack")
    agent.closeStdin()
    expect((await agent.exited).code).toBe(0)
    expect(agent.messages.filter((m) => m.type === "result")).toHaveLength(1)
  })

  it("an interrupt during a pending permission withdraws it, then ends the turn as aborted_streaming", async () => {
    const agent = start()
    agent.send(userMessage("$ echo never"))
    const ask = await agent.nextType("control_request", "can_use_tool")
    agent.send(interruptRequest("I1"))
    const cancel = await agent.nextType("control_cancel_request")
    expect(cancel).toEqual({ type: "control_cancel_request", request_id: ask.request_id })
    await agent.nextType("control_response")
    const result = await agent.nextType("result")
    expect(result).toMatchObject({
      subtype: "error_during_execution",
      is_error: true,
      terminal_reason: "aborted_streaming",
    })
    // A late answer to the withdrawn request is ignored (and said so on stderr).
    agent.send(allowResponse(ask.request_id))
    agent.closeStdin()
    expect((await agent.exited).code).toBe(0)
    expect(agent.stderr).toContain(`ignoring a control_response for unknown request "${ask.request_id}"`)
    expect(
      agent.messages.filter((m) => m.type === "user" && m.tool_use_result?.stdout !== undefined),
    ).toEqual([])
  })

  it("queues a second message sent mid-turn and runs it after the first", async () => {
    const agent = start()
    agent.send(userMessage("$ echo first"))
    const ask = await agent.nextType("control_request", "can_use_tool")
    agent.send(userMessage("second"))
    agent.send(allowResponse(ask.request_id))
    const first = await agent.nextType("result")
    const second = await agent.nextType("result")
    expect([first.result_index, first.result]).toEqual([
      0,
      "Finished 1 command: 1 succeeded, 0 failed, 0 denied.",
    ])
    expect([second.result_index, second.result]).toEqual([1, "You said: second"])
    const inits = agent.messages.flatMap((m, i) => (m.type === "system" && m.subtype === "init" ? [i] : []))
    const results = agent.messages.flatMap((m, i) => (m.type === "result" ? [i] : []))
    // Turn 2 starts only after turn 1's result.
    expect(inits[1]).toBeGreaterThan(results[0]!)
  })

  it("survives garbage on stdin: each bad line is one stderr line with its code", async () => {
    const agent = start(["--permission-prompt-tool", "stdio", "--max-line-bytes", "200"])
    agent.send("garbage\n")
    agent.send("[1,2]\n")
    agent.send(Buffer.from([0x7b, 0xff, 0x7d, 0x0a]))
    agent.send(`{"type":"user","pad":"${"x".repeat(300)}"}\n`)
    agent.send('{"type":"control_request","request":{"subtype":"interrupt"}}\n')
    agent.send("\n\r\n")
    agent.send(userMessage("still here"))
    const result = await agent.nextType("result")
    expect(result.result).toBe("You said: still here")
    agent.closeStdin()
    expect((await agent.exited).code).toBe(0)
    expect(agent.stderr.trimEnd().split("\n")).toEqual([
      'agenthost agent: AGH_PROTO_NOT_JSON: line 1 is not JSON: "garbage"',
      "agenthost agent: AGH_PROTO_BAD_SHAPE: line 2: bad message: expected a JSON object, got an array",
      "agenthost agent: AGH_PROTO_BAD_UTF8: line 3 (starting at byte 14 of the stream) is not valid UTF-8",
      "agenthost agent: AGH_PROTO_LINE_TOO_LONG: line 4 is 324 bytes, over the 200-byte limit",
      'agenthost agent: AGH_PROTO_BAD_SHAPE: line 5: bad "control_request/interrupt" message: field "request_id": Missing key',
    ])
  })

  it("on SIGTERM kills the process groups of running commands and exits 143", async () => {
    const agent = start(["--permission-mode", "bypassPermissions"])
    agent.send(userMessage("$ tail -f /dev/null & echo $! > tail.pid; wait"))
    const tailPid = await readWhenWritten(join(dir, "tail.pid"))
    strays.push(tailPid)
    agent.child.kill("SIGTERM")
    expect(await agent.exited).toEqual({ code: 143, signal: null })
    await vi.waitFor(() => expect(processAlive(tailPid)).toBe(false), { timeout: WAIT_MS, interval: 20 })
  })
})
