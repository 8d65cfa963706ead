import * as Schema from "effect/Schema"
import {
  checkCron,
  checkName,
  checkPrompt,
  checkRef,
  checkRepositoryUrl,
  checkWorkDir,
  checkZone,
} from "./triggerChecks.js"
import { RUN_REASONS, RUN_STATUSES, type TriggerProject } from "./triggerTypes.js"

/**
 * Schemas of `/v1/code/triggers`: request bodies are validated with them (unknown fields refused, every
 * failure naming its field, `AGH_BAD_REQUEST`), response schemas only document (`GET /openapi.json`).
 * Request schemas carry no `identifier`, so messages say what was expected rather than a schema's name.
 */

const checked = (check: (value: string) => string | undefined) =>
  Schema.String.check(Schema.makeFilter((value: string) => check(value) ?? true))

const Name = checked(checkName).annotate({ description: "Shown in listings; 1-200 characters" })
const Prompt = checked(checkPrompt).annotate({ description: "The first user message of each run's session" })

const WorkDir = checked(checkWorkDir).annotate({
  description: "Absolute path of an existing directory inside one of the host's work roots",
})

const Repository = Schema.Struct({
  url: checked(checkRepositoryUrl),
  ref: Schema.optionalKey(checked(checkRef).annotate({ description: "Branch, tag or commit" })),
})

/**
 * A project as a request gives it. One struct with a check rather than a union, so a mistake is reported
 * once, at its field (`project.repository.url`), not once per union member.
 */
const ProjectBody = Schema.Struct({
  work_dir: Schema.optionalKey(WorkDir),
  repository: Schema.optionalKey(Repository),
})
  .check(
    Schema.makeFilter(
      (p: { readonly work_dir?: string; readonly repository?: unknown }) =>
        (p.work_dir === undefined) !== (p.repository === undefined) ||
        "give exactly one of work_dir and repository: { url, ref? }",
    ),
  )
  .annotate({ description: "Exactly one of { work_dir } and { repository: { url, ref? } }" })

/** The project of a validated body, in the store's shape. */
export function projectOf(body: typeof ProjectBody.Type): TriggerProject {
  return body.repository !== undefined ? { repository: body.repository } : { work_dir: body.work_dir ?? "" }
}

const ProjectDoc = Schema.Union([
  Schema.Struct({ work_dir: WorkDir }),
  Schema.Struct({ repository: Repository }),
])

const Schedule = Schema.Struct({
  cron: checked(checkCron).annotate({ description: "5-field cron expression (Vixie cron)" }),
  tz: Schema.optionalKey(
    checked(checkZone).annotate({ description: "IANA time zone; default: the host's zone" }),
  ),
})

/** `POST /v1/code/triggers`. */
export const CreateTriggerBody = Schema.Struct({
  name: Name,
  prompt: Prompt,
  project: ProjectBody,
  agent: Schema.optionalKey(
    Schema.NullOr(Schema.NonEmptyString).annotate({
      description: "A configured agent; default: default_agent",
    }),
  ),
  schedule: Schema.optionalKey(
    Schema.NullOr(Schedule).annotate({
      description: "Fire on this schedule, with jitter; null: manual only",
    }),
  ),
  enabled: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "False creates it paused; default true" }),
  ),
})

/** A validated create body. */
export type CreateTriggerBody = typeof CreateTriggerBody.Type

const UPDATE_FIELDS = ["name", "prompt", "project", "agent", "schedule", "enabled"]

/** `POST /v1/code/triggers/:id`: a partial update; at least one field. */
export const UpdateTriggerBody = Schema.Struct({
  name: Schema.optionalKey(Name),
  prompt: Schema.optionalKey(Prompt),
  project: Schema.optionalKey(ProjectBody),
  agent: Schema.optionalKey(Schema.NonEmptyString),
  schedule: Schema.optionalKey(
    Schema.NullOr(Schedule).annotate({ description: "null removes the schedule" }),
  ),
  enabled: Schema.optionalKey(Schema.Boolean.annotate({ description: "false pauses, true resumes" })),
}).check(
  Schema.makeFilter(
    (body: object) =>
      Object.keys(body).length > 0 || `body required: give at least one of ${UPDATE_FIELDS.join(", ")}`,
  ),
)

/** A validated update body (at least one field). */
export type UpdateTriggerBody = typeof UpdateTriggerBody.Type

/** `POST /v1/code/triggers/:id/run`: no body, or `{ "force": true }` to run a paused trigger. */
export const RunTriggerBody = Schema.Struct({
  force: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "Run even if the trigger is paused (enabled: false)" }),
  ),
})

/** A validated run body. */
export type RunTriggerBody = typeof RunTriggerBody.Type

const Iso = Schema.String.annotate({ description: "ISO-8601" })

const RunDoc = Schema.Struct({
  run_id: Schema.String,
  session_id: Schema.NullOr(Schema.String),
  started_at: Iso,
  reason: Schema.Literals(RUN_REASONS),
  status: Schema.Literals(RUN_STATUSES),
  finished_at: Schema.optionalKey(Iso),
  detail: Schema.optionalKey(Schema.String),
  error: Schema.optionalKey(Schema.Struct({ code: Schema.String, message: Schema.String })),
}).annotate({ identifier: "TriggerRun" })

/** A trigger as the API shows it (documentation only). */
export const TriggerDoc = Schema.Struct({
  id: Schema.String.annotate({ description: "trg_ + 16 hex; the first 8 hex are the jitter id" }),
  name: Schema.String,
  prompt: Schema.String,
  project: ProjectDoc,
  agent: Schema.String,
  schedule: Schema.NullOr(Schema.Struct({ cron: Schema.String, tz: Schema.optionalKey(Schema.String) })),
  enabled: Schema.Boolean,
  created_at: Iso,
  updated_at: Iso,
  next_run_at: Schema.NullOr(Iso).annotate({ description: "Next scheduled fire after jitter" }),
  run_count: Schema.Int,
  history: Schema.Array(RunDoc).annotate({ description: "The last runs, oldest first" }),
}).annotate({ identifier: "Trigger" })

/** `GET /v1/code/triggers` (documentation only). */
export const TriggerListDoc = Schema.Struct({ triggers: Schema.Array(TriggerDoc) }).annotate({
  identifier: "TriggerList",
})

/** The 201 answer of a run (documentation only). */
export const TriggerRunResponse = Schema.Struct({
  trigger_id: Schema.String,
  run_id: Schema.String,
  session_id: Schema.String,
  ws_url: Schema.String,
}).annotate({ identifier: "TriggerRunResponse" })

/** The answer of `DELETE /v1/code/triggers/:id` (documentation only). */
export const DeletedTriggerDoc = Schema.Struct({
  id: Schema.String,
  deleted: Schema.Boolean,
}).annotate({ identifier: "DeletedTrigger" })
