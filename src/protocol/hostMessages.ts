import type {
  ContentBlock,
  ControlCancelRequestMessage,
  ControlErrorMessage,
  ControlSuccessMessage,
  InitializeRequestMessage,
  InterruptRequestMessage,
  KeepAliveMessage,
  PermissionMode,
  SetPermissionModeRequestMessage,
  UserMessage,
} from "./messages.js"

/**
 * Constructors for the lines a host (or any peer) sends. Each returns a plain object shaped as the real
 * Claude Code CLI expects; `encodeNdjsonLine` turns it into a line.
 */

/** Options of {@link userMessage}. */
export interface UserMessageOptions {
  /** The CLI accepts `""` (observed); agents fill in their own. */
  readonly sessionId?: string
  /** Optional client id: agents that know it answer with `command_lifecycle` frames. */
  readonly uuid?: string
}

/** A top-level prompt: `{ type: "user", message: { role: "user", content }, parent_tool_use_id: null, ... }`. */
export function userMessage(
  content: string | ReadonlyArray<ContentBlock>,
  options: UserMessageOptions = {},
): UserMessage {
  return {
    type: "user",
    message: { role: "user", content },
    parent_tool_use_id: null,
    session_id: options.sessionId ?? "",
    ...(options.uuid === undefined ? {} : { uuid: options.uuid }),
  }
}

/** A success `control_response` answering `requestId`, with an optional payload. */
export function controlSuccess(
  requestId: string,
  response?: Readonly<Record<string, unknown>>,
): ControlSuccessMessage {
  return {
    type: "control_response",
    response: {
      subtype: "success",
      request_id: requestId,
      ...(response === undefined ? {} : { response }),
    },
  }
}

/** An error `control_response`; `errorCode` as the CLI sends it (`"unsupported_request"`, ...). */
export function controlError(requestId: string, error: string, errorCode?: string): ControlErrorMessage {
  return {
    type: "control_response",
    response: {
      subtype: "error",
      request_id: requestId,
      error,
      ...(errorCode === undefined ? {} : { error_code: errorCode }),
    },
  }
}

/** Allows a `can_use_tool` request; with `updatedInput` the agent runs that input instead. */
export function allowResponse(
  requestId: string,
  updatedInput?: Readonly<Record<string, unknown>>,
): ControlSuccessMessage {
  return controlSuccess(requestId, {
    behavior: "allow",
    ...(updatedInput === undefined ? {} : { updatedInput }),
  })
}

/** Denies a `can_use_tool` request; `message` becomes the tool result. `interrupt` also ends the turn. */
export function denyResponse(
  requestId: string,
  message: string,
  options: { readonly interrupt?: boolean } = {},
): ControlSuccessMessage {
  return controlSuccess(requestId, {
    behavior: "deny",
    message,
    ...(options.interrupt === undefined ? {} : { interrupt: options.interrupt }),
  })
}

/** Asks the agent to stop its turn. */
export function interruptRequest(requestId: string): InterruptRequestMessage {
  return { type: "control_request", request_id: requestId, request: { subtype: "interrupt" } }
}

/** The handshake request; its answer is the agent's readiness signal. */
export function initializeRequest(
  requestId: string,
  fields: Readonly<Record<string, unknown>> = {},
): InitializeRequestMessage {
  return {
    type: "control_request",
    request_id: requestId,
    request: { ...fields, subtype: "initialize" },
  }
}

/** Switches the agent's permission mode. */
export function setPermissionModeRequest(
  requestId: string,
  mode: PermissionMode,
): SetPermissionModeRequestMessage {
  return { type: "control_request", request_id: requestId, request: { subtype: "set_permission_mode", mode } }
}

/** Withdraws the sender's own request `requestId`; no reply expected. */
export function controlCancelRequest(requestId: string): ControlCancelRequestMessage {
  return { type: "control_cancel_request", request_id: requestId }
}

/** Liveness ping; receivers ignore it. */
export function keepAlive(): KeepAliveMessage {
  return { type: "keep_alive" }
}
