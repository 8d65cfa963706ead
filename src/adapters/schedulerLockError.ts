import { CodedError, codeTable } from "../errors/codedError.js"
/** The stable code of each reason, as listed in docs/errors.md. */
export const SCHEDULER_LOCK_ERROR_CODES = codeTable({
  Held: "AGH_LOCK_HELD",
  Io: "AGH_LOCK_IO",
  Invalid: "AGH_LOCK_INVALID",
})

/** Why a scheduler-lock operation failed: a key of {@link SCHEDULER_LOCK_ERROR_CODES}. */
export type SchedulerLockErrorReason = keyof typeof SCHEDULER_LOCK_ERROR_CODES

/**
 * A scheduler-lock failure. `Held` is also carried, not thrown, by a refused acquisition so callers can
 * print it; `Io` names the file and the operation that failed.
 */
export class SchedulerLockError extends CodedError("SchedulerLockError", SCHEDULER_LOCK_ERROR_CODES)<{
  /** The lock (or helper) file the error is about. */
  readonly path: string
}> {}

function pad2(n: number): string {
  return String(n).padStart(2, "0")
}

/**
 * Local wall time of `ms`: `12:00:03` when it is the same local day as `nowMs`, else with the date, so an
 * old lock does not read as a recent one.
 */
export function formatLockTime(ms: number, nowMs: number): string {
  const at = new Date(ms)
  const now = new Date(nowMs)
  const time = `${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())}`
  const sameDay =
    at.getFullYear() === now.getFullYear() &&
    at.getMonth() === now.getMonth() &&
    at.getDate() === now.getDate()
  return sameDay ? time : `${at.getFullYear()}-${pad2(at.getMonth() + 1)}-${pad2(at.getDate())} ${time}`
}
