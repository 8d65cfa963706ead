import * as Schema from "effect/Schema"
import {
  CRON_TASK_EVENT,
  CRON_TASK_MACHINE_NAME,
  type CronTaskEvent,
  type CronTaskInput,
} from "./cronTaskTypes.js"
import { type BoundaryParser, makeEventParser, makeInputParser } from "./eventParser.js"
import { EpochMs, NonNegativeInt } from "./schemaFields.js"

const at = EpochMs

const JitterSchema = Schema.Struct({
  recurringFrac: Schema.Finite,
  recurringCapMs: NonNegativeInt,
  oneShotMaxMs: NonNegativeInt,
  oneShotFloorMs: NonNegativeInt,
  oneShotMinuteMod: NonNegativeInt,
  recurringMaxAgeMs: NonNegativeInt,
})

const CronTaskInputSchema = Schema.Struct({
  task: Schema.Struct({
    id: Schema.String.check(Schema.isPattern(/^[0-9a-f]{8}$/)),
    cron: Schema.String,
    prompt: Schema.String,
    createdAt: EpochMs,
    lastFiredAt: Schema.optionalKey(EpochMs),
    recurring: Schema.optionalKey(Schema.Boolean),
    permanent: Schema.optionalKey(Schema.Boolean),
    durable: Schema.optionalKey(Schema.Boolean),
    agentId: Schema.optionalKey(Schema.String),
  }),
  jitter: JitterSchema,
})

/**
 * Validates an untrusted cron task event; see {@link parseSessionEvent} for the contract. The jitter
 * configuration is checked for shape only: its ranges are the cron module's to validate
 * (`validateCronJitterConfig`) before the runtime sends `cronTask.configChanged`.
 */
export const parseCronTaskEvent: BoundaryParser<CronTaskEvent> = makeEventParser<CronTaskEvent>(
  CRON_TASK_MACHINE_NAME,
  {
    [CRON_TASK_EVENT.scheduled]: Schema.Struct({
      type: Schema.Literal(CRON_TASK_EVENT.scheduled),
      at,
      fireAt: Schema.NullOr(EpochMs),
    }),
    [CRON_TASK_EVENT.fired]: Schema.Struct({ type: Schema.Literal(CRON_TASK_EVENT.fired), fireAt: EpochMs }),
    [CRON_TASK_EVENT.missed]: Schema.Struct({
      type: Schema.Literal(CRON_TASK_EVENT.missed),
      at,
      fireAt: EpochMs,
    }),
    [CRON_TASK_EVENT.skipped]: Schema.Struct({
      type: Schema.Literal(CRON_TASK_EVENT.skipped),
      at,
      fireAt: EpochMs,
      reason: Schema.String,
    }),
    [CRON_TASK_EVENT.expired]: Schema.Struct({ type: Schema.Literal(CRON_TASK_EVENT.expired), at }),
    [CRON_TASK_EVENT.deleted]: Schema.Struct({ type: Schema.Literal(CRON_TASK_EVENT.deleted), at }),
    [CRON_TASK_EVENT.invalid]: Schema.Struct({
      type: Schema.Literal(CRON_TASK_EVENT.invalid),
      at,
      message: Schema.String,
    }),
    [CRON_TASK_EVENT.configChanged]: Schema.Struct({
      type: Schema.Literal(CRON_TASK_EVENT.configChanged),
      at,
      jitter: JitterSchema,
    }),
  },
)

/** Validates a cron task machine input (`AGH_MACHINE_BAD_INPUT` naming the field). */
export const parseCronTaskInput: BoundaryParser<CronTaskInput> = makeInputParser<CronTaskInput>(
  CRON_TASK_MACHINE_NAME,
  CronTaskInputSchema,
)
