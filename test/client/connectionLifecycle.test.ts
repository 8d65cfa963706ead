import { describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { machineConnectionLifecycle, type PhaseChange } from "../../src/client/connectionLifecycle.js"

function setup(maxAttempts = 3) {
  const clock = new ManualClock(1_000)
  const opened: number[] = []
  const phases: PhaseChange[] = []
  const events: Array<[string, unknown]> = []
  const lifecycle = machineConnectionLifecycle((event, snapshot) =>
    events.push([event.type, snapshot.value]),
  )(
    {
      clock,
      connectionId: "c1",
      sessionId: "s1",
      afterSeq: 7,
      policy: { initialDelayMs: 100, maxDelayMs: 250, maxAttempts },
    },
    { openSocket: (after) => opened.push(after), phaseChanged: (c) => phases.push(c) },
  )
  return { clock, opened, phases, events, lifecycle }
}

describe("machineConnectionLifecycle", () => {
  it("starts from the given cursor and reopens from the latest one after the backoff", () => {
    const { clock, opened, phases, events, lifecycle } = setup()
    expect(lifecycle.phase()).toBe("starting")
    lifecycle.start()
    lifecycle.start()
    expect(opened).toEqual([7])
    lifecycle.opened()
    expect(lifecycle.phase()).toBe("open")
    lifecycle.messageReceived(8)
    lifecycle.messageReceived(9)
    lifecycle.messageReceived(8)
    lifecycle.messageReceived()
    expect(lifecycle.lastSeq()).toBe(9)
    lifecycle.dropped("socket closed", 1006)
    expect(phases).toEqual([
      { phase: "open" },
      { phase: "reconnecting", reason: "socket closed (close code 1006)", attempt: 1, delayMs: 100 },
    ])
    clock.advance(99)
    expect(opened).toEqual([7])
    clock.advance(1)
    expect(opened).toEqual([7, 9])
    expect(events.map(([type]) => type)).toEqual([
      "connection.opened",
      "connection.messageReceived",
      "connection.messageReceived",
      "connection.messageReceived",
      "connection.messageReceived",
      "connection.dropped",
    ])
    expect(events.at(-1)?.[1]).toEqual({ running: "reconnecting" })
  })

  it("backs off per attempt, resets after an open, and fails after the last attempt", () => {
    const { clock, opened, phases, lifecycle } = setup(2)
    lifecycle.start()
    lifecycle.dropped("refused")
    clock.advance(100)
    lifecycle.dropped("refused")
    expect(phases.at(-1)?.delayMs).toBe(200)
    clock.advance(200)
    lifecycle.opened()
    lifecycle.dropped("reset")
    expect(phases.at(-1)?.delayMs).toBe(100)
    clock.advance(100)
    lifecycle.dropped("refused")
    expect(phases.at(-1)?.delayMs).toBe(200)
    clock.advance(200)
    lifecycle.dropped("refused")
    expect(phases.at(-1)).toEqual({
      phase: "failed",
      exhausted: true,
      reason: "gave up after 2 reconnect attempt(s); last drop: refused",
    })
    expect(lifecycle.phase()).toBe("failed")
    expect(clock.pending).toBe(0)
    expect(opened).toEqual([7, 7, 7, 7, 7])
  })

  it("stays final: no reopen after authFailed or closeRequested, even with a timer armed", () => {
    const a = setup()
    a.lifecycle.start()
    a.lifecycle.dropped("x")
    a.lifecycle.closeRequested("bye")
    a.clock.advance(10_000)
    expect(a.opened).toEqual([7])
    expect(a.lifecycle.phase()).toBe("completed")
    expect(a.phases.at(-1)).toEqual({ phase: "completed", reason: "bye" })
    a.lifecycle.opened()
    a.lifecycle.dropped("late")
    expect(a.lifecycle.phase()).toBe("completed")

    const b = setup()
    b.lifecycle.start()
    b.lifecycle.authFailed("401")
    b.lifecycle.dropped("late")
    expect(b.phases).toEqual([{ phase: "failed", reason: "authentication failed: 401" }])
  })
})
