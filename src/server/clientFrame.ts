import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { PermissionAnswer, SdkMessage } from "../effects/sessionHandle.js"
import { describeIssues } from "./schemaIssues.js"
import { WS_ERROR } from "./wsCodes.js"

/** A client → host frame, validated (SPEC §5). */
export type ClientFrame =
  /** The whole frame, unknown fields kept, to hand to `SessionHandle.sendUserMessage`. */
  | { readonly kind: "user"; readonly message: SdkMessage }
  | { readonly kind: "permission"; readonly requestId: string; readonly answer: PermissionAnswer }
  | { readonly kind: "interrupt"; readonly requestId: string }
  /** A control request the host does not serve; answered with a `control_response` error. */
  | { readonly kind: "unsupportedControl"; readonly requestId: string; readonly subtype: string }
  | { readonly kind: "keepAlive" }

/** Why a frame was refused, with its stable code. */
export interface FrameError {
  readonly kind: "error"
  readonly code: string
  readonly message: string
}

const ContentBlock = Schema.Struct({ type: Schema.String })

const UserFrame = Schema.Struct({
  type: Schema.Literal("user"),
  message: Schema.Struct({
    role: Schema.Literal("user"),
    content: Schema.Union([Schema.String, Schema.Array(ContentBlock)]),
  }),
  parent_tool_use_id: Schema.optionalKey(Schema.NullOr(Schema.String)),
  session_id: Schema.optionalKey(Schema.String),
  uuid: Schema.optionalKey(Schema.String),
})

const AllowAnswer = Schema.Struct({
  behavior: Schema.Literal("allow"),
  updatedInput: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
})
const DenyAnswer = Schema.Struct({
  behavior: Schema.Literal("deny"),
  message: Schema.String,
  interrupt: Schema.optionalKey(Schema.Boolean),
})

const ControlResponseFrame = Schema.Struct({
  type: Schema.Literal("control_response"),
  response: Schema.Union([
    Schema.Struct({
      subtype: Schema.Literal("success"),
      request_id: Schema.NonEmptyString,
      response: Schema.Union([AllowAnswer, DenyAnswer]),
    }),
    Schema.Struct({
      subtype: Schema.Literal("error"),
      request_id: Schema.NonEmptyString,
      error: Schema.String,
    }),
  ]),
})

const ControlRequestFrame = Schema.Struct({
  type: Schema.Literal("control_request"),
  request_id: Schema.NonEmptyString,
  request: Schema.Struct({ subtype: Schema.NonEmptyString }),
})

const PARSE = { errors: "all", reportInput: true } as const
const decodeUser = Schema.decodeUnknownResult(UserFrame, PARSE)
const decodeControlResponse = Schema.decodeUnknownResult(ControlResponseFrame, PARSE)
const decodeControlRequest = Schema.decodeUnknownResult(ControlRequestFrame, PARSE)

const CLIENT_TYPES = ["user", "control_response", "control_request", "keep_alive"] as const

const fail = (code: string, message: string): FrameError => ({ kind: "error", code, message })

const badShape = (type: string, issue: Schema.SchemaError["issue"]): FrameError =>
  fail(WS_ERROR.BadShape, `bad ${type} frame: ${describeIssues(issue, "frame")}`)

/**
 * Parses one text frame. Never throws: garbage becomes a {@link FrameError} with code `AGH_WS_NOT_JSON`,
 * `AGH_WS_BAD_SHAPE` (naming the field) or `AGH_WS_UNKNOWN_TYPE`.
 */
export function parseClientFrame(text: string, sessionId: string): ClientFrame | FrameError {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    return fail(WS_ERROR.NotJson, `frame is not JSON: ${(cause as Error).message}`)
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(
      WS_ERROR.BadShape,
      `frame must be a JSON object, got ${Array.isArray(value) ? "an array" : typeof value === "object" ? "null" : typeof value}`,
    )
  }
  const type = (value as { type?: unknown }).type
  if (typeof type !== "string") return fail(WS_ERROR.BadShape, 'bad frame: field "type": Expected string')
  switch (type) {
    case "user": {
      const r = decodeUser(value)
      if (Result.isFailure(r)) return badShape(type, r.failure.issue)
      const sid = r.success.session_id
      if (sid !== undefined && sid !== "" && sid !== sessionId) {
        return fail(
          WS_ERROR.BadShape,
          `bad user frame: field "session_id": ${JSON.stringify(sid)} is not this session (${sessionId})`,
        )
      }
      return { kind: "user", message: value as SdkMessage }
    }
    case "control_response": {
      const r = decodeControlResponse(value)
      if (Result.isFailure(r)) return badShape(type, r.failure.issue)
      const response = r.success.response
      // The raw answer keeps fields the schema does not list (updatedPermissions, toolUseID, ...).
      const raw = (value as { response: { response?: PermissionAnswer } }).response
      if (response.subtype === "error") {
        // A client that cannot answer refuses: the agent's tool call must not run (stream-json.md §6.7).
        return {
          kind: "permission",
          requestId: response.request_id,
          answer: { behavior: "deny", message: `the client could not answer: ${response.error}` },
        }
      }
      return { kind: "permission", requestId: response.request_id, answer: raw.response as PermissionAnswer }
    }
    case "control_request": {
      const r = decodeControlRequest(value)
      if (Result.isFailure(r)) return badShape(type, r.failure.issue)
      const { request_id: requestId, request } = r.success
      return request.subtype === "interrupt"
        ? { kind: "interrupt", requestId }
        : { kind: "unsupportedControl", requestId, subtype: request.subtype }
    }
    case "keep_alive":
      return { kind: "keepAlive" }
    default:
      return fail(
        WS_ERROR.UnknownType,
        `unknown frame type ${JSON.stringify(type.slice(0, 64))}; a client may send ${CLIENT_TYPES.join(", ")}`,
      )
  }
}
