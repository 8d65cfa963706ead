import * as Schema from "effect/Schema"
import { type BoundaryParser, makeEventParser, makeInputParser } from "./eventParser.js"
import { EpochMs, Id, JsonObject, NonNegativeInt, SdkMessageSchema } from "./schemaFields.js"
import { SESSION_EVENT, SESSION_MACHINE_NAME, type SessionEvent, type SessionInput } from "./sessionTypes.js"

const at = EpochMs
const UserContentSchema = Schema.Union([Schema.String, Schema.Array(JsonObject)])

const SessionInputSchema = Schema.Struct({
  sessionId: Id,
  agent: Id,
  workDir: Schema.String,
  createdAt: EpochMs,
  title: Schema.optionalKey(Schema.String),
  skipPermissions: Schema.optionalKey(Schema.Boolean),
  permissionTimeoutMs: Schema.optionalKey(NonNegativeInt),
  startTimeoutMs: Schema.optionalKey(NonNegativeInt),
})

/**
 * Validates an untrusted session event (what the runtime does before `send`). Returns the decoded event —
 * unknown keys dropped, except inside SDK messages, which are kept whole — or a coded
 * `MachineEventError` (`AGH_MACHINE_UNKNOWN_EVENT`, `AGH_MACHINE_BAD_EVENT`).
 */
export const parseSessionEvent: BoundaryParser<SessionEvent> = makeEventParser<SessionEvent>(
  SESSION_MACHINE_NAME,
  {
    [SESSION_EVENT.agentReady]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.agentReady),
      at,
      pid: Schema.optionalKey(NonNegativeInt),
    }),
    [SESSION_EVENT.agentFailedToStart]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.agentFailedToStart),
      at,
      message: Schema.String,
      code: Schema.optionalKey(Schema.String),
    }),
    [SESSION_EVENT.startTimedOut]: Schema.Struct({ type: Schema.Literal(SESSION_EVENT.startTimedOut) }),
    [SESSION_EVENT.userMessage]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.userMessage),
      at,
      messageId: Id,
      content: UserContentSchema,
    }),
    [SESSION_EVENT.agentMessage]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.agentMessage),
      at,
      message: SdkMessageSchema,
    }),
    [SESSION_EVENT.permissionRequested]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.permissionRequested),
      at,
      requestId: Id,
      toolName: Schema.String,
      toolUseId: Schema.optionalKey(Schema.String),
      request: Schema.optionalKey(SdkMessageSchema),
    }),
    [SESSION_EVENT.permissionAnswered]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.permissionAnswered),
      at,
      requestId: Id,
      behavior: Schema.Literals(["allow", "deny"]),
      updatedInput: Schema.optionalKey(JsonObject),
      message: Schema.optionalKey(Schema.String),
      interrupt: Schema.optionalKey(Schema.Boolean),
      clientId: Schema.optionalKey(Schema.String),
    }),
    [SESSION_EVENT.permissionCancelled]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.permissionCancelled),
      at,
      requestId: Id,
    }),
    [SESSION_EVENT.permissionTimedOut]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.permissionTimedOut),
      requestId: Id,
    }),
    [SESSION_EVENT.interruptRequested]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.interruptRequested),
      at,
      clientId: Schema.optionalKey(Schema.String),
      cancelQueued: Schema.optionalKey(Schema.Boolean),
    }),
    [SESSION_EVENT.turnCompleted]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.turnCompleted),
      at,
      result: SdkMessageSchema,
    }),
    [SESSION_EVENT.closeRequested]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.closeRequested),
      at,
      reason: Schema.optionalKey(Schema.String),
    }),
    [SESSION_EVENT.agentExited]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.agentExited),
      at,
      code: Schema.NullOr(Schema.Finite.check(Schema.isInt())),
      signal: Schema.NullOr(Schema.String),
      reason: Schema.optionalKey(Schema.String),
    }),
    [SESSION_EVENT.killRequested]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.killRequested),
      at,
      reason: Schema.optionalKey(Schema.String),
    }),
    [SESSION_EVENT.protocolError]: Schema.Struct({
      type: Schema.Literal(SESSION_EVENT.protocolError),
      at,
      code: Schema.String,
      message: Schema.String,
    }),
  },
)

/** Validates a session machine input (`AGH_MACHINE_BAD_INPUT` naming the field). */
export const parseSessionInput: BoundaryParser<SessionInput> = makeInputParser<SessionInput>(
  SESSION_MACHINE_NAME,
  SessionInputSchema,
)
