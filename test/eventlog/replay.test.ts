import { Effect, Result, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { Clock } from "../../src/adapters/clock.js"
import { EventLog } from "../../src/eventlog/eventLog.js"
import type { EventBody, LogRecord } from "../../src/eventlog/logRecord.js"
import {
  assertLogReplays,
  replayLog,
  replayStream,
  verifyEventLogStream,
  verifyLog,
} from "../../src/eventlog/replay.js"
import { ReplayError } from "../../src/eventlog/replayError.js"
import { formatStateValue, formatTimelineLine, timelineEntryJson } from "../../src/eventlog/replayTimeline.js"
import { CONNECTION_EVENT } from "../../src/machines/connectionMachine.js"
import { CRON_TASK_EVENT } from "../../src/machines/cronTaskMachine.js"
import {
  connectionMachineDefinition,
  cronTaskMachineDefinition,
  sessionMachineDefinition,
} from "../../src/machines/machineRegistry.js"
import { SESSION_EVENT as E } from "../../src/machines/sessionMachine.js"
import { type RuntimeHarness, runtimeHarness } from "../effects/runtimeHarness.js"

const T0 = Date.parse("2026-01-02T03:04:05.000Z")

let harness: RuntimeHarness | undefined
afterEach(async () => {
  await harness?.close()
  harness = undefined
})

/** A session with a connection and a cron task on one stream, delayed events of each included. */
async function recordScenario(): Promise<ReadonlyArray<LogRecord>> {
  harness = await runtimeHarness("s_replay")
  const { runtime, clock } = harness
  clock.jumpTo(T0)
  const session = await runtime.startAsync(sessionMachineDefinition, {
    actorId: "session",
    input: {
      sessionId: "s_replay",
      agent: "builtin",
      workDir: "/w",
      createdAt: T0,
      permissionTimeoutMs: 500,
    },
  })
  const conn = await runtime.startAsync(connectionMachineDefinition, {
    actorId: "connection:c1",
    input: {
      connectionId: "c1",
      side: "client",
      reconnect: { initialDelayMs: 100, maxDelayMs: 100, maxAttempts: 2 },
    },
  })
  const cron = await runtime.startAsync(cronTaskMachineDefinition, {
    actorId: "cronTask:0a1b2c3d",
    input: {
      task: { id: "0a1b2c3d", cron: "* * * * *", prompt: "p", createdAt: T0, recurring: true },
      jitter: {
        recurringFrac: 0.1,
        recurringCapMs: 0,
        oneShotMaxMs: 0,
        oneShotFloorMs: 0,
        oneShotMinuteMod: 30,
        recurringMaxAgeMs: 3_600_000,
      },
    },
  })
  session.post({ type: E.agentReady, at: T0 + 1, pid: 4 })
  session.post({ type: E.userMessage, at: T0 + 2, messageId: "m1", content: "$ ls" })
  session.post({ type: E.permissionRequested, at: T0 + 3, requestId: "r1", toolName: "Bash" })
  conn.post({ type: CONNECTION_EVENT.opened, at: T0 + 3 })
  conn.post({ type: CONNECTION_EVENT.messageReceived, at: T0 + 4, seq: 3 })
  conn.post({ type: CONNECTION_EVENT.dropped, at: T0 + 5 })
  cron.post({ type: CRON_TASK_EVENT.scheduled, at: T0, fireAt: T0 + 300 })
  session.post({ type: "session.bogus" })
  // Records are stamped when appended: flush between steps so each delayed event carries its own time.
  for (const step of [100, 200, 200, 100]) {
    await runtime.flushAsync()
    clock.advance(step)
  }
  conn.post({ type: CONNECTION_EVENT.reconnected, at: clock.now() })
  session.post({
    type: E.turnCompleted,
    at: clock.now(),
    result: { type: "result", subtype: "success", is_error: false },
  })
  return harness.records()
}

const replace = (records: ReadonlyArray<LogRecord>, seq: number, f: (r: LogRecord) => LogRecord) =>
  records.map((r) => (r.seq === seq ? f(r) : r))

const eventRecord = (records: ReadonlyArray<LogRecord>, type: string): LogRecord<EventBody> => {
  const found = records.find((r) => r.body.type === "event" && r.body.event.type === type)
  if (found === undefined) throw new Error(`no ${type} record`)
  return found as LogRecord<EventBody>
}

describe("replayLog", () => {
  it("confirms every record of a live run, delayed events included, and shows before → after", async () => {
    const records = await recordScenario()
    const entries = [...replayLog(records)]
    expect(entries.map((e) => e.status)).toEqual(entries.map((e) => (e.kind === "note" ? "note" : "ok")))
    const types = entries.map((e) => e.type)
    expect(types).toContain(E.permissionTimedOut)
    expect(types).toContain(CONNECTION_EVENT.retryDue)
    expect(types).toContain(CRON_TASK_EVENT.fired)
    const timedOut = entries.find((e) => e.type === E.permissionTimedOut)
    expect(timedOut).toMatchObject({
      actor: "session",
      machine: "session",
      before: { running: "awaiting_permission" },
      after: { running: "busy" },
      at: T0 + 500,
    })
    const note = entries.find((e) => e.kind === "note")
    expect(note).toMatchObject({ type: "AGH_MACHINE_UNKNOWN_EVENT", actor: "session", status: "note" })
    const summary = Result.getOrThrow(verifyLog(records))
    expect(summary).toEqual({ records: records.length, events: records.length - 4, actors: 3, notes: 1 })
  })

  it("reports the first record whose state differs, names expected and got, and follows the log after it", async () => {
    const records = await recordScenario()
    const target = eventRecord(records, E.userMessage)
    const tampered = replace(records, target.seq, (r) => ({
      ...r,
      body: { ...(r.body as EventBody), state: { running: "idle" } },
    }))
    const entries = [...replayLog(tampered)]
    const bad = entries.find((e) => e.status === "diverged")
    expect(bad?.seq).toBe(target.seq)
    expect(bad?.issue?.code).toBe("AGH_REPLAY_DIVERGED")
    expect(bad?.issue?.expected).toEqual({ state: { running: "idle" }, digest: target.body.digest })
    expect(bad?.issue?.got).toEqual({ state: { running: "busy" }, digest: target.body.digest })
    expect(bad?.issue?.message).toBe(
      `record ${target.seq} (actor session, event session.userMessage) diverged: expected state running.idle digest ${target.body.digest}, got state running.busy digest ${target.body.digest}`,
    )
    const later = entries.filter((e) => e.actor === "session" && e.seq > target.seq && e.kind === "event")
    expect(later.length).toBeGreaterThan(0)
    expect(later.every((e) => e.status === "unverified")).toBe(true)
    const others = entries.filter((e) => e.actor !== "session" && e.kind !== "note")
    expect(others.every((e) => e.status === "ok")).toBe(true)
    const error = verifyLog(tampered)
    expect(Result.isFailure(error) && error.failure.seq).toBe(target.seq)
  })

  it("catches a changed event through the context digest", async () => {
    const records = await recordScenario()
    const target = eventRecord(records, E.agentReady)
    const tampered = replace(records, target.seq, (r) => {
      const body = r.body as EventBody
      return { ...r, body: { ...body, event: { ...body.event, pid: 5 } } }
    })
    const error = verifyLog(tampered)
    if (Result.isSuccess(error)) throw new Error("expected a divergence")
    expect(error.failure).toBeInstanceOf(ReplayError)
    expect(error.failure.seq).toBe(target.seq)
    expect(error.failure.expected?.state).toEqual(error.failure.got?.state)
    expect(error.failure.expected?.digest).not.toBe(error.failure.got?.digest)
  })

  it("reports a record whose event makes the machine throw as a divergence, not a crash", async () => {
    const records = await recordScenario()
    const target = eventRecord(records, E.turnCompleted)
    const tampered = replace(records, target.seq, (r) => {
      const body = r.body as EventBody
      return { ...r, body: { ...body, event: { type: E.turnCompleted, at: 1 } } }
    })
    const bad = [...replayLog(tampered)].find((e) => e.status === "diverged")
    expect(bad?.seq).toBe(target.seq)
    expect(bad?.issue?.got?.digest).toMatch(/^threw: /)
  })

  it("does not compare actors logged by another machine version, and says so once", async () => {
    const records = await recordScenario()
    const started = records.find((r) => r.body.type === "actor.started" && r.body.actor === "connection:c1")
    if (started === undefined) throw new Error("no start")
    const tampered = replace(records, started.seq, (r) => ({
      ...r,
      body: { ...r.body, machineVersion: 99 } as never,
    }))
    const entries = [...replayLog(tampered)]
    const conn = entries.filter((e) => e.actor === "connection:c1")
    expect(conn.every((e) => e.status === "unverified")).toBe(true)
    expect(conn[0]?.issue?.code).toBe("AGH_REPLAY_VERSION_MISMATCH")
    expect(conn[0]?.issue?.message).toBe(
      `record ${started.seq}: actor connection:c1 was logged by connection machine version 99, this build has version 1; its records are shown as logged, not verified`,
    )
    expect(conn.slice(1).every((e) => e.issue === undefined)).toBe(true)
    expect(conn[1]?.after).toEqual({ running: "open" })
    const result = verifyLog(tampered)
    expect(Result.isFailure(result) && result.failure.code).toBe("AGH_REPLAY_VERSION_MISMATCH")
  })

  it("reports machines it does not know and events of actors that never started", async () => {
    const records = await recordScenario()
    const unknown = [...replayLog(records, [sessionMachineDefinition])]
    const cron = unknown.find((e) => e.actor === "cronTask:0a1b2c3d")
    expect(cron?.issue?.code).toBe("AGH_REPLAY_UNKNOWN_MACHINE")
    expect(cron?.issue?.message).toMatch(
      /runs machine "cronTask", which this build does not know \(known: session\)/,
    )
    const orphan = [
      ...replayLog(records.filter((r) => !(r.body.type === "actor.started" && r.body.actor === "session"))),
    ]
    const first = orphan.find((e) => e.actor === "session")
    expect(first?.issue?.code).toBe("AGH_REPLAY_UNKNOWN_ACTOR")
  })

  it("assertLogReplays returns the summary, or throws the first ReplayError", async () => {
    const records = await recordScenario()
    expect(assertLogReplays(records).actors).toBe(3)
    const broken = records.filter((r) => r.seq !== 1)
    expect(() => assertLogReplays(broken)).toThrow(ReplayError)
  })

  it("streams: replayStream and verifyEventLogStream over the memory log", async () => {
    const records = await recordScenario()
    const h = harness as RuntimeHarness
    const entries = await Effect.runPromise(Stream.runCollect(replayStream(h.log.read(h.stream))))
    expect(entries).toHaveLength(records.length)
    const summary = await Effect.runPromise(
      verifyEventLogStream(h.stream).pipe(
        Effect.provideService(EventLog, h.log),
        Effect.provideService(Clock, h.clock),
      ),
    )
    expect(summary.records).toBe(records.length)
  })
})

describe("replay timeline formatting", () => {
  it("prints ISO time, seq, actor, type and before → after", async () => {
    const records = await recordScenario()
    const lines = [...replayLog(records)].map(formatTimelineLine)
    expect(lines[0]).toBe("2026-01-02T03:04:05.000Z  #1  session  actor.started  → starting")
    expect(lines).toContain(
      "2026-01-02T03:04:05.000Z  #4  session  session.agentReady  starting → running.idle",
    )
    expect(lines.find((l) => l.includes("AGH_MACHINE_UNKNOWN_EVENT"))).toMatch(
      /^2026-01-02T03:04:05\.000Z {2}#\d+ {2}session {2}AGH_MACHINE_UNKNOWN_EVENT {2}session: unknown event type "session\.bogus"/,
    )
  })

  it("marks entries replay could not confirm", async () => {
    const records = await recordScenario()
    const target = eventRecord(records, E.agentReady)
    const tampered = replace(records, target.seq, (r) => ({
      ...r,
      body: { ...(r.body as EventBody), digest: "00000000" },
    }))
    const entry = [...replayLog(tampered)].find((e) => e.seq === target.seq)
    if (entry === undefined) throw new Error("missing")
    expect(formatTimelineLine(entry)).toBe(
      `2026-01-02T03:04:05.000Z  #${target.seq}  session  session.agentReady  starting → running.idle  [diverged: AGH_REPLAY_DIVERGED]`,
    )
    expect(timelineEntryJson(entry)).toMatchObject({
      seq: target.seq,
      time: "2026-01-02T03:04:05.000Z",
      actor: "session",
      kind: "event",
      type: "session.agentReady",
      before: "starting",
      after: { running: "idle" },
      status: "diverged",
      issue: { code: "AGH_REPLAY_DIVERGED", expected: { state: { running: "idle" }, digest: "00000000" } },
    })
  })

  it("formats state values", () => {
    expect(formatStateValue("starting")).toBe("starting")
    expect(formatStateValue({ running: "idle" })).toBe("running.idle")
    expect(formatStateValue({ a: { b: "c" } })).toBe("a.b.c")
    expect(formatStateValue({ left: "x", right: { y: "z" } })).toBe("{left.x, right.y.z}")
    expect(formatStateValue(null)).toBe("?")
  })
})
