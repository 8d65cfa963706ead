import { describe, expect, it } from "vitest"
import type { PermissionRequest } from "../../src/client/clientMessages.js"
import { PermissionLedger } from "../../src/client/permissionLedger.js"

const request = (toolUseId: string): PermissionRequest => ({
  subtype: "can_use_tool",
  tool_name: "Bash",
  input: { command: "make" },
  tool_use_id: toolUseId,
})
const toolResult = (toolUseId: string) => ({
  type: "user",
  message: { role: "user", content: [{ type: "tool_result", tool_use_id: toolUseId, content: "" }] },
})

describe("PermissionLedger", () => {
  it("delivers a request once, whether it comes live or re-sent", () => {
    const ledger = new PermissionLedger(undefined, 0)
    expect(ledger.requested("p1", request("t1"), 3, false, 1)).toEqual([
      { kind: "deliver", requestId: "p1", request: request("t1") },
    ])
    expect(ledger.requested("p1", request("t1"), 3, true, 2)).toEqual([])
    expect(ledger.requested("p1", request("t1"), undefined, false, 2)).toEqual([])
  })

  it("delivers a re-sent request it never saw (a manager started from a cursor)", () => {
    const ledger = new PermissionLedger(undefined, 10)
    expect(ledger.requested("p1", request("t1"), 4, true, 1)).toHaveLength(1)
  })

  it("answers again only when the answer went out on an older socket", () => {
    const ledger = new PermissionLedger(undefined, 0)
    ledger.requested("p1", request("t1"), 1, false, 1)
    ledger.answeredLocally("p1", { behavior: "allow" }, 1)
    expect(ledger.requested("p1", request("t1"), 1, true, 1)).toEqual([])
    expect(ledger.requested("p1", request("t1"), 1, true, 2)).toEqual([
      { kind: "answerAgain", requestId: "p1", result: { behavior: "allow" } },
    ])
    // Once re-sent on socket 2, a further re-send on socket 2 is not answered a third time.
    expect(ledger.requested("p1", request("t1"), 1, true, 2)).toEqual([])

    ledger.requested("p2", request("t2"), 2, false, 2)
    ledger.answeredLocally("p2", { behavior: "deny", message: "no" }, undefined)
    expect(ledger.requested("p2", request("t2"), 2, true, 3)).toEqual([])
    ledger.socketOpened(3)
    expect(ledger.requested("p2", request("t2"), 2, true, 4)).toEqual([
      { kind: "answerAgain", requestId: "p2", result: { behavior: "deny", message: "no" } },
    ])
  })

  it("withdraws delivered requests settled by a cancel, a tool result or the turn's result", () => {
    const ledger = new PermissionLedger(undefined, 0)
    ledger.requested("p1", request("t1"), 1, false, 1)
    ledger.requested("p2", request("t2"), 2, false, 1)
    ledger.requested("p3", request("t3"), 3, false, 1)
    expect(ledger.cancelled("p1")).toEqual([{ kind: "cancelled", requestId: "p1" }])
    expect(ledger.cancelled("p1")).toEqual([])
    expect(ledger.observed(toolResult("t2"))).toEqual([{ kind: "cancelled", requestId: "p2" }])
    expect(ledger.observed({ type: "result" })).toEqual([{ kind: "cancelled", requestId: "p3" }])
    // A settled request arriving again (re-sent by a confused host) is not delivered.
    expect(ledger.requested("p1", request("t1"), 1, true, 2)).toEqual([])
  })

  it("does not report its own answers as cancelled", () => {
    const ledger = new PermissionLedger(undefined, 0)
    ledger.requested("p1", request("t1"), 1, false, 1)
    ledger.answeredLocally("p1", { behavior: "allow" }, 1)
    expect(ledger.cancelled("p1")).toEqual([])
    expect(ledger.observed(toolResult("t1"))).toEqual([])
  })

  it("holds history requests until the cursor reaches the history's end, then delivers the open ones", () => {
    const ledger = new PermissionLedger(6, 0)
    expect(ledger.requested("p1", request("t1"), 2, false, 1)).toEqual([])
    expect(ledger.cursorAt(2, 1)).toEqual([])
    expect(ledger.observed(toolResult("t1"))).toEqual([])
    expect(ledger.requested("p2", request("t2"), 5, false, 1)).toEqual([])
    expect(ledger.cursorAt(6, 1)).toEqual([{ kind: "deliver", requestId: "p2", request: request("t2") }])
    // After the history, requests are live.
    expect(ledger.requested("p3", request("t3"), 7, false, 1)).toHaveLength(1)
    // p1 was settled in the history: never delivered.
    expect(ledger.requested("p1", request("t1"), 2, true, 2)).toEqual([])
  })
})
