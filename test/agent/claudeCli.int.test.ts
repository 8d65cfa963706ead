import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import {
  CLAUDE_CODE_VERSION,
  claudeBinaryCandidates,
  claudeOfflineEnv,
  findClaudeBinary,
} from "../support/claudeBinary.js"
import {
  type FakeAnthropic,
  type FakeTurn,
  lastToolResults,
  startFakeAnthropic,
} from "../support/fakeAnthropic.js"

// The real Claude Code CLI against a local fake of the Messages API, spoken to in raw stream-json.
// Ground truth for the protocol notes in /work/shared/stream-json.md and docs/claude-code.md.

const claudeBin = findClaudeBinary()
const missing =
  `Claude Code CLI not found (looked at ${claudeBinaryCandidates().join(", ")}): ` +
  "run `bash .ci/install-claude.sh` or set AGENTHOST_CLAUDE_BIN"
if (claudeBin === undefined) {
  if (process.env.CI === "true") {
    describe("Claude Code CLI", () => {
      it("is installed when CI=true", () => {
        throw new Error(missing)
      })
    })
  } else {
    console.warn(`skipping test/agent/claudeCli.int.test.ts: ${missing}`)
  }
}

/** Generous: the CLI takes ~1 s to start, more on a loaded 2-core box. */
const LINE_TIMEOUT_MS = 20_000

type Line = { readonly type: string; readonly [key: string]: unknown }
// Loose views of the lines the tests look into; the real types live in the protocol module.
type ControlRequestLine = Line & {
  request_id: string
  request: { subtype: string; tool_name?: string; input?: Record<string, unknown>; tool_use_id?: string }
}
type ToolResultBlock = { type: "tool_result"; tool_use_id: string; content: unknown; is_error?: boolean }
type ResultLine = Line & {
  subtype: string
  is_error: boolean
  result?: string
  terminal_reason?: string
  num_turns: number
  permission_denials: Array<{ tool_name: string; tool_use_id: string }>
}

/** The CLI's stdout as NDJSON lines, awaited in order. */
class CliProcess {
  readonly lines: Line[] = []
  stderr = ""
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private cursor = 0
  private wake: (() => void) | undefined
  private exitedNow = false
  private nextRequest = 1

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    let buffered = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const text = buffered.slice(0, nl).trim()
        buffered = buffered.slice(nl + 1)
        if (text !== "") this.lines.push(parseLine(text))
      }
      this.wake?.()
    })
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (chunk: string) => {
      this.stderr += chunk
    })
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.exitedNow = true
        this.wake?.()
        resolve({ code, signal })
      })
    })
  }

  send(message: object): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`)
  }

  /** Sends `initialize` and waits for its answer: the "process is ready" signal. */
  async initialize(): Promise<Line & { response: { subtype: string; response: Record<string, unknown> } }> {
    const requestId = this.request({ subtype: "initialize" })
    return this.next(
      (l) => l.type === "control_response" && responseOf(l).request_id === requestId,
      "initialize response",
    ) as Promise<Line & { response: { subtype: string; response: Record<string, unknown> } }>
  }

  /** Sends a host control_request and returns its id. */
  request(request: object): string {
    const requestId = `host-${this.nextRequest++}`
    this.send({ type: "control_request", request_id: requestId, request })
    return requestId
  }

  sendUser(text: string, uuid: string): void {
    this.send({
      type: "user",
      message: { role: "user", content: text },
      parent_tool_use_id: null,
      session_id: "",
      uuid,
    })
  }

  answer(requestId: string, response: object): void {
    this.send({ type: "control_response", response: { subtype: "success", request_id: requestId, response } })
  }

  /** The first line after the previous match that satisfies `match`; fails with the transcript on timeout. */
  async next(match: (line: Line) => boolean, what: string): Promise<Line> {
    const deadline = Date.now() + LINE_TIMEOUT_MS
    for (;;) {
      const index = this.lines.findIndex((line, i) => i >= this.cursor && match(line))
      if (index >= 0) {
        this.cursor = index + 1
        return this.lines[index] as Line
      }
      if (this.exitedNow) throw new Error(`CLI exited while waiting for ${what}\n${this.transcript()}`)
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`no ${what} within ${LINE_TIMEOUT_MS} ms\n${this.transcript()}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /** Closes stdin (end of session) and waits for the exit. */
  async end(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin.end()
    return this.exited
  }

  transcript(): string {
    const out = this.lines.map((l) => JSON.stringify(l).slice(0, 300)).join("\n")
    return `--- stdout (${this.lines.length} lines)\n${out}\n--- stderr\n${this.stderr.slice(-2000)}`
  }
}

function parseLine(text: string): Line {
  try {
    return JSON.parse(text) as Line
  } catch {
    // Kept, not thrown: a failing wait then shows it in the transcript.
    return { type: "<not json>", text }
  }
}

function responseOf(line: Line): {
  subtype?: string
  request_id?: string
  response?: Record<string, unknown>
} {
  return (line.response ?? {}) as {
    subtype?: string
    request_id?: string
    response?: Record<string, unknown>
  }
}

const isCanUseTool = (l: Line): boolean =>
  l.type === "control_request" && (l as ControlRequestLine).request.subtype === "can_use_tool"

function toolResultsOf(line: Line): ToolResultBlock[] {
  if (line.type !== "user") return []
  const content = (line.message as { content?: unknown } | undefined)?.content
  return Array.isArray(content) ? content.filter((b: { type?: string }) => b.type === "tool_result") : []
}

const hasToolResult = (l: Line): boolean => toolResultsOf(l).length > 0

function contentText(content: unknown): string {
  if (typeof content === "string") return content
  if (Array.isArray(content)) return content.map((b: { text?: string }) => b.text ?? "").join("")
  return ""
}

describe.skipIf(claudeBin === undefined)(
  `Claude Code CLI ${CLAUDE_CODE_VERSION} over stream-json`,
  // Above the per-line timeout, so a stuck wait reports its transcript instead of a bare test timeout.
  { timeout: 3 * LINE_TIMEOUT_MS },
  () => {
    const cleanups: Array<() => Promise<void> | void> = []
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    })

    async function start(script: ReadonlyArray<FakeTurn>): Promise<{
      cli: CliProcess
      fake: FakeAnthropic
      work: string
    }> {
      const root = mkdtempSync(join(tmpdir(), "agenthost-claude-"))
      cleanups.push(() => rmSync(root, { recursive: true, force: true }))
      const home = join(root, "home")
      const work = join(root, "work")
      mkdirSync(home)
      mkdirSync(work)
      const fake = await startFakeAnthropic(script)
      cleanups.push(() => fake.close())
      const child = spawn(
        claudeBin as string,
        [
          "-p",
          "--input-format",
          "stream-json",
          "--output-format",
          "stream-json",
          "--verbose",
          "--permission-prompt-tool",
          "stdio",
        ],
        { cwd: work, env: claudeOfflineEnv({ baseUrl: fake.url, home }), stdio: ["pipe", "pipe", "pipe"] },
      )
      const cli = new CliProcess(child)
      cleanups.push(async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGKILL")
          await cli.exited
        }
      })
      return { cli, fake, work }
    }

    it("ends each plain turn in a success result carrying the model's text", async () => {
      const { cli, fake, work } = await start([
        { content: [{ type: "text", text: "Hello from the fake." }] },
        { content: [{ type: "text", text: "Second answer." }] },
      ])
      const init = await cli.initialize()
      expect(init.response.subtype).toBe("success")
      expect(init.response.response.claude_code_version).toBe(CLAUDE_CODE_VERSION)

      cli.sendUser("say hello", "u-plain-1")
      const system = await cli.next((l) => l.type === "system" && l.subtype === "init", "system/init")
      expect(system.cwd).toBe(work)
      expect(system.tools).toContain("Bash")
      const assistant = await cli.next((l) => l.type === "assistant", "assistant message")
      expect(contentText((assistant.message as { content: unknown }).content)).toBe("Hello from the fake.")
      const first = (await cli.next((l) => l.type === "result", "first result")) as ResultLine
      expect(first).toMatchObject({
        subtype: "success",
        is_error: false,
        result: "Hello from the fake.",
        num_turns: 1,
        terminal_reason: "completed",
        session_id: system.session_id,
        result_index: 0,
      })

      // The same process serves the next user line; the fake picks turn 1 from the history it is sent.
      cli.sendUser("again", "u-plain-2")
      const second = (await cli.next((l) => l.type === "result", "second result")) as ResultLine
      expect(second).toMatchObject({ subtype: "success", result: "Second answer.", result_index: 1 })

      // set_model probes the API with a non-streaming request, which the fake answers as a side request.
      const setModel = cli.request({ subtype: "set_model", model: "claude-fake-model" })
      const ack = await cli.next(
        (l) => l.type === "control_response" && responseOf(l).request_id === setModel,
        "set_model response",
      )
      expect(responseOf(ack)).toMatchObject({ subtype: "success", response: { model: "claude-fake-model" } })

      const main = fake.requests.filter((r) => r.kind === "main")
      expect(main.map((r) => r.turn)).toEqual([0, 1])
      expect(main[0]).toMatchObject({ path: "/v1/messages", url: "/v1/messages?beta=true", stream: true })
      expect(main[0]?.headers["x-api-key"]).toBe("fake")
      expect(JSON.stringify(main[0]?.body?.messages)).toContain("say hello")
      expect(fake.requests.filter((r) => r.kind === "side")).toMatchObject([
        { stream: false, body: { model: "claude-fake-model" } },
      ])
      expect(await cli.end()).toEqual({ code: 0, signal: null })
    })

    it("asks can_use_tool for a command that is not read-only, and runs it when allowed", async () => {
      const { cli, fake, work } = await start([
        {
          content: [
            { type: "text", text: "Creating the marker." },
            {
              type: "tool_use",
              name: "Bash",
              input: { command: "touch marker.txt", description: "Create marker" },
            },
          ],
        },
        { content: [{ type: "text", text: "Created marker.txt." }] },
      ])
      await cli.initialize()
      cli.sendUser("create marker.txt", "u-allow")

      const ask = (await cli.next(isCanUseTool, "can_use_tool request")) as ControlRequestLine
      expect(ask.request).toMatchObject({
        tool_name: "Bash",
        input: { command: "touch marker.txt" },
        tool_use_id: "toolu_fake_0_1",
      })
      // Nothing runs before the answer.
      expect(existsSync(join(work, "marker.txt"))).toBe(false)
      cli.answer(ask.request_id, { behavior: "allow", updatedInput: ask.request.input })

      const toolResult = toolResultsOf(await cli.next(hasToolResult, "tool_result"))[0]
      expect(toolResult).toMatchObject({ tool_use_id: "toolu_fake_0_1" })
      expect(toolResult?.is_error ?? false).toBe(false)
      const result = (await cli.next((l) => l.type === "result", "result")) as ResultLine
      expect(result).toMatchObject({
        subtype: "success",
        is_error: false,
        result: "Created marker.txt.",
        num_turns: 2,
        terminal_reason: "completed",
        permission_denials: [],
      })
      expect(existsSync(join(work, "marker.txt"))).toBe(true)

      const main = fake.requests.filter((r) => r.kind === "main")
      expect(main.map((r) => r.turn)).toEqual([0, 1])
      expect(lastToolResults(main[1]!)).toMatchObject([{ tool_use_id: "toolu_fake_0_1" }])
      expect(await cli.end()).toEqual({ code: 0, signal: null })
    })

    it("reports a deny as an error tool_result with the host's message and does not run the command", async () => {
      const { cli, fake, work } = await start([
        { content: [{ type: "tool_use", name: "Bash", input: { command: "touch denied.txt" } }] },
        { content: [{ type: "text", text: "Understood, not creating it." }] },
      ])
      await cli.initialize()
      cli.sendUser("create denied.txt", "u-deny")

      const ask = (await cli.next(isCanUseTool, "can_use_tool request")) as ControlRequestLine
      cli.answer(ask.request_id, { behavior: "deny", message: "Denied by the agenthost test" })

      const toolResult = toolResultsOf(await cli.next(hasToolResult, "tool_result"))[0]
      expect(toolResult).toMatchObject({ tool_use_id: "toolu_fake_0_0", is_error: true })
      expect(contentText(toolResult?.content)).toContain("Denied by the agenthost test")
      const result = (await cli.next((l) => l.type === "result", "result")) as ResultLine
      expect(result).toMatchObject({ subtype: "success", result: "Understood, not creating it." })
      expect(result.permission_denials).toMatchObject([{ tool_name: "Bash", tool_use_id: "toolu_fake_0_0" }])
      expect(existsSync(join(work, "denied.txt"))).toBe(false)

      // The model is told, in the next request, exactly what the host said.
      const second = fake.requests.filter((r) => r.kind === "main")[1]
      expect(second).toBeDefined()
      const sent = lastToolResults(second!)
      expect(sent).toMatchObject([{ tool_use_id: "toolu_fake_0_0", is_error: true }])
      expect(contentText(sent[0]?.content)).toContain("Denied by the agenthost test")
      await cli.end()
    })

    it("interrupts a running tool: the command is killed and the turn ends aborted_tools", async () => {
      // The tool connects back to this server, so the test sees the command start and die without polling.
      const sockets: Socket[] = []
      let onConnect: (socket: Socket) => void = () => {}
      const connected = new Promise<Socket>((resolve) => {
        onConnect = resolve
      })
      const probe: Server = createServer((socket) => {
        sockets.push(socket)
        onConnect(socket)
      })
      await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy()
            probe.close(() => resolve())
          }),
      )
      const port = (probe.address() as { port: number }).port
      // Not `sleep`: the CLI's Bash guard refuses it. The process also exits when the test drops the
      // socket, so a failed run leaves nothing behind.
      const script = `const s = require('net').connect(${port}, '127.0.0.1'); s.on('close', () => process.exit()); setInterval(() => {}, 1000)`
      const command = `${JSON.stringify(process.execPath)} -e "${script}"`
      const { cli } = await start([
        { content: [{ type: "tool_use", name: "Bash", input: { command, description: "Run forever" } }] },
        { content: [{ type: "text", text: "unreachable" }] },
      ])
      await cli.initialize()
      cli.sendUser("run the long command", "u-interrupt")

      const ask = (await cli.next(isCanUseTool, "can_use_tool request")) as ControlRequestLine
      cli.answer(ask.request_id, { behavior: "allow", updatedInput: ask.request.input })
      const socket = await connected
      const toolDied = new Promise<void>((resolve) => socket.on("close", () => resolve()))

      const interruptId = cli.request({ subtype: "interrupt" })
      const ack = await cli.next(
        (l) => l.type === "control_response" && responseOf(l).request_id === interruptId,
        "interrupt response",
      )
      expect(responseOf(ack).subtype).toBe("success")
      const toolResult = toolResultsOf(await cli.next(hasToolResult, "tool_result"))[0]
      expect(toolResult?.is_error).toBe(true)
      const result = (await cli.next((l) => l.type === "result", "result")) as ResultLine
      expect(result).toMatchObject({
        subtype: "error_during_execution",
        is_error: true,
        terminal_reason: "aborted_tools",
      })
      await toolDied
      // An error as the last result makes the CLI exit 1 at stdin EOF.
      expect(await cli.end()).toEqual({ code: 1, signal: null })
    })
  },
)
