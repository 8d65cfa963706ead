import { Effect, Layer } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { makeMachineRuntime } from "../../src/effects/machineRuntime.js"
import { MachineRuntimeError } from "../../src/effects/machineRuntimeError.js"
import { openMachineRuntime } from "../../src/effects/openMachineRuntime.js"
import type { LogWriter } from "../../src/eventlog/eventLog.js"
import { EventLogError } from "../../src/eventlog/eventLogError.js"
import type { LogRecord, RecordBody } from "../../src/eventlog/logRecord.js"
import { memoryEventLogLayer } from "../../src/eventlog/memoryEventLog.js"
import { CONNECTION_EVENT } from "../../src/machines/connectionMachine.js"
import { MachineEventError } from "../../src/machines/machineEventError.js"
import { connectionMachineDefinition, sessionMachineDefinition } from "../../src/machines/machineRegistry.js"
import {
  SESSION_EVENT as E,
  type SessionContext,
  type SessionInput,
} from "../../src/machines/sessionMachine.js"
import { contextDigest } from "../../src/machines/stateDigest.js"
import { type RuntimeHarness, runtimeHarness } from "./runtimeHarness.js"

const T0 = 1_700_000_000_000
const input: SessionInput = {
  sessionId: "s_1",
  agent: "builtin",
  workDir: "/w",
  createdAt: T0,
  startTimeoutMs: 0,
}
const bodies = (records: ReadonlyArray<LogRecord>) => records.map((r) => r.body)
const eventTypes = (records: ReadonlyArray<LogRecord>) =>
  records.map((r) =>
    r.body.type === "event" ? r.body.event.type : r.body.type === "note" ? r.body.code : r.body.type,
  )

let harness: RuntimeHarness | undefined
afterEach(async () => {
  await harness?.close()
  harness = undefined
})

async function start(effects = {}) {
  harness = await runtimeHarness()
  const actor = await harness.runtime.startAsync(sessionMachineDefinition, {
    actorId: "session",
    input,
    effects,
  })
  return { h: harness, actor }
}

describe("machineRuntime", () => {
  it("logs actor.started with machine, version, input, initial state and context digest", async () => {
    const { h, actor } = await start()
    const [first] = await h.records()
    expect(first).toEqual({
      seq: 1,
      at: T0,
      body: {
        type: "actor.started",
        actor: "session",
        machine: "session",
        machineVersion: 1,
        input,
        state: "starting",
        digest: contextDigest(actor.getSnapshot().context),
      },
    })
  })

  it("logs every event with the state after it and the context digest; send resolves with that record", async () => {
    const { h, actor } = await start()
    const ready = await actor.sendAsync({ type: E.agentReady, at: T0 + 1, pid: 9 })
    expect(ready.seq).toBe(2)
    expect(ready.body).toEqual({
      type: "event",
      actor: "session",
      event: { type: E.agentReady, at: T0 + 1, pid: 9 },
      state: { running: "idle" },
      digest: contextDigest(actor.getSnapshot().context),
    })
    const message = await actor.sendAsync({ type: E.userMessage, at: T0 + 2, messageId: "m1", content: "hi" })
    expect(message.body.state).toEqual({ running: "busy" })
    expect((await h.records()).map((r) => r.seq)).toEqual([1, 2, 3])
  })

  it("logs the delayed events its clock fires, stamped with the clock's time", async () => {
    harness = await runtimeHarness()
    const h = harness
    const actor = await h.runtime.startAsync(sessionMachineDefinition, {
      actorId: "session",
      input: { ...input, permissionTimeoutMs: 1_000 },
    })
    await actor.sendAsync({ type: E.agentReady, at: T0 })
    await actor.sendAsync({ type: E.permissionRequested, at: T0, requestId: "r1", toolName: "Bash" })
    h.clock.advance(1_000)
    const records = await h.records()
    const last = records[records.length - 1]
    expect(last?.at).toBe(T0 + 1_000)
    expect(last?.body).toMatchObject({
      type: "event",
      event: { type: E.permissionTimedOut, requestId: "r1" },
      state: { running: "idle" },
    })
  })

  it("appends a burst of events in one append, in order", async () => {
    harness = await runtimeHarness()
    const h = harness
    const appends: number[] = []
    const counting: LogWriter = {
      ...h.writer,
      append: (b) => {
        appends.push(b.length)
        return h.writer.append(b)
      },
    }
    const runtime = makeMachineRuntime(counting, { clock: h.clock })
    const actor = await runtime.startAsync(sessionMachineDefinition, { actorId: "session", input })
    const sends = [
      actor.sendAsync({ type: E.agentReady, at: T0 }),
      ...[1, 2, 3, 4].map((i) =>
        actor.sendAsync({ type: E.userMessage, at: T0 + i, messageId: `m${i}`, content: "x" }),
      ),
    ]
    const records = await Promise.all(sends)
    expect(records.map((r) => r.seq)).toEqual([2, 3, 4, 5, 6])
    expect(appends).toEqual([1, 5])
    expect(eventTypes(await h.records())).toEqual([
      "actor.started",
      E.agentReady,
      E.userMessage,
      E.userMessage,
      E.userMessage,
      E.userMessage,
    ])
  })

  it("shares one stream between actors: a session and its connections", async () => {
    harness = await runtimeHarness()
    const h = harness
    const session = await h.runtime.startAsync(sessionMachineDefinition, { actorId: "session", input })
    const conn = await h.runtime.startAsync(connectionMachineDefinition, {
      actorId: "connection:c1",
      input: { connectionId: "c1", side: "host", sessionId: "s_1" },
    })
    session.post({ type: E.agentReady, at: T0 })
    conn.post({ type: CONNECTION_EVENT.opened, at: T0 })
    session.post({ type: E.userMessage, at: T0, messageId: "m1", content: "x" })
    const records = await h.records()
    expect(records.map((r) => [r.seq, (r.body as { actor: string }).actor, eventTypes([r])[0]])).toEqual([
      [1, "session", "actor.started"],
      [2, "connection:c1", "actor.started"],
      [3, "session", E.agentReady],
      [4, "connection:c1", CONNECTION_EVENT.opened],
      [5, "session", E.userMessage],
    ])
  })

  it("refuses an invalid event with its code, does not send it, and writes a note", async () => {
    const { h, actor } = await start()
    const error = await actor.sendAsync({ type: E.agentReady, at: "soon" }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MachineEventError)
    expect((error as MachineEventError).code).toBe("AGH_MACHINE_BAD_EVENT")
    expect(actor.getSnapshot().value).toBe("starting")
    expect(bodies(await h.records())[1]).toEqual({
      type: "note",
      actor: "session",
      code: "AGH_MACHINE_BAD_EVENT",
      message: 'session: event "session.agentReady" is invalid: Expected number at ["at"]',
      data: { type: "session.agentReady" },
    })
  })

  it("refuses events once the machine is final: AGH_MACHINE_ACTOR_DONE, with a note", async () => {
    const { h, actor } = await start()
    await actor.sendAsync({ type: E.killRequested, at: T0 + 1 })
    expect(actor.isDone()).toBe(true)
    const error = await actor
      .sendAsync({ type: E.agentExited, at: T0 + 2, code: null, signal: "SIGKILL" })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MachineRuntimeError)
    expect((error as MachineRuntimeError).code).toBe("AGH_MACHINE_ACTOR_DONE")
    expect((error as MachineRuntimeError).message).toBe(
      'actor session (session) is over (final state killed): event "session.agentExited" was not processed',
    )
    expect(eventTypes(await h.records())).toEqual([
      "actor.started",
      E.killRequested,
      "AGH_MACHINE_ACTOR_DONE",
    ])
  })

  it("refuses an invalid input (AGH_MACHINE_BAD_INPUT) and a second running actor with the same id", async () => {
    const { h } = await start()
    const bad = await h.runtime
      .startAsync(sessionMachineDefinition, { actorId: "other", input: { ...input, createdAt: -5 } })
      .catch((e: unknown) => e)
    expect((bad as MachineEventError).code).toBe("AGH_MACHINE_BAD_INPUT")
    const dup = await h.runtime
      .startAsync(sessionMachineDefinition, { actorId: "session", input })
      .catch((e: unknown) => e)
    expect((dup as MachineRuntimeError).code).toBe("AGH_MACHINE_DUPLICATE_ACTOR")
    expect((dup as MachineRuntimeError).message).toBe("actor session is already running on stream s_test")
  })

  it("runs the caller's effects with the machine's params and the actor, which can talk back", async () => {
    const sent: unknown[] = []
    const { h, actor } = await start({
      spawnAgent: (_params: unknown, self: { post: (e: unknown) => void }) => {
        self.post({ type: E.agentReady, at: T0 + 5, pid: 1234 })
      },
      sendToAgent: (params: unknown) => {
        sent.push(params)
      },
    })
    await h.runtime.flushAsync()
    expect(actor.getSnapshot().value).toEqual({ running: "idle" })
    await actor.sendAsync({ type: E.userMessage, at: T0 + 6, messageId: "m1", content: "go" })
    expect(sent).toEqual([{ messageId: "m1", content: "go" }])
    expect(eventTypes(await h.records())).toEqual(["actor.started", E.agentReady, E.userMessage])
  })

  it("records a failing effect as a note and keeps the machine going", async () => {
    const { h, actor } = await start({
      sendToAgent: () => {
        throw new Error("stdin is closed")
      },
      interruptAgent: () => Promise.reject(new Error("EPIPE")),
    })
    await actor.sendAsync({ type: E.agentReady, at: T0 })
    await actor.sendAsync({ type: E.userMessage, at: T0, messageId: "m1", content: "x" })
    await actor.sendAsync({ type: E.interruptRequested, at: T0 })
    expect(actor.getSnapshot().value).toEqual({ running: "busy" })
    const notes = bodies(await h.records()).filter(
      (b): b is Extract<RecordBody, { type: "note" }> => b.type === "note",
    )
    expect(notes.map((n) => [n.code, n.message])).toEqual([
      ["AGH_MACHINE_EFFECT_FAILED", "effect sendToAgent of actor session failed: stdin is closed"],
      ["AGH_MACHINE_EFFECT_FAILED", "effect interruptAgent of actor session failed: EPIPE"],
    ])
  })

  it("tells subscribers about every logged event, delayed ones included", async () => {
    const { h, actor } = await start()
    const seen: string[] = []
    actor.subscribe((snapshot, event) => seen.push(`${event.type}:${JSON.stringify(snapshot.value)}`))
    await actor.sendAsync({ type: E.agentReady, at: T0 })
    expect(seen).toEqual(['session.agentReady:{"running":"idle"}'])
    expect((actor.getSnapshot().context as SessionContext).agentProcess?.readyAt).toBe(T0)
    void h
  })

  it("stops actors and their timers; sends after stop are refused", async () => {
    const { h, actor } = await start()
    await actor.sendAsync({ type: E.agentReady, at: T0 })
    const timed = await h.runtime.startAsync(sessionMachineDefinition, {
      actorId: "timed",
      input: { ...input, startTimeoutMs: 10 },
    })
    expect(h.clock.pending).toBe(1)
    h.runtime.stopAll()
    expect(h.clock.pending).toBe(0)
    expect(timed.isDone()).toBe(true)
    const error = await actor.sendAsync({ type: E.closeRequested, at: T0 }).catch((e: unknown) => e)
    expect((error as MachineRuntimeError).message).toBe(
      'actor session (session) is stopped: event "session.closeRequested" was not processed',
    )
  })

  it("exposes Effect versions of send and flush", async () => {
    const { actor, h } = await start()
    const record = await Effect.runPromise(actor.send({ type: E.agentReady, at: T0 }))
    expect(record.seq).toBe(2)
    const error = await Effect.runPromise(Effect.flip(actor.send({ type: "session.nope" })))
    expect(error.code).toBe("AGH_MACHINE_UNKNOWN_EVENT")
    await Effect.runPromise(h.runtime.flush)
  })

  it("surfaces a failing log: the send rejects with the log's error and flush reports it once", async () => {
    harness = await runtimeHarness()
    const h = harness
    let fail = false
    const failure = new EventLogError({ reason: "WriteFailed", stream: "s_test", message: "disk full" })
    const flaky: LogWriter = {
      ...h.writer,
      append: (b) => (fail ? Effect.fail(failure) : h.writer.append(b)),
    }
    const errors: EventLogError[] = []
    const runtime = makeMachineRuntime(flaky, { clock: h.clock, onLogError: (e) => errors.push(e) })
    const actor = await runtime.startAsync(sessionMachineDefinition, { actorId: "session", input })
    fail = true
    await expect(actor.sendAsync({ type: E.agentReady, at: T0 })).rejects.toBe(failure)
    expect(errors).toEqual([failure])
    await expect(runtime.flushAsync()).rejects.toBe(failure)
    await runtime.flushAsync()
  })
})

describe("openMachineRuntime", () => {
  it("opens a stream from plain async code and closes it, flushing first", async () => {
    const clock = new ManualClock(T0)
    const { runtime, close } = await openMachineRuntime({
      eventLog: memoryEventLogLayer,
      clock,
      stream: "s_async",
    })
    const actor = await runtime.startAsync(sessionMachineDefinition, { actorId: "session", input })
    actor.post({ type: E.agentReady, at: T0 })
    await close()
    expect(actor.isDone()).toBe(true)
  })

  it("fails with the log's error when the stream cannot be opened", async () => {
    const error = await openMachineRuntime({
      eventLog: memoryEventLogLayer.pipe(Layer.fresh),
      clock: new ManualClock(T0),
      stream: "../escape",
    }).catch((e: unknown) => e)
    expect((error as EventLogError).code).toBe("AGH_LOG_INVALID_STREAM")
  })
})
