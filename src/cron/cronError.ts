import { CodedError, codeTable } from "../errors/codedError.js"
/**
 * Stable code per reason (docs/errors.md). Expression, zone and task id share one code: each is "the schedule
 * you gave is not valid".
 */
export const CRON_ERROR_CODES = codeTable({
  InvalidExpression: "AGH_CRON_INVALID",
  InvalidTimeZone: "AGH_CRON_INVALID",
  InvalidTaskId: "AGH_CRON_INVALID",
  InvalidJitterConfig: "AGH_CRON_CONFIG_INVALID",
  NoNextRun: "AGH_CRON_NO_NEXT_RUN",
})

/** Why a cron operation was refused: a key of {@link CRON_ERROR_CODES}. */
export type CronErrorReason = keyof typeof CRON_ERROR_CODES

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
