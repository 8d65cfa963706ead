import { CodedError } from "../errors/codedError.js"
/** Why a cron operation was refused. Each reason has one stable code (docs/errors.md). */
export type CronErrorReason =
  | "InvalidExpression"
  | "InvalidTimeZone"
  | "InvalidTaskId"
  | "InvalidJitterConfig"
  | "NoNextRun"

/** Stable code per reason. Expression, zone and task id share one code: each is "the schedule you gave is not valid". */
export const CRON_ERROR_CODES: Readonly<Record<CronErrorReason, string>> = {
  InvalidExpression: "AGH_CRON_INVALID",
  InvalidTimeZone: "AGH_CRON_INVALID",
  InvalidTaskId: "AGH_CRON_INVALID",
  InvalidJitterConfig: "AGH_CRON_CONFIG_INVALID",
  NoNextRun: "AGH_CRON_NO_NEXT_RUN",
}

/** The five fields of a cron expression, in order. */
export type CronFieldName = "minute" | "hour" | "dayOfMonth" | "month" | "dayOfWeek"

/**
 * A cron expression, time zone, task id or jitter configuration that cannot be used. The message names the
 * offending value (and for expressions the field), e.g.
 * `invalid cron expression "5/15 * * * *": minute field "5/15": ...`.
 */
export class CronError extends CodedError("CronError", CRON_ERROR_CODES)<{
  /** The expression (or zone, task id) as given. */
  readonly value?: string
  /** For expression errors, the field at fault. */
  readonly field?: CronFieldName
}> {}
