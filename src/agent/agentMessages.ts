import type { PermissionMode } from "../protocol/messages.js"
import type { CommandOutcome } from "./commandRunner.js"

/**
 * Builders of the lines the built-in agent writes, shaped like the real Claude Code CLI's (stream-json.md
 * §6) so a host cannot tell the two apart by structure.
 */

/** Identity every message carries. */
export interface MessageContext {
  readonly sessionId: string
  readonly uuid: () => string
}

/** `system`/`init` capabilities the built-in agent honours. */
export const AGENT_CAPABILITIES = [
  "interrupt_receipt_v1",
  "interrupt_cancel_queued_v1",
  "msg_lifecycle_v1",
] as const

/** The tools the built-in agent offers. */
export const AGENT_TOOLS = ["Bash"] as const

/** The model name the built-in agent reports. */
export const AGENT_MODEL = "builtin"

const zeroUsage = () => ({
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
})

/** `system`/`init`, sent at the start of every turn as the real CLI does. */
export function systemInit(
  ctx: MessageContext,
  fields: { cwd: string; permissionMode: PermissionMode; version: string },
): object {
  return {
    type: "system",
    subtype: "init",
    uuid: ctx.uuid(),
    session_id: ctx.sessionId,
    cwd: fields.cwd,
    model: AGENT_MODEL,
    permissionMode: fields.permissionMode,
    tools: [...AGENT_TOOLS],
    mcp_servers: [],
    slash_commands: [],
    skills: [],
    agents: [],
    plugins: [],
    apiKeySource: "none",
    claude_code_version: fields.version,
    output_style: "default",
    capabilities: [...AGENT_CAPABILITIES],
  }
}

/** An `assistant` line with ONE content block; blocks of one model response share `messageId`. */
export function assistant(
  ctx: MessageContext,
  messageId: string,
  block: object,
  userMessageUuid?: string,
): object {
  return {
    type: "assistant",
    uuid: ctx.uuid(),
    session_id: ctx.sessionId,
    parent_tool_use_id: null,
    message: {
      id: messageId,
      type: "message",
      role: "assistant",
      model: AGENT_MODEL,
      content: [block],
      stop_reason: null,
      stop_sequence: null,
      usage: zeroUsage(),
    },
    ...(userMessageUuid === undefined ? {} : { user_message_uuid: userMessageUuid }),
  }
}

/** A `user` line carrying one tool_result block. */
export function toolResult(
  ctx: MessageContext,
  toolUseId: string,
  content: string,
  isError: boolean,
  toolUseResult: unknown,
): object {
  return {
    type: "user",
    uuid: ctx.uuid(),
    session_id: ctx.sessionId,
    parent_tool_use_id: null,
    message: {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: toolUseId, content, is_error: isError }],
    },
    tool_use_result: toolUseResult,
  }
}

/** A `user` text notice such as `[Request interrupted by user]`. */
export function userNotice(ctx: MessageContext, text: string): object {
  return {
    type: "user",
    uuid: ctx.uuid(),
    session_id: ctx.sessionId,
    parent_tool_use_id: null,
    message: { role: "user", content: [{ type: "text", text }] },
  }
}

/** `tool_use_result` of a Bash run, and the tool_result text a model would see. */
export function bashResult(outcome: CommandOutcome, timeoutMs: number): { content: string; data: object } {
  const notes: string[] = []
  if (outcome.interrupted) notes.push("[command stopped while running: interrupted by user]")
  else if (outcome.timedOut) notes.push(`[command timed out after ${timeoutMs} ms and was killed]`)
  else if (outcome.exitCode === null && outcome.signal !== null) {
    notes.push(`[command terminated by signal ${outcome.signal}]`)
  }
  // A failure with no output would otherwise read as an empty success to whoever looks at the content.
  const bare = outcome.stdout + outcome.stderr
  const output =
    bare === "" && outcome.exitCode !== null && outcome.exitCode !== 0
      ? `Exit code ${outcome.exitCode}`
      : bare
  const content = notes.length === 0 ? output : [output, ...notes].filter((s) => s !== "").join("\n")
  return {
    content,
    data: {
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      exitCode: outcome.exitCode,
      interrupted: outcome.interrupted,
      timedOut: outcome.timedOut,
      truncated: outcome.truncated,
    },
  }
}

/** A permission the turn was refused, as `result.permission_denials` lists it. */
export interface PermissionDenial {
  readonly tool_name: string
  readonly tool_use_id: string
  readonly tool_input: Readonly<Record<string, unknown>>
}

/** What ends a turn: `completed`, or aborted while a tool ran / while a prompt was pending. */
export type TerminalReason = "completed" | "aborted_tools" | "aborted_streaming"

/** The one `result` line of a turn. */
export function turnResult(
  ctx: MessageContext,
  fields: {
    readonly text: string
    readonly terminalReason: TerminalReason
    readonly durationMs: number
    readonly numTurns: number
    readonly resultIndex: number
    readonly denials: ReadonlyArray<PermissionDenial>
    readonly userMessageUuid: string | undefined
  },
): object {
  const ok = fields.terminalReason === "completed"
  return {
    type: "result",
    subtype: ok ? "success" : "error_during_execution",
    is_error: !ok,
    ...(ok ? { result: fields.text } : { errors: [fields.text] }),
    duration_ms: fields.durationMs,
    duration_api_ms: 0,
    num_turns: fields.numTurns,
    stop_reason: ok ? "end_turn" : null,
    session_id: ctx.sessionId,
    total_cost_usd: 0,
    usage: zeroUsage(),
    modelUsage: {},
    permission_denials: fields.denials,
    terminal_reason: fields.terminalReason,
    result_index: fields.resultIndex,
    uuid: ctx.uuid(),
    ...(fields.userMessageUuid === undefined ? {} : { user_message_uuid: fields.userMessageUuid }),
  }
}

/** `system`/`status` after the permission mode changed. */
export function permissionModeStatus(ctx: MessageContext, mode: PermissionMode): object {
  return {
    type: "system",
    subtype: "status",
    status: null,
    permissionMode: mode,
    uuid: ctx.uuid(),
    session_id: ctx.sessionId,
  }
}

/** `system`/`permission_denied`: a Bash use refused without asking anyone. */
export function permissionDenied(ctx: MessageContext, toolUseId: string, message: string): object {
  return {
    type: "system",
    subtype: "permission_denied",
    tool_name: "Bash",
    tool_use_id: toolUseId,
    message,
    uuid: ctx.uuid(),
    session_id: ctx.sessionId,
  }
}

/** The `control_request`/`can_use_tool` that asks the host whether a Bash command may run. */
export function canUseBashRequest(requestId: string, toolUseId: string, command: string): object {
  return {
    type: "control_request",
    request_id: requestId,
    request: {
      subtype: "can_use_tool",
      tool_name: "Bash",
      input: { command },
      tool_use_id: toolUseId,
      permission_suggestions: [],
      description: `Run shell command: ${command}`,
    },
  }
}

/** `command_lifecycle` for a user line that carried a `uuid` (capability msg_lifecycle_v1). */
export function lifecycle(
  ctx: MessageContext,
  commandUuid: string,
  state: "queued" | "started" | "completed" | "cancelled",
): object {
  return {
    type: "command_lifecycle",
    command_uuid: commandUuid,
    state,
    uuid: ctx.uuid(),
    session_id: ctx.sessionId,
  }
}
