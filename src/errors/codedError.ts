import type * as Cause from "effect/Cause"
import * as Data from "effect/Data"

/** The stable code and the HTTP status a route answers with, for one reason of an error (docs/errors.md). */
export interface CodeAndStatus {
  readonly code: string
  readonly status: number
}

/**
 * A module's reason→code table, typed by its own keys: the module writes each reason once, in the table,
 * and derives its reason union from it. The codes stay `string`, not literal types a caller's code must
 * match.
 *
 * @example
 * export const CRON_ERROR_CODES = codeTable({
 *   InvalidExpression: "AGH_CRON_INVALID",
 *   NoNextRun: "AGH_CRON_NO_NEXT_RUN",
 * })
 * export type CronErrorReason = keyof typeof CRON_ERROR_CODES
 */
export function codeTable<Reason extends string>(
  codes: Readonly<Record<Reason, string>>,
): Readonly<Record<Reason, string>> {
  return codes
}

/** {@link codeTable} for an error a route renders: a code and an HTTP status per reason. */
export function httpCodeTable<Reason extends string>(
  table: Readonly<Record<Reason, CodeAndStatus>>,
): Readonly<Record<Reason, CodeAndStatus>> {
  return table
}

/**
 * What {@link CodedError} adds: `code` as an accessor (not a property), so a class may refine it with
 * `override get code()`, as `DirectConnectError` does to prefer the host's own code.
 */
export interface WithCode {
  get code(): string
}

/** What {@link HttpCodedError} adds: `code` and `status` as accessors. */
export interface WithCodeAndStatus extends WithCode {
  get status(): number
}

/** The fields every coded error has, whatever its module: why (`reason`), what (`message`) and the cause. */
export interface CodedErrorFields<Reason extends string> {
  readonly reason: Reason
  /** Names the value, file, offset or state at fault. */
  readonly message: string
  readonly cause?: unknown
}

/** The constructor argument: the common fields plus the class's own, `_tag` excluded as `Data` does. */
type Args<F> = { readonly [P in keyof F as P extends "_tag" ? never : P]: F[P] }

/**
 * The class {@link CodedError} and {@link HttpCodedError} return. Like `Data.TaggedError(tag)` it takes the
 * class's own fields as a type argument; `reason`, `message` and `cause` come with it, and `Added` (the
 * `code`, and for HTTP errors the `status`) is read from the table by `reason`.
 */
export type CodedErrorClass<Tag extends string, Reason extends string, Added> = new <A extends object = {}>(
  args: Args<CodedErrorFields<Reason> & A>,
) => Cause.YieldableError & { readonly _tag: Tag } & Readonly<CodedErrorFields<Reason>> & Readonly<A> & Added

/**
 * A tagged error class whose `code` is `codes[reason]`: each code is written once, in its module's table
 * (the one docs/errors.md lists), and no module writes the getter again.
 *
 * @example
 * export class CronError extends CodedError("CronError", CRON_ERROR_CODES)<{ readonly value?: string }> {}
 * new CronError({ reason: "NoNextRun", message: "...", value: "0 0 30 2 *" }).code // "AGH_CRON_NO_NEXT_RUN"
 */
export function CodedError<const Tag extends string, Reason extends string>(
  tag: Tag,
  codes: Readonly<Record<Reason, string>>,
): CodedErrorClass<Tag, Reason, WithCode> {
  class Coded extends Data.TaggedError(tag)<CodedErrorFields<Reason>> {
    /** The stable `AGH_*` code of the reason. */
    get code(): string {
      return codes[this.reason]
    }
  }
  // The generic constructor signature cannot be written on a class expression; the runtime class is the one.
  return Coded as unknown as CodedErrorClass<Tag, Reason, WithCode>
}

/**
 * A tagged error class with the `code` and HTTP `status` of `table[reason]`: the router renders it as
 * `{ error: { code, message } }` with that status (see `isHttpError` in src/server/serverError.ts) without
 * a mapping of its own.
 *
 * @example
 * export class TriggerError extends HttpCodedError("TriggerError", TRIGGER_ERRORS)<{
 *   readonly triggerId?: string
 * }> {}
 */
export function HttpCodedError<const Tag extends string, Reason extends string>(
  tag: Tag,
  table: Readonly<Record<Reason, CodeAndStatus>>,
): CodedErrorClass<Tag, Reason, WithCodeAndStatus> {
  const codes = Object.fromEntries(
    Object.entries<CodeAndStatus>(table).map(([reason, entry]) => [reason, entry.code]),
  ) as Record<Reason, string>
  class HttpCoded extends CodedError(tag, codes) {
    /** The HTTP status a route answers with for the reason. */
    get status(): number {
      return table[this.reason].status
    }
  }
  return HttpCoded as unknown as CodedErrorClass<Tag, Reason, WithCodeAndStatus>
}
