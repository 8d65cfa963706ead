import { isRecord, type PermissionRequest, type SdkMessage } from "./clientMessages.js"

/**
 * What the client does with one host → client frame:
 * - `message`: forwarded to the UI;
 * - `permission`: a `can_use_tool` request, for the permission callback;
 * - `cancel`: a `control_cancel_request` withdrawing request `requestId`;
 * - `hostError`: the host rejected something this client sent (`{ type: "error", error: { code, message } }`);
 * - `hidden`: protocol plumbing that is not shown (SPEC §5 client-side filtering).
 */
export type IncomingKind =
  | { readonly kind: "message" }
  | { readonly kind: "permission"; readonly requestId: string; readonly request: PermissionRequest }
  | { readonly kind: "cancel"; readonly requestId: string }
  | { readonly kind: "hostError"; readonly code: string; readonly message: string }
  | { readonly kind: "hidden" }

const HIDDEN_TYPES: ReadonlySet<string> = new Set([
  "control_response",
  "keep_alive",
  "streamlined_text",
  "streamlined_tool_use_summary",
])

const HIDDEN: IncomingKind = { kind: "hidden" }
const MESSAGE: IncomingKind = { kind: "message" }

/**
 * Classifies a host message as SPEC §5 says a client library filters it. A `control_request` that is not
 * `can_use_tool` (the host never sends one today) is hidden: there is nothing a UI could do with it.
 *
 * @example
 * classifyIncoming({ type: "keep_alive" }) // { kind: "hidden" }
 * classifyIncoming({ type: "assistant", message: { content: [] } }) // { kind: "message" }
 */
export function classifyIncoming(message: SdkMessage): IncomingKind {
  const type = message.type
  if (HIDDEN_TYPES.has(type)) return HIDDEN
  switch (type) {
    case "system":
      return message.subtype === "post_turn_summary" ? HIDDEN : MESSAGE
    case "control_cancel_request":
      return typeof message.request_id === "string"
        ? { kind: "cancel", requestId: message.request_id }
        : HIDDEN
    case "control_request": {
      const request = message.request
      if (
        typeof message.request_id === "string" &&
        isRecord(request) &&
        request.subtype === "can_use_tool" &&
        typeof request.tool_name === "string"
      ) {
        const input = isRecord(request.input) ? request.input : {}
        return {
          kind: "permission",
          requestId: message.request_id,
          request: { ...request, subtype: "can_use_tool", tool_name: request.tool_name, input },
        }
      }
      return HIDDEN
    }
    case "error": {
      const error = message.error
      if (isRecord(error)) {
        return {
          kind: "hostError",
          code: typeof error.code === "string" ? error.code : "AGH_UNKNOWN",
          message: typeof error.message === "string" ? error.message : JSON.stringify(error),
        }
      }
      return MESSAGE
    }
    default:
      return MESSAGE
  }
}

/** True when a UI should see `message` (the `onMessage` filter of SPEC §5). */
export function isForwardedMessage(message: SdkMessage): boolean {
  return classifyIncoming(message).kind === "message"
}
