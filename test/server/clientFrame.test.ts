import { describe, expect, it } from "vitest"
import { parseClientFrame } from "../../src/server/clientFrame.js"

const parse = (value: unknown) =>
  parseClientFrame(typeof value === "string" ? value : JSON.stringify(value), "s_1")

describe("parseClientFrame", () => {
  it("accepts the four client frame types", () => {
    const user = {
      type: "user",
      message: { role: "user", content: [{ type: "text", text: "hi" }] },
      parent_tool_use_id: null,
      session_id: "",
    }
    expect(parse(user)).toEqual({ kind: "user", message: user })
    expect(
      parse({
        type: "control_response",
        response: {
          subtype: "success",
          request_id: "r1",
          response: { behavior: "deny", message: "no", interrupt: true },
        },
      }),
    ).toEqual({
      kind: "permission",
      requestId: "r1",
      answer: { behavior: "deny", message: "no", interrupt: true },
    })
    expect(parse({ type: "control_request", request_id: "i1", request: { subtype: "interrupt" } })).toEqual({
      kind: "interrupt",
      requestId: "i1",
    })
    expect(parse({ type: "control_request", request_id: "i2", request: { subtype: "mcp_status" } })).toEqual({
      kind: "unsupportedControl",
      requestId: "i2",
      subtype: "mcp_status",
    })
    expect(parse({ type: "keep_alive" })).toEqual({ kind: "keepAlive" })
  })

  it("keeps fields of an allow answer that the schema does not list", () => {
    const answer = {
      behavior: "allow",
      updatedInput: { command: "ls" },
      updatedPermissions: [{ type: "setMode" }],
      toolUseID: "t",
    }
    expect(
      parse({
        type: "control_response",
        response: { subtype: "success", request_id: "r", response: answer },
      }),
    ).toEqual({
      kind: "permission",
      requestId: "r",
      answer,
    })
  })

  it("reports each kind of bad frame with its code and a message naming the field", () => {
    expect(parse("{")).toEqual({
      kind: "error",
      code: "AGH_WS_NOT_JSON",
      message: expect.stringMatching(/^frame is not JSON: /),
    })
    expect(parse("null")).toEqual({
      kind: "error",
      code: "AGH_WS_BAD_SHAPE",
      message: "frame must be a JSON object, got null",
    })
    expect(parse({ type: "nope" })).toEqual({
      kind: "error",
      code: "AGH_WS_UNKNOWN_TYPE",
      message:
        'unknown frame type "nope"; a client may send user, control_response, control_request, keep_alive',
    })
    expect(parse({ type: "user", message: { role: "user", content: 3 } })).toEqual({
      kind: "error",
      code: "AGH_WS_BAD_SHAPE",
      message: 'bad user frame: field "message.content": Expected string | array, got 3',
    })
    expect(
      parse({
        type: "control_response",
        response: { subtype: "success", request_id: "r", response: { behavior: "deny" } },
      }),
    ).toMatchObject({
      code: "AGH_WS_BAD_SHAPE",
      message: expect.stringContaining('field "response.response'),
    })
  })
})
