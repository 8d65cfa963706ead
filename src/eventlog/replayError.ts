import { CodedError, codeTable } from "../errors/codedError.js"
/** Stable code per reason (docs/errors.md). */
export const REPLAY_ERROR_CODES = codeTable({
  Diverged: "AGH_REPLAY_DIVERGED",
  UnknownMachine: "AGH_REPLAY_UNKNOWN_MACHINE",
  VersionMismatch: "AGH_REPLAY_VERSION_MISMATCH",
  UnknownActor: "AGH_REPLAY_UNKNOWN_ACTOR",
})

/** Why replay could not confirm a record: a key of {@link REPLAY_ERROR_CODES}. */
export type ReplayErrorReason = keyof typeof REPLAY_ERROR_CODES

/** A state value and context digest, as logged (`expected`) or as replayed (`got`). */
export interface ReplayedState {
  readonly state: unknown
  readonly digest: string
}

/**
 * The first record replay could not confirm, e.g.
 * `record 42 (actor session, event session.turnCompleted) diverged: expected state running.idle digest
 * 1a2b3c4d, got running.busy digest 5e6f7a8b`.
 */
export class ReplayError extends CodedError("ReplayError", REPLAY_ERROR_CODES)<{
  readonly seq: number
  readonly actor: string | null
  readonly expected?: ReplayedState
  readonly got?: ReplayedState
}> {}
