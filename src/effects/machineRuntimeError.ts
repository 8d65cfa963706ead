import { CodedError, codeTable } from "../errors/codedError.js"
/** Stable code per reason (docs/errors.md). */
export const MACHINE_RUNTIME_ERROR_CODES = codeTable({
  ActorDone: "AGH_MACHINE_ACTOR_DONE",
  DuplicateActor: "AGH_MACHINE_DUPLICATE_ACTOR",
  ActorFailed: "AGH_MACHINE_ACTOR_FAILED",
})

/** Why the machine runtime refused a request: a key of {@link MACHINE_RUNTIME_ERROR_CODES}. */
export type MachineRuntimeErrorReason = keyof typeof MACHINE_RUNTIME_ERROR_CODES

/** Written as a `note` (never thrown) when an effect implementation supplied by the caller throws or rejects. */
export const EFFECT_FAILED_CODE = "AGH_MACHINE_EFFECT_FAILED"

/**
 * A machine runtime request that could not be carried out, e.g.
 * `actor session (session) is completed: event "session.userMessage" was not sent`.
 */
export class MachineRuntimeError extends CodedError("MachineRuntimeError", MACHINE_RUNTIME_ERROR_CODES)<{
  /** Actor id within the stream (`session`, `connection:c1`). */
  readonly actor: string
  readonly eventType?: string
}> {}
