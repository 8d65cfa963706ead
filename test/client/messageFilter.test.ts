import { describe, expect, it } from "vitest"
import type { SdkMessage } from "../../src/client/clientMessages.js"
import { classifyIncoming, isForwardedMessage } from "../../src/client/messageFilter.js"

describe("classifyIncoming", () => {
  it.each<[string, SdkMessage]>([
    ["control_response", { type: "control_response", response: { subtype: "success", request_id: "r" } }],
    ["keep_alive", { type: "keep_alive" }],
    ["streamlined_text", { type: "streamlined_text", text: "x" }],
    ["streamlined_tool_use_summary", { type: "streamlined_tool_use_summary" }],
    ["system/post_turn_summary", { type: "system", subtype: "post_turn_summary" }],
    [
      "a control_request that is not can_use_tool",
      { type: "control_request", request_id: "r", request: { subtype: "initialize" } },
    ],
  ])("hides %s", (_name, message) => {
    expect(classifyIncoming(message)).toEqual({ kind: "hidden" })
    expect(isForwardedMessage(message)).toBe(false)
  })

  it.each<[string, SdkMessage]>([
    ["system/init", { type: "system", subtype: "init" }],
    ["system/status", { type: "system", subtype: "status" }],
    ["assistant", { type: "assistant", message: {} }],
    ["user", { type: "user", message: {} }],
    ["result", { type: "result", subtype: "success" }],
    ["an unknown type", { type: "prompt_suggestion" }],
  ])("forwards %s", (_name, message) => {
    expect(classifyIncoming(message)).toEqual({ kind: "message" })
    expect(isForwardedMessage(message)).toBe(true)
  })

  it("routes can_use_tool to the permission callback with its request", () => {
    const message = {
      type: "control_request",
      request_id: "p1",
      request: { subtype: "can_use_tool", tool_name: "Bash", input: { command: "ls" }, tool_use_id: "t1" },
    }
    expect(classifyIncoming(message)).toEqual({
      kind: "permission",
      requestId: "p1",
      request: { subtype: "can_use_tool", tool_name: "Bash", input: { command: "ls" }, tool_use_id: "t1" },
    })
    // A request without an object input still reaches the callback, with an empty input.
    const bare = {
      type: "control_request",
      request_id: "p2",
      request: { subtype: "can_use_tool", tool_name: "X" },
    }
    expect(classifyIncoming(bare)).toMatchObject({ kind: "permission", request: { input: {} } })
  })

  it("recognizes cancellations and host error frames, and hides malformed ones", () => {
    expect(classifyIncoming({ type: "control_cancel_request", request_id: "p1" })).toEqual({
      kind: "cancel",
      requestId: "p1",
    })
    expect(classifyIncoming({ type: "control_cancel_request" })).toEqual({ kind: "hidden" })
    expect(classifyIncoming({ type: "error", error: { code: "AGH_WS_NOT_JSON", message: "bad" } })).toEqual({
      kind: "hostError",
      code: "AGH_WS_NOT_JSON",
      message: "bad",
    })
    expect(classifyIncoming({ type: "control_request", request: { subtype: "can_use_tool" } })).toEqual({
      kind: "hidden",
    })
  })
})
