/**
 * The stream-json shapes the direct-connect client reads and writes (SPEC §5, stream-json.md §5-§7). Only the
 * fields the client acts on are typed; everything else passes through untouched.
 */

/** A JSON object as the host sent it; unknown fields are preserved. */
export type SdkMessage = { readonly type: string; readonly [field: string]: unknown }

/** The `request` of a `can_use_tool` control request: the agent asks to run a tool. */
export interface PermissionRequest {
  readonly subtype: "can_use_tool"
  readonly tool_name: string
  readonly input: Readonly<Record<string, unknown>>
  readonly tool_use_id?: string
  readonly description?: string
  readonly title?: string
  readonly [field: string]: unknown
}

/** The answer to a permission request (stream-json.md §7). */
export type PermissionResult =
  | {
      readonly behavior: "allow"
      /** Omitted: the tool runs with its original input. */
      readonly updatedInput?: Readonly<Record<string, unknown>>
      readonly updatedPermissions?: ReadonlyArray<unknown>
    }
  | {
      readonly behavior: "deny"
      /** Becomes the tool result the agent sees. */
      readonly message: string
      /** Also abort the turn. */
      readonly interrupt?: boolean
    }

/** User message content: a string, or Messages-API content blocks. */
export type UserContent = string | ReadonlyArray<Readonly<Record<string, unknown>>>

/** A `user` frame for the host (SPEC §5). */
export function userMessageFrame(content: UserContent, sessionId: string): SdkMessage {
  return {
    type: "user",
    message: { role: "user", content },
    parent_tool_use_id: null,
    session_id: sessionId,
  }
}

/** A `control_response` answering the permission request `requestId`. */
export function permissionResponseFrame(requestId: string, result: PermissionResult): SdkMessage {
  return {
    type: "control_response",
    response: { subtype: "success", request_id: requestId, response: result },
  }
}

/** A `control_request` asking the host to interrupt the running turn. */
export function interruptFrame(requestId: string): SdkMessage {
  return { type: "control_request", request_id: requestId, request: { subtype: "interrupt" } }
}

export const KEEP_ALIVE_FRAME: SdkMessage = { type: "keep_alive" }

/** The `seq` a host message carries when it belongs to the session's history. */
export function messageSeq(message: SdkMessage): number | undefined {
  const seq = message.seq
  return typeof seq === "number" && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined
}

/** True for a plain (non-array) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}
