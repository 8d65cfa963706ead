import * as Schema from "effect/Schema"

/**
 * Schemas of the stream-json messages agenthost acts on (../../docs/protocol.md). They check only the
 * fields the host or the built-in agent reads; every other field is allowed and kept, because the protocol
 * grows weekly and a host that strips what it does not know breaks the next client. Decoders validate
 * with these schemas and then hand back the ORIGINAL object (decodeMessage.ts), so the types below are
 * views of objects that may carry more.
 */

const JsonObject = Schema.Record(Schema.String, Schema.Unknown)
const OptionalString = Schema.optionalKey(Schema.String)
const OptionalNumber = Schema.optionalKey(Schema.Number)

/** Any content block: only its `type` is checked (text, tool_use, tool_result, thinking, image, ...). */
export const ContentBlock = Schema.Struct({ type: Schema.String })
/** A content block as the Messages API defines it; known kinds are narrowed with the guards below. */
export type ContentBlock = typeof ContentBlock.Type & Readonly<Record<string, unknown>>

/** `{ type: "text", text }`. */
export interface TextBlock {
  readonly type: "text"
  readonly text: string
}

/** `{ type: "tool_use", id, name, input }`. */
export interface ToolUseBlock {
  readonly type: "tool_use"
  readonly id: string
  readonly name: string
  readonly input: Readonly<Record<string, unknown>>
}

/** `{ type: "tool_result", tool_use_id, content, is_error }`. */
export interface ToolResultBlock {
  readonly type: "tool_result"
  readonly tool_use_id: string
  readonly content: string | ReadonlyArray<ContentBlock>
  readonly is_error?: boolean
}

/** Narrows a content block to a text block (checks `text` too: a block's fields are not validated). */
export const isTextBlock = (block: ContentBlock): block is ContentBlock & TextBlock =>
  block.type === "text" && typeof block.text === "string"

/** Narrows a content block to a tool_use block. */
export const isToolUseBlock = (block: ContentBlock): block is ContentBlock & ToolUseBlock =>
  block.type === "tool_use" &&
  typeof block.id === "string" &&
  typeof block.name === "string" &&
  typeof block.input === "object" &&
  block.input !== null

/** Narrows a content block to a tool_result block. */
export const isToolResultBlock = (block: ContentBlock): block is ContentBlock & ToolResultBlock =>
  block.type === "tool_result" && typeof block.tool_use_id === "string"

/** The permission modes Claude Code knows; the built-in agent supports a subset (docs/agent.md). */
export const PERMISSION_MODES = [
  "default",
  "acceptEdits",
  "plan",
  "dontAsk",
  "bypassPermissions",
  "auto",
] as const
/** One of {@link PERMISSION_MODES}. */
export type PermissionMode = (typeof PERMISSION_MODES)[number]

/** `user`: a prompt (host → agent) or tool results and notices (agent → host). */
export const UserMessage = Schema.Struct({
  type: Schema.Literal("user"),
  message: Schema.Struct({
    role: Schema.Literal("user"),
    content: Schema.Union([Schema.String, Schema.Array(ContentBlock)]),
  }),
  parent_tool_use_id: Schema.optionalKey(Schema.NullOr(Schema.String)),
  session_id: OptionalString,
  uuid: OptionalString,
})
/** A decoded `user` message. */
export type UserMessage = typeof UserMessage.Type

/** `assistant`: one content block per line in practice; the whole Messages API message is kept. */
export const AssistantMessage = Schema.Struct({
  type: Schema.Literal("assistant"),
  message: Schema.Struct({ id: OptionalString, content: Schema.Array(ContentBlock) }),
  parent_tool_use_id: Schema.optionalKey(Schema.NullOr(Schema.String)),
  session_id: OptionalString,
  uuid: OptionalString,
})
/** A decoded `assistant` message. */
export type AssistantMessage = typeof AssistantMessage.Type

/** `result`: exactly one per turn; the turn-complete signal. */
export const ResultMessage = Schema.Struct({
  type: Schema.Literal("result"),
  subtype: Schema.String,
  is_error: Schema.Boolean,
  session_id: Schema.String,
  result: OptionalString,
  num_turns: OptionalNumber,
  duration_ms: OptionalNumber,
  total_cost_usd: OptionalNumber,
  terminal_reason: OptionalString,
  result_index: OptionalNumber,
  errors: Schema.optionalKey(Schema.Array(Schema.String)),
  permission_denials: Schema.optionalKey(
    Schema.Array(Schema.Struct({ tool_name: Schema.String, tool_use_id: Schema.String })),
  ),
})
/** A decoded `result` message. */
export type ResultMessage = typeof ResultMessage.Type

/** `system` with any subtype (status, session_state_changed, permission_denied, ...). */
export const SystemMessage = Schema.Struct({
  type: Schema.Literal("system"),
  subtype: Schema.String,
  session_id: OptionalString,
})
/** A decoded `system` message of a subtype other than `init`. */
export type SystemMessage = typeof SystemMessage.Type

/** `system`/`init`: sent at the start of every turn; carries the session id. */
export const SystemInitMessage = Schema.Struct({
  type: Schema.Literal("system"),
  subtype: Schema.Literal("init"),
  session_id: Schema.String,
  cwd: OptionalString,
  model: OptionalString,
  permissionMode: OptionalString,
  tools: Schema.optionalKey(Schema.Array(Schema.String)),
})
/** A decoded `system`/`init` message. */
export type SystemInitMessage = typeof SystemInitMessage.Type

/** The `request` of an `initialize` control request; every field is optional. */
export const InitializeRequest = Schema.Struct({
  subtype: Schema.Literal("initialize"),
  systemPrompt: Schema.optionalKey(Schema.Array(Schema.String)),
  appendSystemPrompt: OptionalString,
})
/** The `request` of a `can_use_tool` control request (agent → host). */
export const CanUseToolRequest = Schema.Struct({
  subtype: Schema.Literal("can_use_tool"),
  tool_name: Schema.String,
  input: JsonObject,
  tool_use_id: Schema.String,
  permission_suggestions: Schema.optionalKey(Schema.Array(Schema.Unknown)),
  blocked_path: OptionalString,
  description: OptionalString,
  title: OptionalString,
  display_name: OptionalString,
})
/** The `request` of an `interrupt` control request. */
export const InterruptRequest = Schema.Struct({
  subtype: Schema.Literal("interrupt"),
  cancel_queued: Schema.optionalKey(Schema.Boolean),
})
/** The `request` of a `set_permission_mode` control request; the mode is checked by whoever obeys it. */
export const SetPermissionModeRequest = Schema.Struct({
  subtype: Schema.Literal("set_permission_mode"),
  mode: Schema.String,
})
/** The `request` of any other control request: passed through, answered `unsupported_request` by agents. */
export const OtherRequest = Schema.Struct({ subtype: Schema.String })

const controlRequest = <R extends Schema.Constraint>(request: R) =>
  Schema.Struct({ type: Schema.Literal("control_request"), request_id: Schema.String, request })

/** `control_request`/`initialize`. */
export const InitializeRequestMessage = controlRequest(InitializeRequest)
/** `control_request`/`can_use_tool`. */
export const CanUseToolRequestMessage = controlRequest(CanUseToolRequest)
/** `control_request`/`interrupt`. */
export const InterruptRequestMessage = controlRequest(InterruptRequest)
/** `control_request`/`set_permission_mode`. */
export const SetPermissionModeRequestMessage = controlRequest(SetPermissionModeRequest)
/** `control_request` of a subtype agenthost does not act on. */
export const OtherControlRequestMessage = controlRequest(OtherRequest)

/** A decoded `control_request`/`initialize`. */
export type InitializeRequestMessage = typeof InitializeRequestMessage.Type
/** A decoded `control_request`/`can_use_tool`. */
export type CanUseToolRequestMessage = typeof CanUseToolRequestMessage.Type
/** A decoded `control_request`/`interrupt`. */
export type InterruptRequestMessage = typeof InterruptRequestMessage.Type
/** A decoded `control_request`/`set_permission_mode`. */
export type SetPermissionModeRequestMessage = typeof SetPermissionModeRequestMessage.Type
/** A decoded `control_request` of another subtype. */
export type OtherControlRequestMessage = typeof OtherControlRequestMessage.Type

/** `control_response` with `subtype: "success"`; `response` is the payload of the answered request. */
export const ControlSuccessMessage = Schema.Struct({
  type: Schema.Literal("control_response"),
  response: Schema.Struct({
    subtype: Schema.Literal("success"),
    request_id: Schema.String,
    response: Schema.optionalKey(JsonObject),
  }),
})
/** `control_response` with `subtype: "error"`. */
export const ControlErrorMessage = Schema.Struct({
  type: Schema.Literal("control_response"),
  response: Schema.Struct({
    subtype: Schema.Literal("error"),
    request_id: Schema.String,
    error: Schema.String,
    error_code: OptionalString,
  }),
})
/** A decoded successful `control_response`. */
export type ControlSuccessMessage = typeof ControlSuccessMessage.Type
/** A decoded error `control_response`. */
export type ControlErrorMessage = typeof ControlErrorMessage.Type
/** A decoded `control_response`, success or error. */
export type ControlResponseMessage = ControlSuccessMessage | ControlErrorMessage

/** `control_cancel_request`: the sender withdraws its own request; no reply. */
export const ControlCancelRequestMessage = Schema.Struct({
  type: Schema.Literal("control_cancel_request"),
  request_id: Schema.String,
})
/** A decoded `control_cancel_request`. */
export type ControlCancelRequestMessage = typeof ControlCancelRequestMessage.Type

/** `keep_alive`: liveness only. */
export const KeepAliveMessage = Schema.Struct({ type: Schema.Literal("keep_alive") })
/** A decoded `keep_alive`. */
export type KeepAliveMessage = typeof KeepAliveMessage.Type

/** A JSON object whose `type` agenthost does not know: passed through untouched. */
export interface UnknownMessage {
  readonly type: string
  readonly [key: string]: unknown
}

/**
 * The `allow` answer to a `can_use_tool` request (the `response` payload of a success control_response).
 * Without `updatedInput` the original input runs; `deny` with `interrupt: true` also ends the turn.
 */
export const PermissionAllow = Schema.Struct({
  behavior: Schema.Literal("allow"),
  updatedInput: Schema.optionalKey(JsonObject),
  updatedPermissions: Schema.optionalKey(Schema.Array(Schema.Unknown)),
  toolUseID: OptionalString,
})
/** The `deny` member of {@link PermissionResult}. */
export const PermissionDeny = Schema.Struct({
  behavior: Schema.Literal("deny"),
  message: Schema.String,
  interrupt: Schema.optionalKey(Schema.Boolean),
  toolUseID: OptionalString,
})
/** Either answer to a `can_use_tool` request. */
export const PermissionResult = Schema.Union([PermissionAllow, PermissionDeny])
/** A decoded permission answer. */
export type PermissionResult = typeof PermissionResult.Type
