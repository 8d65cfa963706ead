import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { MachineEventError } from "./machineEventError.js"

/** What every machine event looks like at the boundary: a dot-namespaced `type` plus fields. */
export interface MachineEvent {
  readonly type: string
}

/** A boundary validator: never throws, returns the typed value or a coded {@link MachineEventError}. */
export type BoundaryParser<T> = (input: unknown) => Result.Result<T, MachineEventError>

/** One schema per event type of a machine. */
export type EventSchemas<E extends MachineEvent> = {
  readonly [K in E["type"]]: Schema.Decoder<Extract<E, { readonly type: K }>>
}

// Schema messages are multi-line ("Expected number\n  at [\"at\"]"); error messages and log notes are one line.
const oneLine = (message: string): string => message.replace(/\s*\n\s*/g, " ")

/**
 * Builds `parse<Machine>Event`: looks the schema up by `type` (so an unknown type gets its own code and a
 * message listing the known ones, instead of a union's unreadable mismatch), then decodes. Unknown keys are
 * dropped: the decoded value — the one the machine receives and the log records — holds only known fields.
 */
export function makeEventParser<E extends MachineEvent>(
  machine: string,
  schemas: EventSchemas<E>,
): BoundaryParser<E> {
  const table = schemas as Readonly<Record<string, Schema.Decoder<unknown>>>
  const decoders = new Map<string, (input: unknown) => Result.Result<unknown, Schema.SchemaError>>()
  for (const [type, schema] of Object.entries(table)) decoders.set(type, Schema.decodeUnknownResult(schema))
  const known = [...decoders.keys()].join(", ")
  return (input) => {
    const type =
      typeof input === "object" && input !== null ? (input as { readonly type?: unknown }).type : undefined
    if (typeof type !== "string") {
      return Result.fail(
        new MachineEventError({
          reason: "InvalidEvent",
          machine,
          message: `${machine}: an event must be an object with a string "type", got ${describe(input)}`,
        }),
      )
    }
    const decode = decoders.get(type)
    if (decode === undefined) {
      return Result.fail(
        new MachineEventError({
          reason: "UnknownEventType",
          machine,
          eventType: type,
          message: `${machine}: unknown event type ${JSON.stringify(type)} (known: ${known})`,
        }),
      )
    }
    const decoded = decode(input)
    if (Result.isSuccess(decoded)) return Result.succeed(decoded.success as E)
    return Result.fail(
      new MachineEventError({
        reason: "InvalidEvent",
        machine,
        eventType: type,
        message: `${machine}: event ${JSON.stringify(type)} is invalid: ${oneLine(decoded.failure.message)}`,
        cause: decoded.failure,
      }),
    )
  }
}

/** Builds `parse<Machine>Input` from the input schema. */
export function makeInputParser<I>(machine: string, schema: Schema.Decoder<I>): BoundaryParser<I> {
  const decode = Schema.decodeUnknownResult(schema)
  return (input) => {
    const decoded = decode(input)
    if (Result.isSuccess(decoded)) return Result.succeed(decoded.success as I)
    return Result.fail(
      new MachineEventError({
        reason: "InvalidInput",
        machine,
        message: `${machine}: machine input is invalid: ${oneLine(decoded.failure.message)}`,
        cause: decoded.failure,
      }),
    )
  }
}

function describe(value: unknown): string {
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  if (typeof value === "object") return "an object without a string type"
  return typeof value
}
