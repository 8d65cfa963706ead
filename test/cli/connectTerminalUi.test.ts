import { describe, expect, it } from "vitest"
import { isYes, permissionQuestion, renderMessage, renderSessionTable } from "../../src/cli/terminalUi.js"

const assistant = (...content: unknown[]) => ({ type: "assistant", message: { role: "assistant", content } })
const toolResult = (content: unknown, isError = false) => ({
  type: "user",
  message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content, is_error: isError }] },
})

describe("renderMessage", () => {
  it("shows assistant text, Bash tool uses as `$ command`, other tools with their main input", () => {
    expect(renderMessage(assistant({ type: "text", text: "Let me look." }))).toBe("Let me look.\n")
    expect(renderMessage(assistant({ type: "tool_use", name: "Bash", input: { command: "ls -la" } }))).toBe(
      "$ ls -la\n",
    )
    expect(
      renderMessage(assistant({ type: "tool_use", name: "Read", input: { file_path: "/a/b.ts" } })),
    ).toBe("● Read(/a/b.ts)\n")
    expect(renderMessage(assistant({ type: "tool_use", name: "Todo", input: { n: 1 } }))).toBe(
      '● Todo({"n":1})\n',
    )
    expect(renderMessage({ ...assistant(), error: "rate_limit" })).toBe("✗ assistant error: rate_limit\n")
  })

  it("indents tool output, marks errors and truncates long output", () => {
    expect(renderMessage(toolResult("a\nb\n"))).toBe("  a\n  b\n")
    expect(renderMessage(toolResult("boom", true))).toBe("  ✗ boom\n")
    expect(renderMessage(toolResult([{ type: "text", text: "from blocks" }]))).toBe("  from blocks\n")
    expect(renderMessage(toolResult(""))).toBe("  (no output)\n")
    const long = Array.from({ length: 45 }, (_, i) => `line ${i}`).join("\n")
    const shown = renderMessage(toolResult(long)).split("\n")
    expect(shown).toHaveLength(42)
    expect(shown[40]).toBe("  … 5 more lines")
  })

  it("shows results with duration and cost, and errors with their subtype", () => {
    expect(
      renderMessage({
        type: "result",
        subtype: "success",
        is_error: false,
        duration_ms: 2500,
        total_cost_usd: 0.5,
      }),
    ).toBe("✓ done in 2.5s · $0.5000\n")
    expect(
      renderMessage({
        type: "result",
        subtype: "error_max_turns",
        is_error: true,
        duration_ms: 100,
        total_cost_usd: 0,
        errors: ["too many"],
      }),
    ).toBe("✗ error_max_turns after 0.1s · $0.0000\n  too many\n")
  })

  it("shows user prompts and notices, and nothing for plumbing", () => {
    expect(renderMessage({ type: "user", message: { role: "user", content: "do it" } })).toBe("> do it\n")
    expect(
      renderMessage({
        type: "user",
        message: { content: [{ type: "text", text: "[Request interrupted by user]" }] },
      }),
    ).toBe("[Request interrupted by user]\n")
    expect(renderMessage({ type: "stream_event", event: {} })).toBe("")
    expect(renderMessage({ type: "system", subtype: "status", status: "requesting" })).toBe("")
    expect(renderMessage({ type: "system", subtype: "init", model: "m", cwd: "/w" })).toBe("· m in /w\n")
  })
})

describe("permission prompts", () => {
  it("asks about the command on one line", () => {
    expect(
      permissionQuestion({ subtype: "can_use_tool", tool_name: "Bash", input: { command: "echo hi" } }),
    ).toBe("Allow Bash: echo hi? [y/N] ")
    expect(
      permissionQuestion({ subtype: "can_use_tool", tool_name: "Bash", input: { command: "a\nb" } }),
    ).toBe("Allow Bash: a ⏎ b? [y/N] ")
  })

  it("allows only on an explicit yes", () => {
    expect(["y", "Y", "yes", " YES "].map(isYes)).toEqual([true, true, true, true])
    expect(["", "n", "no", "yep", "sure"].map(isYes)).toEqual([false, false, false, false, false])
  })
})

describe("renderSessionTable", () => {
  it("says so when there are none", () => {
    expect(renderSessionTable([])).toBe("no sessions\n")
  })

  it("summarizes each session's todo list as completed/total", () => {
    const table = renderSessionTable([
      {
        id: "s_1",
        title: "fix",
        status: "busy",
        agent: "builtin",
        work_dir: "/w",
        start_time: "2026-01-01T00:00:00.000Z",
        todo_list: [
          { content: "a", status: "completed" },
          { content: "b", status: "in_progress" },
          { content: "c", status: "pending" },
        ],
      } as never,
    ])
    expect(table.split("\n")[1]).toBe("s_1  busy    builtin  2026-01-01T00:00:00.000Z  1/3    fix")
  })
})
