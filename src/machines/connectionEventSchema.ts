import * as Schema from "effect/Schema"
import {
  CONNECTION_EVENT,
  CONNECTION_MACHINE_NAME,
  type ConnectionEvent,
  type ConnectionInput,
} from "./connectionTypes.js"
import { type BoundaryParser, makeEventParser, makeInputParser } from "./eventParser.js"
import { EpochMs, Id, NonNegativeInt } from "./schemaFields.js"

const at = EpochMs

const ConnectionInputSchema = Schema.Struct({
  connectionId: Id,
  side: Schema.Literals(["host", "client"]),
  sessionId: Schema.optionalKey(Id),
  afterSeq: Schema.optionalKey(NonNegativeInt),
  maxBadFrames: Schema.optionalKey(NonNegativeInt),
  reconnect: Schema.optionalKey(
    Schema.Struct({
      initialDelayMs: NonNegativeInt,
      maxDelayMs: NonNegativeInt,
      maxAttempts: NonNegativeInt,
    }),
  ),
})

/** Validates an untrusted connection event; see {@link parseSessionEvent} for the contract. */
export const parseConnectionEvent: BoundaryParser<ConnectionEvent> = makeEventParser<ConnectionEvent>(
  CONNECTION_MACHINE_NAME,
  {
    [CONNECTION_EVENT.opened]: Schema.Struct({ type: Schema.Literal(CONNECTION_EVENT.opened), at }),
    [CONNECTION_EVENT.authFailed]: Schema.Struct({
      type: Schema.Literal(CONNECTION_EVENT.authFailed),
      at,
      message: Schema.String,
    }),
    [CONNECTION_EVENT.messageReceived]: Schema.Struct({
      type: Schema.Literal(CONNECTION_EVENT.messageReceived),
      at,
      seq: Schema.optionalKey(NonNegativeInt),
    }),
    [CONNECTION_EVENT.badFrame]: Schema.Struct({
      type: Schema.Literal(CONNECTION_EVENT.badFrame),
      at,
      code: Schema.String,
      message: Schema.String,
    }),
    [CONNECTION_EVENT.dropped]: Schema.Struct({
      type: Schema.Literal(CONNECTION_EVENT.dropped),
      at,
      code: Schema.optionalKey(NonNegativeInt),
      reason: Schema.optionalKey(Schema.String),
    }),
    [CONNECTION_EVENT.retryDue]: Schema.Struct({
      type: Schema.Literal(CONNECTION_EVENT.retryDue),
      attempt: NonNegativeInt,
    }),
    [CONNECTION_EVENT.reconnected]: Schema.Struct({ type: Schema.Literal(CONNECTION_EVENT.reconnected), at }),
    [CONNECTION_EVENT.closeRequested]: Schema.Struct({
      type: Schema.Literal(CONNECTION_EVENT.closeRequested),
      at,
      reason: Schema.optionalKey(Schema.String),
    }),
    [CONNECTION_EVENT.kill]: Schema.Struct({
      type: Schema.Literal(CONNECTION_EVENT.kill),
      at,
      reason: Schema.optionalKey(Schema.String),
    }),
  },
)

/** Validates a connection machine input (`AGH_MACHINE_BAD_INPUT` naming the field). */
export const parseConnectionInput: BoundaryParser<ConnectionInput> = makeInputParser<ConnectionInput>(
  CONNECTION_MACHINE_NAME,
  ConnectionInputSchema,
)
