import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { LogRecord, NoteBody } from "../eventlog/logRecord.js"
import { TriggerError } from "./triggerError.js"

/**
 * The events of the trigger store: past tense, dot-namespaced, each a fact the fold applies (docs/triggers.md).
 * These shapes are stored in the event log: add optional fields, never rename or retype one.
 */
export const TRIGGER_EVENT = {
  created: "trigger.created",
  updated: "trigger.updated",
  deleted: "trigger.deleted",
  runStarted: "trigger.runStarted",
  runNotStarted: "trigger.runNotStarted",
  runFinished: "trigger.runFinished",
  slotClaimed: "trigger.slotClaimed",
} as const

/** `actor` of every trigger record: the store is one logical actor over the `triggers` stream. */
export const TRIGGER_LOG_ACTOR = "triggers"

const ProjectSchema = Schema.Union([
  Schema.Struct({ work_dir: Schema.String }),
  Schema.Struct({
    repository: Schema.Struct({ url: Schema.String, ref: Schema.optionalKey(Schema.String) }),
  }),
])

const ScheduleSchema = Schema.Struct({ cron: Schema.String, tz: Schema.optionalKey(Schema.String) })

const ReasonSchema = Schema.Literals(["manual", "schedule"])

const TriggerCreated = Schema.Struct({
  type: Schema.Literal(TRIGGER_EVENT.created),
  trigger: Schema.Struct({
    id: Schema.String,
    name: Schema.String,
    prompt: Schema.String,
    project: ProjectSchema,
    agent: Schema.String,
    schedule: Schema.NullOr(ScheduleSchema),
    enabled: Schema.Boolean,
    created_at: Schema.Finite,
  }),
})

const TriggerUpdated = Schema.Struct({
  type: Schema.Literal(TRIGGER_EVENT.updated),
  id: Schema.String,
  changes: Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    prompt: Schema.optionalKey(Schema.String),
    project: Schema.optionalKey(ProjectSchema),
    agent: Schema.optionalKey(Schema.String),
    schedule: Schema.optionalKey(Schema.NullOr(ScheduleSchema)),
    enabled: Schema.optionalKey(Schema.Boolean),
  }),
  updated_at: Schema.Finite,
})

const TriggerDeleted = Schema.Struct({
  type: Schema.Literal(TRIGGER_EVENT.deleted),
  id: Schema.String,
  deleted_at: Schema.Finite,
})

const TriggerRunStarted = Schema.Struct({
  type: Schema.Literal(TRIGGER_EVENT.runStarted),
  id: Schema.String,
  run_id: Schema.String,
  session_id: Schema.String,
  started_at: Schema.Finite,
  reason: ReasonSchema,
})

const TriggerRunNotStarted = Schema.Struct({
  type: Schema.Literal(TRIGGER_EVENT.runNotStarted),
  id: Schema.String,
  run_id: Schema.String,
  started_at: Schema.Finite,
  reason: ReasonSchema,
  status: Schema.Literals(["start_failed", "skipped"]),
  error: Schema.Struct({ code: Schema.String, message: Schema.String }),
})

const TriggerRunFinished = Schema.Struct({
  type: Schema.Literal(TRIGGER_EVENT.runFinished),
  id: Schema.String,
  run_id: Schema.String,
  status: Schema.Literals(["completed", "failed", "killed", "interrupted"]),
  finished_at: Schema.Finite,
  detail: Schema.optionalKey(Schema.String),
})

/**
 * The scheduler took a scheduled slot of the trigger, before starting its run: `schedule_from` moves to
 * `fired_at` first, so a crash between the claim and the run's start loses that run rather than firing it
 * twice (the task file's `lastFiredAt` compare-and-set, for triggers).
 */
const TriggerSlotClaimed = Schema.Struct({
  type: Schema.Literal(TRIGGER_EVENT.slotClaimed),
  id: Schema.String,
  fired_at: Schema.Finite,
  /** The slot's jittered fire time (earlier than `fired_at` for a fire missed while no host ran). */
  due_at: Schema.Finite,
})

/** Every trigger event, as stored in the log (the `data` of a `note` record whose `code` is its type). */
export const TriggerEventSchema = Schema.Union([
  TriggerCreated,
  TriggerUpdated,
  TriggerDeleted,
  TriggerRunStarted,
  TriggerRunNotStarted,
  TriggerRunFinished,
  TriggerSlotClaimed,
])

/** Any trigger event. */
export type TriggerEvent = typeof TriggerEventSchema.Type
/** A trigger was created, with its whole definition. */
export type TriggerCreatedEvent = typeof TriggerCreated.Type
/** Some fields of a trigger changed. */
export type TriggerUpdatedEvent = typeof TriggerUpdated.Type
/** A trigger was deleted. */
export type TriggerDeletedEvent = typeof TriggerDeleted.Type
/** A run's session was created. */
export type TriggerRunStartedEvent = typeof TriggerRunStarted.Type
/** A run was refused or skipped: no session. */
export type TriggerRunNotStartedEvent = typeof TriggerRunNotStarted.Type
/** A running run's session ended (or the host stopped). */
export type TriggerRunFinishedEvent = typeof TriggerRunFinished.Type
/** The scheduler claimed a scheduled slot. */
export type TriggerSlotClaimedEvent = typeof TriggerSlotClaimed.Type

/**
 * One check per record, picked by the note's code: a union would try its members in turn, and reopening
 * folds every record of the stream. The full decode runs only to explain a failure.
 */
const CHECKS: ReadonlyMap<string, { readonly is: (u: unknown) => boolean; readonly schema: Schema.Top }> =
  new Map(
    TriggerEventSchema.members.map(
      (member) => [member.fields.type.literal, { is: Schema.is(member), schema: member }] as const,
    ),
  )

function describe(event: TriggerEvent): string {
  switch (event.type) {
    case TRIGGER_EVENT.created:
      return `trigger ${event.trigger.id} created (${JSON.stringify(event.trigger.name)})`
    case TRIGGER_EVENT.updated:
      return `trigger ${event.id} updated (${Object.keys(event.changes).join(", ")})`
    case TRIGGER_EVENT.deleted:
      return `trigger ${event.id} deleted`
    case TRIGGER_EVENT.runStarted:
      return `run ${event.run_id} of trigger ${event.id} (${event.reason}) started session ${event.session_id}`
    case TRIGGER_EVENT.runNotStarted:
      return `run ${event.run_id} of trigger ${event.id} (${event.reason}) ${event.status}: ${event.error.code}`
    case TRIGGER_EVENT.runFinished:
      return `run ${event.run_id} of trigger ${event.id} ${event.status}`
    case TRIGGER_EVENT.slotClaimed:
      return `trigger ${event.id}: scheduled slot due ${new Date(event.due_at).toISOString()} claimed`
  }
}

/**
 * The log record body of an event. Trigger events are not machine events, so they are `note` records —
 * `agenthost replay` shows them in the timeline and `--verify` has nothing to re-run for them.
 */
export function triggerEventRecord(event: TriggerEvent): NoteBody {
  return { type: "note", actor: TRIGGER_LOG_ACTOR, code: event.type, message: describe(event), data: event }
}

/**
 * The trigger event a record holds; undefined for records that are not trigger events (a note another
 * writer left, a future kind of record). A record that claims to be a trigger event but does not decode is
 * `AGH_TRIGGER_BAD_EVENT` naming the stream and the seq: skipping it would silently change the state.
 */
export function triggerEventOf(
  record: LogRecord,
  stream: string,
): Result.Result<TriggerEvent | undefined, TriggerError> {
  const body = record.body
  const check = body.type === "note" ? CHECKS.get(body.code) : undefined
  if (body.type !== "note" || check === undefined) return Result.succeed(undefined)
  if (check.is(body.data)) return Result.succeed(body.data as TriggerEvent)
  const decoded = Schema.decodeUnknownResult(check.schema as Schema.Decoder<unknown>, { errors: "all" })(
    body.data,
  )
  const why = Result.isFailure(decoded) ? decoded.failure.message.replace(/\n\s*/g, "; ") : "invalid"
  return Result.fail(
    new TriggerError({
      reason: "BadEvent",
      message: `event log stream ${stream}, record ${record.seq}: not a valid ${body.code} event: ${why}`,
    }),
  )
}
