import { HttpCodedError, httpCodeTable } from "../errors/codedError.js"
/** Code and HTTP status per reason (docs/errors.md). */
export const SCHEDULER_ERRORS = httpCodeTable({
  /** A session-only task fired for a session the host no longer has (or that has ended). */
  SessionGone: { code: "AGH_CRON_SESSION_GONE", status: 409 },
  /** The scheduler was closed: no new work is taken. */
  Closed: { code: "AGH_CRON_SCHEDULER_CLOSED", status: 503 },
  /** `<home>/cron.json` (or a jitter update) is not a valid scheduler configuration; the old one stays. */
  ConfigInvalid: { code: "AGH_CRON_CONFIG_INVALID", status: 400 },
  /** The project registry `<home>/cron/projects.json` cannot be read or written. */
  RegistryIo: { code: "AGH_CRON_REGISTRY_IO", status: 500 },
})

/** Why a scheduler request was refused: a key of {@link SCHEDULER_ERRORS}. */
export type SchedulerErrorReason = keyof typeof SCHEDULER_ERRORS

/**
 * A scheduler failure, e.g. `session s_0123… of task 0a1b2c3d has ended: its prompt was not delivered`.
 * Carries its HTTP status, so the cron routes can throw it as it is.
 */
export class SchedulerError extends HttpCodedError("SchedulerError", SCHEDULER_ERRORS)<{
  /** The field at fault, for configuration errors. */
  readonly field?: string
}> {}
