import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  type DecodedMessage,
  decodeAgentLine,
  decodeMessage,
  decodePermissionResult,
  formatPath,
} from "../../src/protocol/decodeMessage.js"
import type { ProtocolError } from "../../src/protocol/protocolError.js"

const ok = (r: Result.Result<DecodedMessage, ProtocolError>): DecodedMessage => {
  if (Result.isFailure(r)) throw new Error(`expected success, got ${r.failure.code}: ${r.failure.message}`)
  return r.success
}

const fail = <A>(r: Result.Result<A, ProtocolError>): ProtocolError => {
  if (Result.isSuccess(r)) throw new Error(`expected failure, got ${JSON.stringify(r.success)}`)
  return r.failure
}

describe("decodeAgentLine: kinds", () => {
  const cases: ReadonlyArray<readonly [string, DecodedMessage["kind"]]> = [
    [
      '{"type":"user","message":{"role":"user","content":"hi"},"parent_tool_use_id":null,"session_id":""}',
      "user",
    ],
    [
      '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]}}',
      "user",
    ],
    ['{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"x"}]}}', "assistant"],
    ['{"type":"result","subtype":"success","is_error":false,"session_id":"s","result":"ok"}', "result"],
    ['{"type":"system","subtype":"init","session_id":"s","tools":["Bash"]}', "system/init"],
    ['{"type":"system","subtype":"status","status":null}', "system"],
    [
      '{"type":"control_request","request_id":"r","request":{"subtype":"initialize"}}',
      "control_request/initialize",
    ],
    [
      '{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"ls"},"tool_use_id":"t"}}',
      "control_request/can_use_tool",
    ],
    [
      '{"type":"control_request","request_id":"r","request":{"subtype":"interrupt"}}',
      "control_request/interrupt",
    ],
    [
      '{"type":"control_request","request_id":"r","request":{"subtype":"set_permission_mode","mode":"plan"}}',
      "control_request/set_permission_mode",
    ],
    ['{"type":"control_request","request_id":"r","request":{"subtype":"mcp_status"}}', "control_request"],
    ['{"type":"control_response","response":{"subtype":"success","request_id":"r"}}', "control_response"],
    [
      '{"type":"control_response","response":{"subtype":"error","request_id":"r","error":"no"}}',
      "control_response",
    ],
    ['{"type":"control_cancel_request","request_id":"r"}', "control_cancel_request"],
    ['{"type":"keep_alive"}', "keep_alive"],
    ['{"type":"stream_event","event":{"type":"message_start"}}', "unknown"],
    ['{"type":"command_lifecycle","command_uuid":"u","state":"queued"}', "unknown"],
  ]
  it.each(cases)("%s → %s", (line, kind) => {
    const decoded = ok(decodeAgentLine(line))
    expect(decoded.kind).toBe(kind)
    // Pass-through: nothing added, nothing stripped.
    expect(decoded.message).toEqual(JSON.parse(line))
  })

  it("keeps unknown fields at every level and returns the very object it was given", () => {
    const value = {
      type: "control_request",
      request_id: "r1",
      future_field: { nested: [1, 2] },
      request: {
        subtype: "can_use_tool",
        tool_name: "Bash",
        input: { command: "ls", extra: true },
        tool_use_id: "t",
        new_thing: "kept",
      },
    }
    const decoded = ok(decodeMessage(value))
    expect(decoded.message).toBe(value)
    expect(decoded.message).toEqual(structuredClone(value))
  })

  it("accepts a line as UTF-8 bytes", () => {
    const decoded = ok(decodeAgentLine(Buffer.from('{"type":"keep_alive","note":"é✓"}')))
    expect(decoded.message).toEqual({ type: "keep_alive", note: "é✓" })
  })
})

describe("decodeAgentLine: error codes and messages", () => {
  it("AGH_PROTO_NOT_JSON quotes the start of the line, never the parser's version-specific wording", () => {
    const err = fail(decodeAgentLine("garbage", { line: 2 }))
    expect(err.code).toBe("AGH_PROTO_NOT_JSON")
    expect(err.reason).toBe("NotJson")
    expect(err.message).toBe('line 2 is not JSON: "garbage"')
    expect(err.line).toBe(2)
    expect(err.cause).toBeInstanceOf(SyntaxError)
  })

  it("AGH_PROTO_NOT_JSON cuts a long line to 60 characters", () => {
    const err = fail(decodeAgentLine(`{${"x".repeat(100)}`))
    expect(err.message).toBe(`line is not JSON: "{${"x".repeat(59)}…"`)
  })

  it("AGH_PROTO_BAD_SHAPE for a JSON value that is not an object", () => {
    expect(fail(decodeAgentLine("[1,2]", { line: 1 })).message).toBe(
      "line 1: bad message: expected a JSON object, got an array",
    )
    const err = fail(decodeAgentLine("42"))
    expect(err.code).toBe("AGH_PROTO_BAD_SHAPE")
    expect(err.message).toBe("bad message: expected a JSON object, got 42")
    expect(err.field).toBe("")
    expect(fail(decodeAgentLine("null")).message).toBe("bad message: expected a JSON object, got null")
  })

  it("AGH_PROTO_BAD_SHAPE names a missing or non-string type", () => {
    const missing = fail(decodeAgentLine('{"foo":1}', { line: 7 }))
    expect(missing.message).toBe('line 7: bad message: field "type": Missing key')
    expect(missing.field).toBe("type")
    expect(fail(decodeAgentLine('{"type":5}')).message).toBe(
      'bad message: field "type": Expected string, got 5',
    )
  })

  const shapes: ReadonlyArray<readonly [string, string, string]> = [
    [
      '{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool","input":{},"tool_use_id":"t"}}',
      "request.tool_name",
      'line 3: bad "control_request/can_use_tool" message: field "request.tool_name": Missing key',
    ],
    [
      '{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool","tool_name":5,"input":{},"tool_use_id":"t"}}',
      "request.tool_name",
      'line 3: bad "control_request/can_use_tool" message: field "request.tool_name": Expected string, got 5',
    ],
    [
      '{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool","tool_name":"Bash","input":[],"tool_use_id":"t"}}',
      "request.input",
      'line 3: bad "control_request/can_use_tool" message: field "request.input": Expected object, got an array',
    ],
    [
      '{"type":"control_request","request":{"subtype":"interrupt"}}',
      "request_id",
      'line 3: bad "control_request/interrupt" message: field "request_id": Missing key',
    ],
    [
      '{"type":"control_request","request_id":"r","request":7}',
      "request",
      'line 3: bad "control_request" message: field "request": Expected object, got 7',
    ],
    [
      '{"type":"control_request","request_id":"r","request":{"subtype":"set_permission_mode"}}',
      "request.mode",
      'line 3: bad "control_request/set_permission_mode" message: field "request.mode": Missing key',
    ],
    [
      '{"type":"user","message":{"role":"assistant","content":"x"}}',
      "message.role",
      'line 3: bad "user" message: field "message.role": Expected "user", got "assistant"',
    ],
    [
      '{"type":"user","message":{"role":"user","content":5}}',
      "message.content",
      'line 3: bad "user" message: field "message.content": Expected string | array, got 5',
    ],
    [
      '{"type":"assistant","message":{"content":[{"text":"x"}]}}',
      "message.content[0].type",
      'line 3: bad "assistant" message: field "message.content[0].type": Missing key',
    ],
    [
      '{"type":"result","subtype":"success","session_id":"s"}',
      "is_error",
      'line 3: bad "result" message: field "is_error": Missing key',
    ],
    [
      '{"type":"system","subtype":"init"}',
      "session_id",
      'line 3: bad "system/init" message: field "session_id": Missing key',
    ],
    [
      '{"type":"control_response","response":{"subtype":"weird","request_id":"r"}}',
      "response.subtype",
      'line 3: bad "control_response" message: field "response.subtype": Expected "success" or "error", got "weird"',
    ],
    [
      '{"type":"control_response","response":{"subtype":"error","request_id":"r"}}',
      "response.error",
      'line 3: bad "control_response" message: field "response.error": Missing key',
    ],
    [
      '{"type":"control_response"}',
      "response",
      'line 3: bad "control_response" message: field "response": Missing key',
    ],
    [
      '{"type":"control_cancel_request","request_id":9}',
      "request_id",
      'line 3: bad "control_cancel_request" message: field "request_id": Expected string, got 9',
    ],
  ]
  it.each(shapes)("AGH_PROTO_BAD_SHAPE: %s names %s", (line, field, message) => {
    const err = fail(decodeAgentLine(line, { line: 3 }))
    expect(err.code).toBe("AGH_PROTO_BAD_SHAPE")
    expect(err.field).toBe(field)
    expect(err.message).toBe(message)
  })

  it("AGH_PROTO_LINE_TOO_LONG counts UTF-8 bytes, for strings and bytes alike", () => {
    const err = fail(decodeAgentLine("é".repeat(6), { line: 4, maxLineBytes: 10 }))
    expect(err.code).toBe("AGH_PROTO_LINE_TOO_LONG")
    expect(err.message).toBe("line 4 is 12 bytes, over the 10-byte limit")
    expect(fail(decodeAgentLine(Buffer.alloc(11, 0x20), { maxLineBytes: 10 })).message).toBe(
      "line is 11 bytes, over the 10-byte limit",
    )
    // Exactly at the cap is fine.
    expect(ok(decodeAgentLine('{"type":"x"}', { maxLineBytes: 12 })).kind).toBe("unknown")
  })

  it("AGH_PROTO_BAD_UTF8 for bytes that are not UTF-8, naming the line and its offset", () => {
    const err = fail(decodeAgentLine(Uint8Array.from([0x7b, 0xff, 0x7d]), { line: 5, offset: 100 }))
    expect(err.code).toBe("AGH_PROTO_BAD_UTF8")
    expect(err.message).toBe("line 5 (starting at byte 100 of the stream) is not valid UTF-8")
    expect(fail(decodeAgentLine(Uint8Array.from([0xc3]))).message).toBe("line is not valid UTF-8")
  })
})

describe("decodePermissionResult", () => {
  it("accepts allow with and without updatedInput, and deny with interrupt", () => {
    expect(Result.isSuccess(decodePermissionResult({ behavior: "allow" }))).toBe(true)
    const allow = { behavior: "allow", updatedInput: { command: "ls" }, toolUseID: "t", extra: 1 }
    expect(Result.getOrThrow(decodePermissionResult(allow))).toBe(allow)
    const deny = { behavior: "deny", message: "no", interrupt: true }
    expect(Result.getOrThrow(decodePermissionResult(deny))).toEqual(deny)
  })

  const bad: ReadonlyArray<readonly [unknown, string, string]> = [
    [null, "", 'bad "permission result" message: expected a JSON object, got null'],
    [{}, "behavior", 'bad "permission result" message: field "behavior": Missing key'],
    [
      { behavior: "maybe" },
      "behavior",
      'bad "permission result" message: field "behavior": Expected "allow" or "deny", got "maybe"',
    ],
    [{ behavior: "deny" }, "message", 'bad "permission result" message: field "message": Missing key'],
    [
      { behavior: "allow", updatedInput: 5 },
      "updatedInput",
      'bad "permission result" message: field "updatedInput": Expected object, got 5',
    ],
    [
      { behavior: "deny", message: "no", interrupt: "yes" },
      "interrupt",
      'bad "permission result" message: field "interrupt": Expected boolean, got "yes"',
    ],
  ]
  it.each(bad)("rejects %j naming %s", (value, field, message) => {
    const err = fail(decodePermissionResult(value))
    expect(err.code).toBe("AGH_PROTO_BAD_SHAPE")
    expect(err.field).toBe(field)
    expect(err.message).toBe(message)
  })
})

describe("formatPath", () => {
  it("joins keys with dots and renders indices in brackets", () => {
    expect(formatPath([])).toBe("")
    expect(formatPath(["message", "content", 0, "type"])).toBe("message.content[0].type")
  })
})
