import { type CodeAndStatus, HttpCodedError } from "../errors/codedError.js"
/** Why a scheduler request was refused. Each reason has one stable code and HTTP status (docs/errors.md). */
export type SchedulerErrorReason =
  /** A session-only task fired for a session the host no longer has (or that has ended). */
  | "SessionGone"
  /** The scheduler was closed: no new work is taken. */
  | "Closed"
  /** `<home>/cron.json` (or a jitter update) is not a valid scheduler configuration; the old one stays. */
  | "ConfigInvalid"
  /** The project registry `<home>/cron/projects.json` cannot be read or written. */
  | "RegistryIo"

/** Code and HTTP status per reason. */
export const SCHEDULER_ERRORS: Readonly<Record<SchedulerErrorReason, CodeAndStatus>> = {
  SessionGone: { code: "AGH_CRON_SESSION_GONE", status: 409 },
  Closed: { code: "AGH_CRON_SCHEDULER_CLOSED", status: 503 },
  ConfigInvalid: { code: "AGH_CRON_CONFIG_INVALID", status: 400 },
  RegistryIo: { code: "AGH_CRON_REGISTRY_IO", status: 500 },
}

/**
 * A scheduler failure, e.g. `session s_0123… of task 0a1b2c3d has ended: its prompt was not delivered`.
 * Carries its HTTP status, so the cron routes can throw it as it is.
 */
export class SchedulerError extends HttpCodedError("SchedulerError", SCHEDULER_ERRORS)<{
  /** The field at fault, for configuration errors. */
  readonly field?: string
}> {}
