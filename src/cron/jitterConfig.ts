import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { CronError } from "./cronError.js"

const MINUTE = 60_000
/** The widest any jitter cap may be: a fire more than half an hour off its schedule is a different schedule. */
const MAX_CAP_MS = 30 * MINUTE

/** How far scheduled fires are spread (SPEC §7). Adjustable at run time; always validated first. */
export interface CronJitterConfig {
  /** Recurring: fraction (0..1) of the gap to the following run that a task may fire late. */
  readonly recurringFrac: number
  /** Recurring: upper bound on that delay, 0..30 min. */
  readonly recurringCapMs: number
  /** One-shot: the earliest a task on a round minute fires, 0..30 min ahead. */
  readonly oneShotMaxMs: number
  /** One-shot: the least it fires ahead, 0..30 min, ≤ `oneShotMaxMs`. */
  readonly oneShotFloorMs: number
  /** One-shot: only times whose minute is divisible by this (1..60) are pulled early. */
  readonly oneShotMinuteMod: number
  /** Recurring tasks that are not `permanent` expire this long after `createdAt` (≥ 0). */
  readonly recurringMaxAgeMs: number
}

/** SPEC §7 defaults: 10 % of the interval capped at 15 min late; up to 90 s early on :00 and :30; 7-day expiry. */
export const DEFAULT_CRON_JITTER_CONFIG: CronJitterConfig = Object.freeze({
  recurringFrac: 0.1,
  recurringCapMs: 15 * MINUTE,
  oneShotMaxMs: 90_000,
  oneShotFloorMs: 0,
  oneShotMinuteMod: 30,
  recurringMaxAgeMs: 7 * 24 * 60 * MINUTE,
})

const capMs = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_CAP_MS }))

/** The config's schema: every field required, no unknown keys (a misspelt key must not pass silently). */
export const CronJitterConfigSchema = Schema.Struct({
  recurringFrac: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  recurringCapMs: capMs,
  oneShotMaxMs: capMs,
  oneShotFloorMs: capMs,
  oneShotMinuteMod: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 60 })),
  recurringMaxAgeMs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
}).check(
  Schema.makeFilter((c) =>
    c.oneShotFloorMs <= c.oneShotMaxMs
      ? undefined
      : {
          path: ["oneShotFloorMs"],
          issue: `must not exceed oneShotMaxMs (${c.oneShotMaxMs}), got ${c.oneShotFloorMs}`,
        },
  ),
)

const decode = Schema.decodeUnknownResult(CronJitterConfigSchema, {
  errors: "all",
  onExcessProperty: "error",
  reportInput: true,
})

/**
 * Validates a jitter configuration. With `base`, `input` may be partial: the fields it has replace
 * `base`'s (how a running scheduler adjusts one knob). An invalid config is refused as a whole with an
 * `AGH_CRON_CONFIG_INVALID` error naming every bad field and its value; the caller keeps its old one.
 *
 * @example
 * const next = validateCronJitterConfig({ recurringFrac: 0.2 }, current)
 * if (Result.isSuccess(next)) current = next.success
 */
export function validateCronJitterConfig(
  input: unknown,
  base?: CronJitterConfig,
): Result.Result<CronJitterConfig, CronError> {
  const merged =
    base !== undefined && typeof input === "object" && input !== null && !Array.isArray(input)
      ? { ...base, ...input }
      : input
  const decoded = decode(merged)
  if (Result.isSuccess(decoded)) return Result.succeed(Object.freeze({ ...decoded.success }))
  // The formatter writes "message\n  at [\"field\"]" per issue; one line reads better in logs and on stderr.
  const detail = decoded.failure.message.replace(/(.+)\n {2}at \["(\w+)"\]/g, "$2: $1").replace(/\n/g, "; ")
  return Result.fail(
    new CronError({
      reason: "InvalidJitterConfig",
      message: `invalid cron jitter config: ${detail}`,
      cause: decoded.failure,
    }),
  )
}
