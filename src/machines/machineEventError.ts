import { CodedError, codeTable } from "../errors/codedError.js"
/** Stable code per reason (docs/errors.md). */
export const MACHINE_EVENT_ERROR_CODES = codeTable({
  UnknownEventType: "AGH_MACHINE_UNKNOWN_EVENT",
  InvalidEvent: "AGH_MACHINE_BAD_EVENT",
  InvalidInput: "AGH_MACHINE_BAD_INPUT",
})

/** Why a machine refused an event or an input at its boundary: a key of {@link MACHINE_EVENT_ERROR_CODES}. */
export type MachineEventErrorReason = keyof typeof MACHINE_EVENT_ERROR_CODES

/**
 * An event (or a machine input) that does not have the shape the machine expects. Nothing was sent to the
 * machine. The message names the machine, the event type and the offending field, e.g.
 * `session: event "session.agentExited" is invalid: Expected number at ["at"]`.
 */
export class MachineEventError extends CodedError("MachineEventError", MACHINE_EVENT_ERROR_CODES)<{
  /** Machine name (`session`, `connection`, `cronTask`). */
  readonly machine: string
  /** The event's `type` when it had a string one. */
  readonly eventType?: string
}> {}
