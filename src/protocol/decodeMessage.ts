import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { DEFAULT_MAX_LINE_BYTES } from "./limits.js"
import {
  AssistantMessage,
  CanUseToolRequestMessage,
  ControlCancelRequestMessage,
  ControlErrorMessage,
  type ControlResponseMessage,
  ControlSuccessMessage,
  InitializeRequestMessage,
  InterruptRequestMessage,
  KeepAliveMessage,
  OtherControlRequestMessage,
  PermissionAllow,
  PermissionDeny,
  type PermissionResult,
  ResultMessage,
  SetPermissionModeRequestMessage,
  SystemInitMessage,
  SystemMessage,
  type UnknownMessage,
  UserMessage,
} from "./messages.js"
import { badUtf8Error, excerpt, lineLabel, lineTooLongError, ProtocolError } from "./protocolError.js"

/**
 * A message that passed validation, tagged with what it is. `message` is the very object that was parsed,
 * extra fields included, so forwarding it loses nothing.
 */
export type DecodedMessage =
  | { readonly kind: "user"; readonly message: UserMessage }
  | { readonly kind: "assistant"; readonly message: AssistantMessage }
  | { readonly kind: "result"; readonly message: ResultMessage }
  | { readonly kind: "system/init"; readonly message: SystemInitMessage }
  | { readonly kind: "system"; readonly message: SystemMessage }
  | { readonly kind: "control_request/initialize"; readonly message: InitializeRequestMessage }
  | { readonly kind: "control_request/can_use_tool"; readonly message: CanUseToolRequestMessage }
  | { readonly kind: "control_request/interrupt"; readonly message: InterruptRequestMessage }
  | {
      readonly kind: "control_request/set_permission_mode"
      readonly message: SetPermissionModeRequestMessage
    }
  | { readonly kind: "control_request"; readonly message: OtherControlRequestMessage }
  | { readonly kind: "control_response"; readonly message: ControlResponseMessage }
  | { readonly kind: "control_cancel_request"; readonly message: ControlCancelRequestMessage }
  | { readonly kind: "keep_alive"; readonly message: KeepAliveMessage }
  | { readonly kind: "unknown"; readonly message: UnknownMessage }

/** Every `kind` a {@link DecodedMessage} can have. */
export type MessageKind = DecodedMessage["kind"]

/** Options of {@link decodeAgentLine}. */
export interface DecodeLineOptions {
  /** 1-based line number, named in error messages. */
  readonly line?: number
  /** Byte cap (default {@link DEFAULT_MAX_LINE_BYTES}). */
  readonly maxLineBytes?: number
  /** Where the line starts in its stream, named in AGH_PROTO_BAD_UTF8 messages. */
  readonly offset?: number
}

interface Validator {
  readonly is: (u: unknown) => boolean
  readonly explain: (u: unknown) => Result.Result<unknown, Schema.SchemaError>
}

const validator = (schema: Schema.Top & Schema.ConstraintDecoder<unknown>): Validator => ({
  is: Schema.is(schema),
  explain: Schema.decodeUnknownResult(schema, { errors: "first" }),
})

const V = {
  user: validator(UserMessage),
  assistant: validator(AssistantMessage),
  result: validator(ResultMessage),
  system: validator(SystemMessage),
  systemInit: validator(SystemInitMessage),
  initialize: validator(InitializeRequestMessage),
  canUseTool: validator(CanUseToolRequestMessage),
  interrupt: validator(InterruptRequestMessage),
  setPermissionMode: validator(SetPermissionModeRequestMessage),
  otherRequest: validator(OtherControlRequestMessage),
  controlSuccess: validator(ControlSuccessMessage),
  controlError: validator(ControlErrorMessage),
  cancel: validator(ControlCancelRequestMessage),
  keepAlive: validator(KeepAliveMessage),
  allow: validator(PermissionAllow),
  deny: validator(PermissionDeny),
}

const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

/** `["request", "input"]` → `request.input`; array indices as `[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else out += out === "" ? String(key) : `.${String(key)}`
  }
  return out
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let here = root
  for (const key of path) {
    if (typeof here !== "object" || here === null) return undefined
    here = (here as Record<PropertyKey, unknown>)[key]
  }
  return here
}

function describeJson(value: unknown): string {
  if (value === undefined) return "nothing"
  if (Array.isArray(value)) return "an array"
  if (value === null) return "null"
  const json = JSON.stringify(value)
  return json.length > 40 ? `${json.slice(0, 40)}…` : json
}

/** AGH_PROTO_BAD_SHAPE naming `field`; `what` names the message (`"control_request"`) when known. */
function badShape(line: number | undefined, what: string | undefined, field: string, problem: string) {
  const subject = what === undefined ? "bad message" : `bad ${JSON.stringify(what)} message`
  const where = field === "" ? "" : `field ${JSON.stringify(field)}: `
  const prefix = line === undefined ? "" : `line ${line}: `
  return new ProtocolError({
    reason: "BadShape",
    message: `${prefix}${subject}: ${where}${problem}`,
    field,
    ...(line === undefined ? {} : { line }),
  })
}

function check(v: Validator, raw: object, what: string, line: number | undefined): ProtocolError | undefined {
  if (v.is(raw)) return undefined
  const explained = v.explain(raw)
  // `is` and the decoder agree on every schema here; the fallback only guards against a future drift.
  if (Result.isSuccess(explained)) return badShape(line, what, "", "does not match its schema")
  const first = formatIssue(explained.failure.issue).issues[0]
  const path = (first?.path ?? []).map((p) => (typeof p === "object" ? p.key : p))
  const value = valueAt(raw, path)
  let problem = first?.message ?? "invalid"
  if (value !== undefined && problem !== "Missing key" && !problem.includes(", got ")) {
    problem += `, got ${describeJson(value)}`
  }
  return badShape(line, what, formatPath(path), problem)
}

const field = (raw: object, key: string): unknown => (raw as Record<string, unknown>)[key]

/**
 * Validates an already-parsed JSON value as a stream-json message (a WebSocket frame, say). Never throws.
 * Unknown `type`s, unknown `control_request` subtypes and unknown `system` subtypes are accepted; extra
 * fields are kept; the returned `message` is `value` itself.
 */
export function decodeMessage(value: unknown, line?: number): Result.Result<DecodedMessage, ProtocolError> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Result.fail(badShape(line, undefined, "", `expected a JSON object, got ${describeJson(value)}`))
  }
  const type = field(value, "type")
  if (typeof type !== "string") {
    const problem = type === undefined ? "Missing key" : `Expected string, got ${describeJson(type)}`
    return Result.fail(badShape(line, undefined, "type", problem))
  }
  const ok = <D extends DecodedMessage>(v: Validator, kind: D["kind"], what = type) => {
    const error = check(v, value, what, line)
    return error === undefined
      ? Result.succeed({ kind, message: value } as DecodedMessage)
      : Result.fail<ProtocolError>(error)
  }
  switch (type) {
    case "user":
      return ok(V.user, "user")
    case "assistant":
      return ok(V.assistant, "assistant")
    case "result":
      return ok(V.result, "result")
    case "system":
      return field(value, "subtype") === "init"
        ? ok(V.systemInit, "system/init", "system/init")
        : ok(V.system, "system")
    case "control_request": {
      const request = field(value, "request")
      const subtype = typeof request === "object" && request !== null ? field(request, "subtype") : undefined
      const what = typeof subtype === "string" ? `control_request/${subtype}` : type
      switch (subtype) {
        case "initialize":
          return ok(V.initialize, "control_request/initialize", what)
        case "can_use_tool":
          return ok(V.canUseTool, "control_request/can_use_tool", what)
        case "interrupt":
          return ok(V.interrupt, "control_request/interrupt", what)
        case "set_permission_mode":
          return ok(V.setPermissionMode, "control_request/set_permission_mode", what)
        default:
          return ok(V.otherRequest, "control_request", what)
      }
    }
    case "control_response": {
      const response = field(value, "response")
      const subtype =
        typeof response === "object" && response !== null ? field(response, "subtype") : undefined
      if (subtype === "error") return ok(V.controlError, "control_response")
      if (subtype === "success" || typeof response !== "object" || response === null) {
        return ok(V.controlSuccess, "control_response")
      }
      const got =
        subtype === undefined ? "Missing key" : `Expected "success" or "error", got ${describeJson(subtype)}`
      return Result.fail(badShape(line, type, "response.subtype", got))
    }
    case "control_cancel_request":
      return ok(V.cancel, "control_cancel_request")
    case "keep_alive":
      return ok(V.keepAlive, "keep_alive")
    default:
      return Result.succeed({ kind: "unknown", message: value as UnknownMessage })
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * Decodes one stream-json line (without its newline) into a typed message, an unknown-but-JSON message
 * (`kind: "unknown"`, passed through), or a {@link ProtocolError}: AGH_PROTO_NOT_JSON, AGH_PROTO_BAD_SHAPE,
 * AGH_PROTO_LINE_TOO_LONG, AGH_PROTO_BAD_UTF8 (bytes only). Never throws.
 *
 * @example
 * const decoded = decodeAgentLine('{"type":"keep_alive"}')
 * if (Result.isSuccess(decoded) && decoded.success.kind === "keep_alive") { ... }
 */
export function decodeAgentLine(
  input: string | Uint8Array,
  options: DecodeLineOptions = {},
): Result.Result<DecodedMessage, ProtocolError> {
  const { line } = options
  const limit = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  let text: string
  if (typeof input === "string") {
    // A string is at most 3 UTF-8 bytes per UTF-16 unit, so the exact count is only needed near the cap.
    if (input.length * 3 > limit) {
      const bytes = Buffer.byteLength(input, "utf8")
      if (bytes > limit) return Result.fail(lineTooLongError(line, bytes, limit))
    }
    text = input
  } else {
    if (input.byteLength > limit) return Result.fail(lineTooLongError(line, input.byteLength, limit))
    try {
      text = utf8.decode(input)
    } catch (cause) {
      return Result.fail(badUtf8Error(line, options.offset, cause))
    }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    // The parser's own wording differs between Node versions; it stays in `cause`, out of the message.
    return Result.fail(
      new ProtocolError({
        reason: "NotJson",
        message: `${lineLabel(line)} is not JSON: ${excerpt(text)}`,
        cause,
        ...(line === undefined ? {} : { line }),
      }),
    )
  }
  return decodeMessage(value, line)
}

/**
 * Validates the payload of a `can_use_tool` answer. The error names the field (`behavior`, `message`, ...).
 */
export function decodePermissionResult(value: unknown): Result.Result<PermissionResult, ProtocolError> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Result.fail(
      badShape(undefined, "permission result", "", `expected a JSON object, got ${describeJson(value)}`),
    )
  }
  const behavior = field(value, "behavior")
  if (behavior !== "allow" && behavior !== "deny") {
    const problem =
      behavior === undefined ? "Missing key" : `Expected "allow" or "deny", got ${describeJson(behavior)}`
    return Result.fail(badShape(undefined, "permission result", "behavior", problem))
  }
  const error = check(behavior === "allow" ? V.allow : V.deny, value, "permission result", undefined)
  return error === undefined ? Result.succeed(value as PermissionResult) : Result.fail(error)
}
