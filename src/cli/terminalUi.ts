import type { PermissionRequest, SdkMessage } from "../client/clientMessages.js"
import { isRecord } from "../client/clientMessages.js"
import type { HostSessionInfo } from "../client/hostClient.js"
import { alignColumns } from "./textTable.js"

/** Longest tool output shown, in lines; the rest is summarized so one `cat` cannot flood the terminal. */
const MAX_OUTPUT_LINES = 40
const MAX_INLINE_CHARS = 200

/**
 * Renders one SDK message for a person: assistant text as is, Bash tool uses as `$ command`, other tool uses as
 * `● Tool(input)`, tool results' output indented, results with cost and duration. Returns "" for messages
 * that are plumbing for people (stream events, status pings). Every non-empty result ends with a newline.
 *
 * @example
 * renderMessage({ type: "result", subtype: "success", is_error: false, duration_ms: 1200, total_cost_usd: 0 })
 * // "✓ done in 1.2s · $0.0000\n"
 */
export function renderMessage(message: SdkMessage): string {
  switch (message.type) {
    case "assistant":
      return lines(renderAssistant(message))
    case "user":
      return lines(renderUser(message))
    case "result":
      return lines(renderResult(message))
    case "system":
      return lines(renderSystem(message))
    default:
      return ""
  }
}

/** The question asked on the terminal for a permission request, e.g. `Allow Bash: echo hi? [y/N] `. */
export function permissionQuestion(request: PermissionRequest): string {
  return `Allow ${request.tool_name}: ${describeToolInput(request.input)}? [y/N] `
}

/** A one-line description of a tool's input: the command for Bash, a path for file tools, else compact JSON. */
export function describeToolInput(input: Readonly<Record<string, unknown>>): string {
  if (typeof input.command === "string") return oneLine(input.command)
  for (const key of ["file_path", "path", "url", "pattern"]) {
    const value = input[key]
    if (typeof value === "string") return oneLine(value)
  }
  const json = JSON.stringify(input)
  return oneLine(json === "{}" ? "" : json)
}

/** `y`/`yes` (any case) allows; anything else, including an empty line, denies — the safe default. */
export function isYes(answer: string): boolean {
  return /^(y|yes)$/i.test(answer.trim())
}

/** A todo list in one cell: `2/5` items completed, or `-` for none. */
function todoSummary(todos: ReadonlyArray<unknown> | undefined): string {
  if (todos === undefined || todos.length === 0) return "-"
  const done = todos.filter((t) => (t as { status?: unknown }).status === "completed").length
  return `${done}/${todos.length}`
}

/** `agenthost sessions ls` as a table. */
export function renderSessionTable(sessions: ReadonlyArray<HostSessionInfo>): string {
  if (sessions.length === 0) return "no sessions\n"
  const rows = alignColumns([
    ["ID", "STATUS", "AGENT", "STARTED", "TODOS", "TITLE / WORK DIR"],
    ...sessions.map((s) => [
      s.id,
      s.status,
      s.agent,
      s.start_time,
      todoSummary(s.todo_list),
      s.title !== "" ? s.title : s.work_dir,
    ]),
  ])
  return lines(rows.map((row) => row.trimEnd()))
}

/** `agenthost sessions show ID`: one `field: value` per line, the todo list below. */
export function renderSessionDetails(info: HostSessionInfo): string {
  const out: string[] = []
  for (const [key, value] of Object.entries(info)) {
    if (key === "todo_list") continue
    const shown = typeof value === "string" ? (value === "" ? "(none)" : value) : JSON.stringify(value)
    out.push(`${key}: ${shown}`)
  }
  const todos = Array.isArray(info.todo_list) ? info.todo_list : []
  out.push(`todo_list: ${todos.length === 0 ? "(empty)" : ""}`)
  for (const todo of todos) {
    if (isRecord(todo)) out.push(`  [${String(todo.status ?? "?")}] ${String(todo.content ?? "")}`)
  }
  return lines(out)
}

function renderAssistant(message: SdkMessage): string[] {
  const out: string[] = []
  const inner = isRecord(message.message) ? message.message : {}
  const content = Array.isArray(inner.content) ? inner.content : []
  for (const block of content) {
    if (!isRecord(block)) continue
    if (block.type === "text" && typeof block.text === "string") {
      out.push(block.text)
    } else if (block.type === "tool_use" && typeof block.name === "string") {
      const input = isRecord(block.input) ? block.input : {}
      out.push(
        block.name === "Bash" && typeof input.command === "string"
          ? `$ ${input.command}`
          : `● ${block.name}(${describeToolInput(input)})`,
      )
    }
  }
  if (typeof message.error === "string") out.push(`✗ assistant error: ${message.error}`)
  return out
}

function renderUser(message: SdkMessage): string[] {
  const inner = isRecord(message.message) ? message.message : {}
  const content = inner.content
  if (typeof content === "string") return [`> ${content}`]
  if (!Array.isArray(content)) return []
  const out: string[] = []
  for (const block of content) {
    if (!isRecord(block)) continue
    if (block.type === "tool_result") {
      const text = toolResultText(block.content)
      const marker = block.is_error === true ? "  ✗ " : "  "
      out.push(...truncateLines(text).map((line, i) => (i === 0 ? `${marker}${line}` : `  ${line}`)))
    } else if (block.type === "text" && typeof block.text === "string") {
      out.push(block.text.startsWith("[") ? block.text : `> ${block.text}`)
    }
  }
  return out
}

function renderResult(message: SdkMessage): string[] {
  const seconds =
    typeof message.duration_ms === "number" ? `${(message.duration_ms / 1000).toFixed(1)}s` : "?"
  const cost = typeof message.total_cost_usd === "number" ? `$${message.total_cost_usd.toFixed(4)}` : "$?"
  const ok = message.subtype === "success" && message.is_error !== true
  if (ok) return [`✓ done in ${seconds} · ${cost}`]
  const out = [`✗ ${String(message.subtype ?? "error")} after ${seconds} · ${cost}`]
  if (Array.isArray(message.errors)) for (const e of message.errors) out.push(`  ${String(e)}`)
  if (message.subtype === "success" && typeof message.result === "string") out.push(`  ${message.result}`)
  return out
}

function renderSystem(message: SdkMessage): string[] {
  switch (message.subtype) {
    case "init":
      return [`· ${String(message.model ?? "agent")} in ${String(message.cwd ?? "?")}`]
    case "permission_denied":
      return [
        `✗ permission denied: ${String(message.tool_name ?? "tool")} ${String(message.message ?? "")}`.trimEnd(),
      ]
    case "compact_boundary":
      return ["· context compacted"]
    case "api_retry":
      return ["· retrying the model API call"]
    default:
      return []
  }
}

function toolResultText(content: unknown): string {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content
    .map((b) => (isRecord(b) && typeof b.text === "string" ? b.text : ""))
    .filter((t) => t !== "")
    .join("\n")
}

function truncateLines(text: string): string[] {
  const all = text.replace(/\n+$/, "").split("\n")
  if (all.length === 1 && all[0] === "") return ["(no output)"]
  if (all.length <= MAX_OUTPUT_LINES) return all
  return [...all.slice(0, MAX_OUTPUT_LINES), `… ${all.length - MAX_OUTPUT_LINES} more lines`]
}

function oneLine(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, " ⏎ ")
  return flat.length > MAX_INLINE_CHARS ? `${flat.slice(0, MAX_INLINE_CHARS)}…` : flat
}

function lines(out: ReadonlyArray<string>): string {
  return out.length === 0 ? "" : `${out.join("\n")}\n`
}
