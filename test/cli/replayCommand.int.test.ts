import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Effect, Exit, Layer, Scope, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Clock, ManualClock } from "../../src/adapters/clock.js"
import { main } from "../../src/cli/main.js"
import { openMachineRuntime } from "../../src/effects/openMachineRuntime.js"
import { EventLog } from "../../src/eventlog/eventLog.js"
import { fileEventLogLayer } from "../../src/eventlog/fileEventLog.js"
import type { EventBody, LogRecord, RecordBody } from "../../src/eventlog/logRecord.js"
import { connectionMachineDefinition, sessionMachineDefinition } from "../../src/machines/machineRegistry.js"
import { SESSION_EVENT as E } from "../../src/machines/sessionMachine.js"
import { BIN, type CliRun, runBuiltCli } from "../support/builtCli.js"
import { fakeIo } from "./connectIo.js"

const root = resolve(import.meta.dirname, "../..")
const T0 = Date.parse("2026-02-03T04:05:06.000Z")

/** The same CLI in this process: for the cases where a child process shows nothing more. */
async function inProcess(args: ReadonlyArray<string>): Promise<CliRun> {
  const { io, stdout, stderr } = fakeIo({ cwd: home })
  const code = await main(args, io)
  return { code, stdout: stdout.text, stderr: stderr.text }
}

const agenthost = (args: ReadonlyArray<string>) => runBuiltCli(args, { env: { AGENTHOST_HOME: "" } })

let home: string
let logs: string

/** Writes a session log with the file backend, through the machine runtime, as `agenthost exec` would. */
async function writeSessionLog(stream: string): Promise<void> {
  const clock = new ManualClock(T0)
  const { runtime, close } = await openMachineRuntime({
    eventLog: fileEventLogLayer({ dir: logs }),
    clock,
    stream,
  })
  const session = await runtime.startAsync(sessionMachineDefinition, {
    actorId: "session",
    input: { sessionId: stream, agent: "builtin", workDir: "/w", createdAt: T0, permissionTimeoutMs: 1_000 },
  })
  const conn = await runtime.startAsync(connectionMachineDefinition, {
    actorId: "connection:c1",
    input: { connectionId: "c1", side: "host", sessionId: stream },
  })
  await session.sendAsync({ type: E.agentReady, at: T0, pid: 42 })
  await conn.sendAsync({ type: "connection.opened", at: T0 })
  await session.sendAsync({ type: E.userMessage, at: T0, messageId: "m1", content: "$ touch x" })
  await session.sendAsync({ type: E.permissionRequested, at: T0, requestId: "r1", toolName: "Bash" })
  clock.advance(1_000)
  await runtime.flushAsync()
  await session.sendAsync({
    type: E.turnCompleted,
    at: T0 + 1_000,
    result: { type: "result", subtype: "success" },
  })
  await close()
}

/** Reads a file log's records (to copy or tamper with them). */
function readRecords(stream: string): Promise<ReadonlyArray<LogRecord>> {
  const clock = new ManualClock(T0)
  const layer = fileEventLogLayer({ dir: logs }).pipe(Layer.provide(Layer.succeed(Clock, clock)))
  return Effect.runPromise(
    Effect.gen(function* () {
      const log = yield* EventLog
      return yield* Stream.runCollect(log.read(stream))
    }).pipe(Effect.provide(layer)),
  )
}

/** Appends bodies to a stream through the file backend; returns a closer for follow tests. */
async function openWriter(stream: string) {
  const clock = new ManualClock(T0)
  const layer = fileEventLogLayer({ dir: logs, durability: "none" }).pipe(
    Layer.provide(Layer.succeed(Clock, clock)),
  )
  const scope = await Effect.runPromise(Scope.make())
  const writer = await Effect.runPromise(
    Effect.gen(function* () {
      const log = yield* EventLog
      return yield* log.open(stream)
    }).pipe(Effect.provide(layer), Scope.provide(scope)),
  )
  return {
    append: (bodies: ReadonlyArray<RecordBody>) => Effect.runPromise(writer.append(bodies)),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void)),
  }
}

beforeAll(async () => {
  if (!existsSync(resolve(root, "dist/cli/replayCommand.js"))) {
    throw new Error("dist/ has no replay command: run `npm run build` before the integration tests")
  }
  home = mkdtempSync(join(tmpdir(), "agh-replay-"))
  logs = join(home, "logs")
  mkdirSync(logs)
  await writeSessionLog("s_good")
})

afterAll(() => {
  rmSync(home, { recursive: true, force: true })
})

describe("agenthost replay (built CLI)", () => {
  it("prints the timeline of a session by id, one line per record, and --verify exits 0", async () => {
    const r = await agenthost(["replay", "s_good", "--home", home, "--verify"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split("\n")
    expect(lines).toEqual([
      "2026-02-03T04:05:06.000Z  #1  session  actor.started  → starting",
      "2026-02-03T04:05:06.000Z  #2  connection:c1  actor.started  → starting",
      "2026-02-03T04:05:06.000Z  #3  session  session.agentReady  starting → running.idle",
      "2026-02-03T04:05:06.000Z  #4  connection:c1  connection.opened  starting → running.open",
      "2026-02-03T04:05:06.000Z  #5  session  session.userMessage  running.idle → running.busy",
      "2026-02-03T04:05:06.000Z  #6  session  session.permissionRequested  running.busy → running.awaiting_permission",
      "2026-02-03T04:05:07.000Z  #7  session  session.permissionTimedOut  running.awaiting_permission → running.busy",
      "2026-02-03T04:05:07.000Z  #8  session  session.turnCompleted  running.busy → running.idle",
    ])
  })

  it("prints one JSON object per record with --json, reading a log file by path", async () => {
    const r = await agenthost(["replay", join(logs, "s_good.aglog"), "--json"])
    expect(r.code).toBe(0)
    const objects = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(objects).toHaveLength(8)
    expect(objects[6]).toMatchObject({
      seq: 7,
      time: "2026-02-03T04:05:07.000Z",
      actor: "session",
      kind: "event",
      type: "session.permissionTimedOut",
      machine: "session",
      before: { running: "awaiting_permission" },
      after: { running: "busy" },
      status: "ok",
    })
  })

  it("--verify exits 1 at the first divergence, naming seq, actor, expected and got", async () => {
    const records = await readRecords("s_good")
    const writer = await openWriter("s_tampered")
    await writer.append(
      records.map(
        (r): RecordBody => (r.seq === 5 ? { ...(r.body as EventBody), state: { running: "idle" } } : r.body),
      ),
    )
    await writer.close()
    const r = await agenthost(["replay", "s_tampered", "--home", home, "--verify"])
    expect(r.code).toBe(1)
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(5)
    const digest = ((records[4] as LogRecord).body as EventBody).digest
    expect(r.stderr).toBe(
      `agenthost replay: AGH_REPLAY_DIVERGED: record 5 (actor session, event session.userMessage) diverged: expected state running.idle digest ${digest}, got state running.busy digest ${digest}\n`,
    )
    const lenient = await inProcess(["replay", "s_tampered", "--home", home])
    expect(lenient.code).toBe(0)
    expect(lenient.stdout.trimEnd().split("\n")).toHaveLength(8)
    expect(lenient.stderr).toMatch(/^agenthost replay: warning: AGH_REPLAY_DIVERGED: record 5 /)
  })

  it("exits 2 with the log's code when there is no such log or it is not a log", async () => {
    const missing = await inProcess(["replay", "s_nope", "--home", home])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^agenthost replay: AGH_LOG_NOT_FOUND: .*s_nope\.aglog/)
    const junk = join(home, "junk.aglog")
    writeFileSync(junk, "this is not a log at all, just text that goes on for a while")
    const bad = await inProcess(["replay", "junk.aglog"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^agenthost replay: AGH_LOG_BAD_FRAME: .*junk\.aglog/)
    const usage = await inProcess(["replay"])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toBe(
      "agenthost replay: AGH_CLI_USAGE: expected one log file or session id, got 0 arguments\n",
    )
  })

  it("--follow prints records appended after it started", async () => {
    const records = await readRecords("s_good")
    const writer = await openWriter("s_live")
    await writer.append(records.slice(0, 3).map((r) => r.body))
    const child = spawn(process.execPath, [BIN, "replay", "s_live", "--home", home, "--follow"], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    try {
      let out = ""
      const waitFor = (text: string) =>
        new Promise<void>((done, fail) => {
          const check = () => {
            if (out.includes(text)) done()
          }
          child.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString("utf8")
            check()
          })
          child.once("exit", (code) => fail(new Error(`replay --follow exited with ${code}: ${out}`)))
          check()
        })
      await waitFor("#3  session  session.agentReady")
      await writer.append(records.slice(3, 5).map((r) => r.body))
      await waitFor("#5  session  session.userMessage  running.idle → running.busy")
    } finally {
      child.kill("SIGTERM")
      await writer.close()
    }
  })
})
