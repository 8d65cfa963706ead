import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { CRON_ERROR_CODES, type CronError } from "../../cron/cronError.js"
import { parseCronExpression } from "../../cron/cronExpression.js"
import { makeFileTaskStore } from "../../cron/fileTaskStore.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../cron/jitterConfig.js"
import { nextRunOfSchedule } from "../../cron/nextCronRun.js"
import { TaskStoreError, type TaskStoreErrorReason, taskNotFound } from "../../cron/taskStoreError.js"
import type { ProjectScheduler } from "../../scheduler/projectScheduler.js"
import type { SchedulerService } from "../../scheduler/schedulerService.js"
import { taskView } from "../../scheduler/taskView.js"
import { parseLimit } from "../requestParams.js"
import { defineRoute, type Route } from "../route.js"
import type { RouteContext, RouteModule } from "../routeContext.js"
import { ServerError } from "../serverError.js"
import { admitSession } from "../sessionPolicy.js"
import { ErrorDoc, NonNegativeIntDoc } from "./sessionSchemas.js"

const TAGS = ["cron"]

/** HTTP status of each task-store failure. */
const TASK_STORE_STATUS: Readonly<Record<TaskStoreErrorReason, number>> = {
  CorruptFile: 409,
  InvalidTask: 409,
  InvalidCron: 400,
  InvalidInput: 400,
  NotFound: 404,
  SessionEnded: 409,
  Io: 500,
  Locked: 503,
}

/** A task-store or cron failure as the router renders it: its own code, with an HTTP status. */
class CronHttpError extends Data.TaggedError("CronHttpError")<{
  readonly reason: "TaskStore" | "Cron"
  readonly code: string
  readonly status: number
  readonly message: string
  readonly cause?: unknown
}> {}

function httpError(error: TaskStoreError | CronError): CronHttpError {
  return error instanceof TaskStoreError
    ? new CronHttpError({
        reason: "TaskStore",
        code: error.code,
        status: TASK_STORE_STATUS[error.reason],
        message: error.message,
        cause: error,
      })
    : new CronHttpError({
        reason: "Cron",
        code: error.code,
        status: 400,
        message: error.message,
        cause: error,
      })
}

async function runStore<A>(effect: Effect.Effect<A, TaskStoreError>): Promise<A> {
  const result = await Effect.runPromise(Effect.result(effect))
  if (Result.isFailure(result)) throw httpError(result.failure)
  return result.success
}

const AddTaskBody = Schema.Struct({
  project: Schema.NonEmptyString.annotate({
    description: "Absolute path of the project, inside a work root",
  }),
  cron: Schema.String.annotate({ description: "5-field cron expression (Vixie cron), in the host's zone" }),
  prompt: Schema.String,
  recurring: Schema.optionalKey(Schema.NullOr(Schema.Boolean).annotate({ description: "Default true" })),
  permanent: Schema.optionalKey(
    Schema.NullOr(Schema.Boolean).annotate({ description: "A recurring task that never expires" }),
  ),
})
type AddTaskBody = typeof AddTaskBody.Type

const JitterBody = Schema.Record(Schema.String, Schema.Unknown).annotate({
  description: "Jitter knobs to change (SPEC §7); the others keep their value",
})

const TaskDoc = Schema.Struct({
  id: Schema.String,
  cron: Schema.String,
  prompt: Schema.String,
  recurring: Schema.Boolean,
  permanent: Schema.Boolean,
  durable: Schema.Boolean,
  created_at: Schema.String,
  last_fired_at: Schema.NullOr(Schema.String),
  next_fire_at: Schema.NullOr(Schema.String).annotate({ description: "After jitter, ISO-8601 with offset" }),
  next_fire_at_ms: Schema.NullOr(Schema.Number),
  expires_at: Schema.NullOr(Schema.String),
  armed: Schema.Boolean.annotate({ description: "This host's machine waits for next_fire_at" }),
}).annotate({ identifier: "CronTask" })

const ProjectTasksDoc = Schema.Struct({
  project: Schema.String,
  scheduled: Schema.Boolean,
  holds_lock: Schema.Boolean,
  tasks: Schema.Array(TaskDoc),
  invalid: Schema.Array(
    Schema.Struct({
      index: Schema.NullOr(Schema.Int),
      id: Schema.NullOr(Schema.String),
      message: Schema.String,
    }),
  ),
}).annotate({ identifier: "CronProjectTasks" })

const JitterDoc = Schema.Struct({
  jitter: Schema.Record(Schema.String, Schema.Number),
  defaults: Schema.Record(Schema.String, Schema.Number),
  config_file: Schema.String,
}).annotate({ identifier: "CronJitterConfig" })

const HistoryDoc = Schema.Struct({
  /** Null for the triggers' history. */
  project: Schema.NullOr(Schema.String),
  stream: Schema.String,
  rows: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)),
}).annotate({ identifier: "CronHistory" })

const projectQuery = (required: boolean) => ({
  name: "project",
  description: "Absolute path of the project (inside a work root)",
  schema: Schema.String,
  required,
})

function projectParam(query: URLSearchParams): string | undefined {
  const value = query.get("project")
  return value === null || value === "" ? undefined : value
}

function requireProject(query: URLSearchParams): string {
  const project = projectParam(query)
  if (project === undefined) {
    throw new ServerError({
      reason: "BadRequest",
      message: `query parameter "project": missing (an absolute path)`,
    })
  }
  return project
}

/** The project's real path, after the host's policy (inside a work root): 403 `AGH_POLICY_CWD` otherwise. */
async function admitProject(context: RouteContext, project: string): Promise<string> {
  const admitted = await admitSession({ cwd: project }, context.config)
  return admitted.workDir ?? project
}

/** `GET /cron` for one project: its tasks with their next fire time after jitter. */
async function projectTasks(scheduler: SchedulerService, dir: string, known: ProjectScheduler | undefined) {
  const listing = known?.listing() ?? (await runStore(makeFileTaskStore(dir).list()))
  const jitter = known?.jitter() ?? scheduler.jitter()
  return {
    project: known?.projectDir ?? dir,
    scheduled: known !== undefined,
    holds_lock: known?.holdsLock() ?? false,
    tasks: listing.tasks.map((task) =>
      taskView(task, { jitter, zone: scheduler.zone, armedFireAt: known?.armedFireAt(task.id) }),
    ),
    invalid: listing.invalid.map((p) => ({
      index: p.index ?? null,
      id: p.taskId ?? null,
      message: p.message,
    })),
    ...(listing.error === undefined
      ? {}
      : { error: { code: listing.error.code, message: listing.error.message } }),
  }
}

/**
 * The cron API (SPEC §4, docs/scheduler.md): `GET /cron`, `POST /cron`, `DELETE /cron/:id`,
 * `GET|POST /cron/config` (the jitter knobs, adjustable while the host runs) and `GET /cron/history`.
 * Projects must lie inside a work root (403 `AGH_POLICY_CWD`), as session work directories must.
 *
 * @example
 * makeServer({ config, home, sessionManager, routes: [cronRoutes(scheduler)] })
 */
export function cronRoutes(scheduler: SchedulerService): RouteModule {
  return (context) => {
    const routes: Route[] = [
      defineRoute({
        method: "GET",
        path: "/cron",
        doc: {
          summary: "List scheduled tasks",
          description:
            "A project's durable tasks with their next fire time after jitter; without `project`, those of " +
            "every project this host schedules.",
          tags: TAGS,
          query: [projectQuery(false)],
          responses: {
            200: {
              description: "`{ project, tasks, ... }`, or `{ projects: [...] }` without `project`",
              schema: ProjectTasksDoc,
            },
            403: { description: "Project outside the work roots (AGH_POLICY_CWD)", schema: ErrorDoc },
          },
        },
        handle: async ({ query }) => {
          const project = projectParam(query)
          if (project === undefined) {
            const projects = await Promise.all(
              scheduler.projects().map((s) => projectTasks(scheduler, s.projectDir, s)),
            )
            return { status: 200, body: { projects } }
          }
          const dir = await admitProject(context, project)
          return { status: 200, body: await projectTasks(scheduler, dir, scheduler.project(dir)) }
        },
      }),
      defineRoute<AddTaskBody>({
        method: "POST",
        path: "/cron",
        body: { schema: AddTaskBody, name: "AddCronTaskRequest", required: true },
        doc: {
          summary: "Add a durable task",
          description:
            "Adds the task to `<project>/.claude/scheduled_tasks.json` and schedules the project on this host " +
            "(recorded in `<home>/cron/projects.json`).",
          tags: TAGS,
          responses: {
            201: { description: "The task, with its next fire time", schema: TaskDoc },
            400: {
              description:
                "Bad body or expression (AGH_CRON_INVALID, AGH_TASK_INVALID, AGH_CRON_NO_NEXT_RUN)",
              schema: ErrorDoc,
            },
            403: { description: "Project outside the work roots (AGH_POLICY_CWD)", schema: ErrorDoc },
            409: { description: "The tasks file is corrupt (AGH_TASKS_CORRUPT)", schema: ErrorDoc },
          },
        },
        handle: async ({ body }) => {
          const recurring = body.recurring ?? true
          if (body.permanent === true && !recurring) {
            throw new ServerError({
              reason: "BadRequest",
              message: `field "permanent": applies to recurring tasks only (a one-shot task never expires)`,
            })
          }
          const parsed = parseCronExpression(body.cron)
          if (Result.isFailure(parsed)) throw httpError(parsed.failure)
          if (nextRunOfSchedule(parsed.success, context.clock.now(), scheduler.zone) === null) {
            throw new CronHttpError({
              reason: "Cron",
              code: CRON_ERROR_CODES.NoNextRun,
              status: 400,
              message: `field "cron": ${JSON.stringify(body.cron)} never fires (looked 100 years ahead)`,
            })
          }
          const dir = await admitProject(context, body.project)
          const task = await runStore(
            makeFileTaskStore(dir, { clock: context.clock }).add({
              cron: body.cron,
              prompt: body.prompt,
              recurring,
              ...(body.permanent === true ? { permanent: true } : {}),
            }),
          )
          const project = await scheduler.addProject(dir)
          project.rescan()
          await project.settle()
          return {
            status: 201,
            headers: { location: `/cron?project=${encodeURIComponent(project.projectDir)}` },
            body: {
              ...taskView(task, {
                jitter: project.jitter(),
                zone: scheduler.zone,
                armedFireAt: project.armedFireAt(task.id),
              }),
              project: project.projectDir,
            },
          }
        },
      }),
      defineRoute({
        method: "DELETE",
        path: "/cron/:id",
        doc: {
          summary: "Remove a durable task",
          tags: TAGS,
          query: [projectQuery(true)],
          responses: {
            200: { description: "`{ removed: id, project }`" },
            403: { description: "Project outside the work roots (AGH_POLICY_CWD)", schema: ErrorDoc },
            404: { description: "No such task (AGH_TASK_NOT_FOUND)", schema: ErrorDoc },
          },
        },
        handle: async ({ params, query }) => {
          const dir = await admitProject(context, requireProject(query))
          const id = params.id ?? ""
          const store = makeFileTaskStore(dir)
          if (!(await runStore(store.remove(id)))) throw httpError(taskNotFound(store.location, id))
          const project = scheduler.project(dir)
          project?.rescan()
          await project?.settle()
          return { status: 200, body: { removed: id, project: project?.projectDir ?? dir } }
        },
      }),
      defineRoute({
        method: "GET",
        path: "/cron/config",
        doc: {
          summary: "The jitter configuration in force",
          tags: TAGS,
          responses: {
            200: { description: "The knobs, the defaults and the config file", schema: JitterDoc },
          },
        },
        handle: () => ({
          status: 200,
          body: {
            jitter: scheduler.jitter(),
            defaults: DEFAULT_CRON_JITTER_CONFIG,
            config_file: scheduler.configPath,
          },
        }),
      }),
      defineRoute({
        method: "POST",
        path: "/cron/config",
        body: { schema: JitterBody, name: "CronJitterUpdate", required: true },
        doc: {
          summary: "Adjust the jitter configuration",
          description:
            "The knobs given replace the ones in force for every project, validated as a whole (fractions 0..1, " +
            "caps 0..30 min, mod 1..60, floor ≤ max, no unknown keys); every armed task is rescheduled. Holds " +
            "until `<home>/cron.json` changes or the host restarts.",
          tags: TAGS,
          responses: {
            200: { description: "The configuration now in force", schema: JitterDoc },
            400: {
              description: "Invalid (AGH_CRON_CONFIG_INVALID, naming each field); the old one stays",
              schema: ErrorDoc,
            },
          },
        },
        handle: async ({ body }) => {
          const next = scheduler.setJitterConfig(body)
          if (Result.isFailure(next)) throw httpError(next.failure)
          await scheduler.settle()
          return {
            status: 200,
            body: {
              jitter: next.success,
              defaults: DEFAULT_CRON_JITTER_CONFIG,
              config_file: scheduler.configPath,
            },
          }
        },
      }),
      defineRoute({
        method: "GET",
        path: "/cron/history",
        doc: {
          summary: "A project's scheduler history, or the scheduled triggers'",
          description:
            "Every fire (with its session), miss, skip, expiry and lock decision, oldest first. `triggers=true` " +
            "instead of `project`: the host's scheduled triggers (`task` is the trigger id).",
          tags: TAGS,
          query: [
            projectQuery(false),
            {
              name: "triggers",
              description: "`true`: the history of the host's scheduled triggers (no `project`)",
              schema: Schema.String,
            },
            { name: "limit", description: "Only the last N rows", schema: NonNegativeIntDoc },
            {
              name: "all",
              description: "`true`: also machine starts and computed fire times",
              schema: Schema.String,
            },
          ],
          responses: {
            200: { description: "The rows", schema: HistoryDoc },
            403: { description: "Project outside the work roots (AGH_POLICY_CWD)", schema: ErrorDoc },
          },
        },
        handle: async ({ query }) => {
          const limit = parseLimit(query)
          const historyOptions = {
            ...(limit === undefined ? {} : { limit }),
            all: query.get("all") === "true",
          }
          if (query.get("triggers") === "true") {
            if (projectParam(query) !== undefined) {
              throw new ServerError({
                reason: "BadRequest",
                message: `query parameters "project" and "triggers" name different histories: give one`,
              })
            }
            const history = await scheduler.triggerHistory(historyOptions)
            return { status: 200, body: { project: null, stream: history.stream, rows: history.rows } }
          }
          const dir = await admitProject(context, requireProject(query))
          const history = await scheduler.history(dir, historyOptions)
          return {
            status: 200,
            body: { project: history.project ?? dir, stream: history.stream, rows: history.rows },
          }
        },
      }),
    ]
    return routes
  }
}
