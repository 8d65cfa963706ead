import { HttpCodedError, httpCodeTable } from "../errors/codedError.js"
/** Code and HTTP status per reason: what a client of `/v1/code/triggers` relies on (docs/errors.md). */
export const TRIGGER_ERRORS = httpCodeTable({
  NotFound: { code: "AGH_TRIGGER_NOT_FOUND", status: 404 },
  Invalid: { code: "AGH_TRIGGER_INVALID", status: 400 },
  Disabled: { code: "AGH_TRIGGER_DISABLED", status: 409 },
  ProjectUnsupported: { code: "AGH_TRIGGER_PROJECT_UNSUPPORTED", status: 422 },
  NoLauncher: { code: "AGH_TRIGGER_NO_LAUNCHER", status: 503 },
  BadEvent: { code: "AGH_TRIGGER_BAD_EVENT", status: 500 },
  StoreFailed: { code: "AGH_TRIGGER_STORE_FAILED", status: 500 },
  Closed: { code: "AGH_TRIGGER_STORE_CLOSED", status: 503 },
})

/** Why a trigger operation failed: a key of {@link TRIGGER_ERRORS}. */
export type TriggerErrorReason = keyof typeof TRIGGER_ERRORS

/**
 * A refused or failed trigger operation. It carries `code` and `status`, so the HTTP router renders it as
 * `{ error: { code, message } }` without a mapping of its own.
 */
export class TriggerError extends HttpCodedError("TriggerError", TRIGGER_ERRORS)<{
  readonly triggerId?: string
  /** For `Invalid`: the offending field (`schedule.cron`). */
  readonly field?: string
}> {}

/** `AGH_TRIGGER_NOT_FOUND` naming the id. */
export function triggerNotFound(id: string): TriggerError {
  return new TriggerError({ reason: "NotFound", triggerId: id, message: `no trigger ${JSON.stringify(id)}` })
}
