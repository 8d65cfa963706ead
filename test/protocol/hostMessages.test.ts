import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeAgentLine } from "../../src/protocol/decodeMessage.js"
import {
  allowResponse,
  controlCancelRequest,
  controlError,
  controlSuccess,
  denyResponse,
  initializeRequest,
  interruptRequest,
  keepAlive,
  setPermissionModeRequest,
  userMessage,
} from "../../src/protocol/hostMessages.js"
import { encodeNdjsonLine } from "../../src/protocol/ndjson.js"

/** Encodes like the host does and decodes like the agent does. */
const roundTrip = (value: object) => Result.getOrThrow(decodeAgentLine(encodeNdjsonLine(value).slice(0, -1)))

describe("host message constructors", () => {
  it("build the exact shapes the Claude Code CLI reads, and decode to their kinds", () => {
    const cases: ReadonlyArray<readonly [object, string, unknown]> = [
      [
        userMessage("hi"),
        "user",
        { type: "user", message: { role: "user", content: "hi" }, parent_tool_use_id: null, session_id: "" },
      ],
      [
        userMessage([{ type: "text", text: "a" }], { sessionId: "s1", uuid: "u1" }),
        "user",
        {
          type: "user",
          message: { role: "user", content: [{ type: "text", text: "a" }] },
          parent_tool_use_id: null,
          session_id: "s1",
          uuid: "u1",
        },
      ],
      [
        allowResponse("p1"),
        "control_response",
        {
          type: "control_response",
          response: { subtype: "success", request_id: "p1", response: { behavior: "allow" } },
        },
      ],
      [
        allowResponse("p1", { command: "ls" }),
        "control_response",
        {
          type: "control_response",
          response: {
            subtype: "success",
            request_id: "p1",
            response: { behavior: "allow", updatedInput: { command: "ls" } },
          },
        },
      ],
      [
        denyResponse("p2", "no", { interrupt: true }),
        "control_response",
        {
          type: "control_response",
          response: {
            subtype: "success",
            request_id: "p2",
            response: { behavior: "deny", message: "no", interrupt: true },
          },
        },
      ],
      [
        controlSuccess("r"),
        "control_response",
        { type: "control_response", response: { subtype: "success", request_id: "r" } },
      ],
      [
        controlError("r", "Unsupported control request subtype: x", "unsupported_request"),
        "control_response",
        {
          type: "control_response",
          response: {
            subtype: "error",
            request_id: "r",
            error: "Unsupported control request subtype: x",
            error_code: "unsupported_request",
          },
        },
      ],
      [
        interruptRequest("i1"),
        "control_request/interrupt",
        { type: "control_request", request_id: "i1", request: { subtype: "interrupt" } },
      ],
      [
        initializeRequest("R1", { systemPrompt: [""] }),
        "control_request/initialize",
        { type: "control_request", request_id: "R1", request: { systemPrompt: [""], subtype: "initialize" } },
      ],
      [
        setPermissionModeRequest("m1", "bypassPermissions"),
        "control_request/set_permission_mode",
        {
          type: "control_request",
          request_id: "m1",
          request: { subtype: "set_permission_mode", mode: "bypassPermissions" },
        },
      ],
      [
        controlCancelRequest("p1"),
        "control_cancel_request",
        { type: "control_cancel_request", request_id: "p1" },
      ],
      [keepAlive(), "keep_alive", { type: "keep_alive" }],
    ]
    for (const [value, kind, expected] of cases) {
      expect(value).toEqual(expected)
      const decoded = roundTrip(value)
      expect(decoded.kind).toBe(kind)
      expect(decoded.message).toEqual(expected)
    }
  })

  it("initializeRequest cannot be turned into another subtype by its fields", () => {
    expect(initializeRequest("R", { subtype: "interrupt" }).request.subtype).toBe("initialize")
  })
})
