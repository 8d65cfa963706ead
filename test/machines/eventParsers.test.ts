import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseConnectionEvent, parseConnectionInput } from "../../src/machines/connectionEventSchema.js"
import { parseCronTaskEvent, parseCronTaskInput } from "../../src/machines/cronTaskEventSchema.js"
import { MachineEventError } from "../../src/machines/machineEventError.js"
import { parseSessionEvent, parseSessionInput } from "../../src/machines/sessionEventSchema.js"

function failure<T>(result: Result.Result<T, MachineEventError>): MachineEventError {
  if (Result.isSuccess(result)) throw new Error(`expected a failure, got ${JSON.stringify(result.success)}`)
  return result.failure
}

describe("machine event parsers", () => {
  it("returns the decoded event, dropping unknown keys but keeping SDK messages whole", () => {
    const parsed = parseSessionEvent({
      type: "session.agentMessage",
      at: 1,
      message: { type: "assistant", message: { content: [] }, uuid: "u1" },
      bogus: true,
    })
    expect(Result.getOrThrow(parsed)).toEqual({
      type: "session.agentMessage",
      at: 1,
      message: { type: "assistant", message: { content: [] }, uuid: "u1" },
    })
  })

  it("names the field of a bad event: AGH_MACHINE_BAD_EVENT", () => {
    const error = failure(parseSessionEvent({ type: "session.agentExited", at: 3, code: "1", signal: null }))
    expect(error).toBeInstanceOf(MachineEventError)
    expect(error.code).toBe("AGH_MACHINE_BAD_EVENT")
    expect(error.eventType).toBe("session.agentExited")
    expect(error.message).toBe(
      'session: event "session.agentExited" is invalid: Expected number | null at ["code"]',
    )
  })

  it("rejects negative times and empty ids", () => {
    expect(failure(parseSessionEvent({ type: "session.killRequested", at: -1 })).message).toBe(
      'session: event "session.killRequested" is invalid: Expected a value greater than or equal to 0 at ["at"]',
    )
    expect(
      failure(parseSessionEvent({ type: "session.userMessage", at: 1, messageId: "", content: "x" })).message,
    ).toBe(
      'session: event "session.userMessage" is invalid: Expected a value with a length of at least 1 at ["messageId"]',
    )
  })

  it("rejects an optional field present as undefined (the log could not tell it from null)", () => {
    expect(failure(parseSessionEvent({ type: "session.agentReady", at: 1, pid: undefined })).code).toBe(
      "AGH_MACHINE_BAD_EVENT",
    )
  })

  it("refuses a __proto__ key anywhere in an SDK message: the log could not hold it", () => {
    const message = JSON.parse('{"type":"assistant","message":{"content":[{"__proto__":{"polluted":true}}]}}')
    expect(failure(parseSessionEvent({ type: "session.agentMessage", at: 1, message })).message).toBe(
      'session: event "session.agentMessage" is invalid: a "__proto__" key cannot be logged at ["message"]["message"]["content"][0]["__proto__"]',
    )
  })

  it("lists the known types for an unknown one: AGH_MACHINE_UNKNOWN_EVENT", () => {
    const error = failure(parseConnectionEvent({ type: "connection.teleported", at: 1 }))
    expect(error.code).toBe("AGH_MACHINE_UNKNOWN_EVENT")
    expect(error.message).toBe(
      'connection: unknown event type "connection.teleported" (known: connection.opened, connection.authFailed, connection.messageReceived, connection.badFrame, connection.dropped, connection.retryDue, connection.reconnected, connection.closeRequested, connection.kill)',
    )
  })

  it("refuses values that are not events at all", () => {
    for (const value of [null, 7, "session.agentReady", [], { at: 1 }]) {
      const error = failure(parseCronTaskEvent(value))
      expect(error.code).toBe("AGH_MACHINE_BAD_EVENT")
      expect(error.message).toMatch(/^cronTask: an event must be an object with a string "type", got /)
    }
  })

  it("validates inputs: AGH_MACHINE_BAD_INPUT naming the field", () => {
    const session = failure(parseSessionInput({ sessionId: "s", agent: "a", workDir: "/w" }))
    expect(session.code).toBe("AGH_MACHINE_BAD_INPUT")
    expect(session.message).toBe('session: machine input is invalid: Missing key at ["createdAt"]')
    const cron = failure(
      parseCronTaskInput({
        task: { id: "XYZ", cron: "* * * * *", prompt: "p", createdAt: 0 },
        jitter: {
          recurringFrac: 0.1,
          recurringCapMs: 0,
          oneShotMaxMs: 0,
          oneShotFloorMs: 0,
          oneShotMinuteMod: 30,
          recurringMaxAgeMs: 0,
        },
      }),
    )
    expect(cron.message).toBe(
      'cronTask: machine input is invalid: Expected a string matching the RegExp ^[0-9a-f]{8}$ at ["task"]["id"]',
    )
    expect(Result.isSuccess(parseConnectionInput({ connectionId: "c1", side: "host" }))).toBe(true)
    expect(failure(parseConnectionInput({ connectionId: "c1", side: "server" })).code).toBe(
      "AGH_MACHINE_BAD_INPUT",
    )
  })
})
