import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import {
  type ConnectionContext,
  type ConnectionInput,
  CONNECTION_EVENT as E,
} from "../../src/machines/connectionMachine.js"
import { connectionMachineDefinition } from "../../src/machines/machineRegistry.js"
import { runMachine } from "./machineHarness.js"

const T0 = 5_000

function connection(input: Partial<ConnectionInput> = {}) {
  const h = runMachine(
    connectionMachineDefinition,
    { connectionId: "c1", side: "client", sessionId: "s_1", ...input },
    new ManualClock(T0),
  )
  return { ...h, ctx: () => h.snapshot().context as ConnectionContext }
}

function open(input: Partial<ConnectionInput> = {}) {
  const c = connection(input)
  c.send({ type: E.opened, at: T0 + 1 })
  return c
}

const policy = { initialDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 3 }

describe("connectionMachine", () => {
  it("opens the socket from the cursor it was given, then is open", () => {
    const c = connection({ afterSeq: 41 })
    expect(c.state()).toBe("starting")
    expect(c.callsOf("openSocket")).toEqual([{ afterSeq: 41, attempt: 0 }])
    c.send({ type: E.opened, at: T0 + 1 })
    expect(c.state()).toEqual({ running: "open" })
    expect(c.ctx().openedAt).toBe(T0 + 1)
  })

  it("fails when authentication is refused", () => {
    const c = connection()
    c.send({ type: E.authFailed, at: T0 + 2, message: "401 bad token" })
    expect(c.state()).toBe("failed")
    expect(c.ctx().endReason).toEqual({
      kind: "authFailed",
      message: "authentication failed: 401 bad token",
      at: T0 + 2,
    })
  })

  it("moves the cursor on history messages and counts the ones seen before as duplicates", () => {
    const c = open({ afterSeq: 10 })
    c.send({ type: E.messageReceived, at: T0 + 2, seq: 11 })
    c.send({ type: E.messageReceived, at: T0 + 3, seq: 12 })
    c.send({ type: E.messageReceived, at: T0 + 4, seq: 12 })
    c.send({ type: E.messageReceived, at: T0 + 5 })
    expect(c.ctx()).toMatchObject({ lastSeq: 12, messagesReceived: 4, duplicates: 1 })
  })

  it("tolerates maxBadFrames bad frames, then kills the connection with a policy close", () => {
    const c = open({ maxBadFrames: 2 })
    c.send({ type: E.badFrame, at: T0 + 2, code: "AGH_WS_NOT_JSON", message: "frame 1 is not JSON" })
    c.send({ type: E.badFrame, at: T0 + 3, code: "AGH_WS_NOT_JSON", message: "frame 2 is not JSON" })
    expect(c.state()).toEqual({ running: "open" })
    c.send({ type: E.badFrame, at: T0 + 4, code: "AGH_WS_BAD_SHAPE", message: "frame 3" })
    expect(c.state()).toBe("killed")
    expect(c.callsOf("closeSocket")).toEqual([{ code: 1008, reason: "too many bad frames" }])
    expect(c.ctx().endReason).toEqual({
      kind: "badFrames",
      message: "disconnected after 3 bad frames (limit 2); last: AGH_WS_BAD_SHAPE",
      at: T0 + 4,
    })
  })

  it("client side: reconnects with exponential back-off on the injected clock, from the cursor", () => {
    const c = open({ reconnect: policy })
    c.send({ type: E.messageReceived, at: T0 + 2, seq: 7 })
    c.send({ type: E.dropped, at: T0 + 10, code: 1006 })
    expect(c.state()).toEqual({ running: "reconnecting" })
    expect(c.ctx().attempt).toBe(1)
    c.clock.advance(99)
    expect(c.callsOf("openSocket")).toHaveLength(1)
    c.clock.advance(1)
    expect(c.callsOf("openSocket")).toEqual([
      { afterSeq: 0, attempt: 0 },
      { afterSeq: 7, attempt: 1 },
    ])
    c.send({ type: E.dropped, at: T0 + 120, reason: "ECONNREFUSED" })
    expect(c.ctx().attempt).toBe(2)
    c.clock.advance(199)
    expect(c.callsOf("openSocket")).toHaveLength(2)
    c.clock.advance(1)
    expect(c.callsOf("openSocket")[2]).toEqual({ afterSeq: 7, attempt: 2 })
    c.send({ type: E.reconnected, at: T0 + 400 })
    expect(c.state()).toEqual({ running: "open" })
    expect(c.ctx()).toMatchObject({ attempt: 0, reconnects: 1, lastSeq: 7 })
  })

  it("caps the back-off at maxDelayMs", () => {
    const c = open({ reconnect: { initialDelayMs: 400, maxDelayMs: 1_000, maxAttempts: 5 } })
    c.send({ type: E.dropped, at: T0 + 1 })
    c.send({ type: E.dropped, at: T0 + 2 })
    c.send({ type: E.dropped, at: T0 + 3 })
    expect(c.ctx().attempt).toBe(3)
    c.clock.advance(999)
    expect(c.callsOf("openSocket")).toHaveLength(1)
    c.clock.advance(1)
    expect(c.callsOf("openSocket")).toHaveLength(2)
  })

  it("client side: gives up after maxAttempts drops in a row", () => {
    const c = open({ reconnect: policy })
    for (let i = 0; i < 3; i++) c.send({ type: E.dropped, at: T0 + 10 + i })
    expect(c.state()).toEqual({ running: "reconnecting" })
    c.send({ type: E.dropped, at: T0 + 20, code: 1006, reason: "gone" })
    expect(c.state()).toBe("failed")
    expect(c.ctx().endReason).toEqual({
      kind: "gaveUp",
      message: "gave up after 3 reconnect attempt(s); last drop: code 1006, gone",
      at: T0 + 20,
    })
    expect(c.clock.pending).toBe(0)
  })

  it("client side: a first connect that fails is retried too", () => {
    const c = connection({ reconnect: policy })
    c.send({ type: E.dropped, at: T0 + 1, reason: "ECONNREFUSED" })
    expect(c.state()).toEqual({ running: "reconnecting" })
    c.clock.advance(100)
    c.send({ type: E.opened, at: T0 + 101 })
    expect(c.state()).toEqual({ running: "open" })
  })

  it("host side: a drop is the peer leaving, a normal end", () => {
    const c = open({ side: "host" })
    c.send({ type: E.dropped, at: T0 + 9, code: 1001, reason: "going away" })
    expect(c.state()).toBe("completed")
    expect(c.ctx().endReason).toEqual({
      kind: "peerClosed",
      message: "the peer went away (code 1001, going away)",
      at: T0 + 9,
    })
  })

  it("completes on closeRequested and is killed on kill, closing the socket each time", () => {
    const closed = open()
    closed.send({ type: E.closeRequested, at: T0 + 3, reason: "user quit" })
    expect(closed.state()).toBe("completed")
    expect(closed.callsOf("closeSocket")).toEqual([{ code: 1000, reason: "user quit" }])
    const killed = open({ reconnect: policy })
    killed.send({ type: E.dropped, at: T0 + 2 })
    killed.send({ type: E.kill, at: T0 + 3 })
    expect(killed.state()).toBe("killed")
    expect(killed.callsOf("closeSocket")).toEqual([{ code: 1001, reason: "killed" }])
    expect(killed.clock.pending).toBe(0)
  })
})
