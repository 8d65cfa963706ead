import { type CronJitterConfig, DEFAULT_CRON_JITTER_CONFIG } from "../../cron/jitterConfig.js"
import { TriggerError, triggerNotFound } from "../../triggers/triggerError.js"
import type { TriggerLauncher, TriggerRunRequest } from "../../triggers/triggerLauncher.js"
import {
  CreateTriggerBody,
  DeletedTriggerDoc,
  projectOf,
  RunTriggerBody,
  TriggerDoc,
  TriggerListDoc,
  TriggerRunResponse,
  UpdateTriggerBody,
} from "../../triggers/triggerSchemas.js"
import type { TriggerStore } from "../../triggers/triggerStore.js"
import { projectWorkDir, type Trigger, type TriggerProject } from "../../triggers/triggerTypes.js"
import { triggerView } from "../../triggers/triggerView.js"
import { defineRoute, type Route } from "../route.js"
import type { RouteContext, RouteModule } from "../routeContext.js"
import { admitSession } from "../sessionPolicy.js"
import { ErrorDoc } from "./sessionSchemas.js"

const TAGS = ["triggers"]
const BASE = "/v1/code/triggers"

/** Options of {@link triggersRoutes}. */
export interface TriggersRoutesOptions {
  /** The scheduler's jitter settings, for `next_run_at`. Default: SPEC §7's defaults. */
  readonly jitter?: () => CronJitterConfig
  /**
   * Makes the work directory of a run of a repository project (e.g. by cloning with the teleport
   * workspace code) and returns its absolute path inside a work root. Absent: such runs are refused with
   * `AGH_TRIGGER_PROJECT_UNSUPPORTED` (422) and recorded as `start_failed`.
   */
  readonly prepareRepository?: (
    repository: { readonly url: string; readonly ref?: string },
    request: TriggerRunRequest,
  ) => Promise<string>
}

const wsUrl = (origin: string, id: string) =>
  `${origin.replace(/^http/, "ws")}/sessions/${encodeURIComponent(id)}/ws`

/**
 * Starts runs through the server's session gate, so a trigger gets exactly what `POST /sessions` would:
 * the policy (work roots, agent), the live-session cap and the same session runtime.
 */
export function sessionGateLauncher(
  context: RouteContext,
  options: TriggersRoutesOptions = {},
): TriggerLauncher {
  return async (request) => {
    const { trigger } = request
    let cwd = projectWorkDir(trigger.project)
    if (cwd === undefined) {
      const { repository } = trigger.project as Extract<TriggerProject, { repository: unknown }>
      if (options.prepareRepository === undefined) {
        throw new TriggerError({
          reason: "ProjectUnsupported",
          triggerId: trigger.id,
          message: `trigger ${trigger.id} runs in repository ${JSON.stringify(repository.url)}, but this host does not clone repositories for triggers; give the trigger a work_dir project`,
        })
      }
      cwd = await options.prepareRepository(repository, request)
    }
    const handle = await context.sessions.create({
      cwd,
      prompt: trigger.prompt,
      agent: trigger.agent,
      title: `trigger ${trigger.name}`,
    })
    return {
      sessionId: handle.id,
      done: handle.whenDone().then((info) => ({
        status: info.status,
        ...(info.end_reason === undefined ? {} : { detail: info.end_reason }),
      })),
    }
  }
}

/** Refuses what no run could ever use: an unknown agent, a work dir outside the policy (coded 4xx). */
async function admitDefinition(context: RouteContext, agent: string, project: TriggerProject): Promise<void> {
  const cwd = projectWorkDir(project)
  await admitSession({ agent, ...(cwd === undefined ? {} : { cwd }) }, context.config)
}

const notFound = { description: "No such trigger (AGH_TRIGGER_NOT_FOUND)", schema: ErrorDoc }
const badBody = {
  description: "Missing body, unknown field, wrong type, bad cron or zone (AGH_BAD_REQUEST); unknown agent",
  schema: ErrorDoc,
}

/**
 * `GET/POST /v1/code/triggers`, `GET/POST/DELETE /v1/code/triggers/:id`, `POST /v1/code/triggers/:id/run`
 * over a {@link TriggerStore}. Building the routes binds the store's launcher to this server's session
 * gate, so scheduled fires pass the same policy as manual runs. The lead wires it into `serve`:
 * `makeServer({ ..., routes: [triggersRoutes(store)] })`.
 */
export function triggersRoutes(store: TriggerStore, options: TriggersRoutesOptions = {}): RouteModule {
  return (context) => {
    const launcher = sessionGateLauncher(context, options)
    store.bindLauncher(launcher)
    const view = (trigger: Trigger) => triggerView(trigger, options.jitter?.() ?? DEFAULT_CRON_JITTER_CONFIG)
    const lookup = (id: string | undefined): Trigger => {
      const trigger = id === undefined ? undefined : store.get(id)
      if (trigger === undefined) throw triggerNotFound(id ?? "")
      return trigger
    }
    const routes: Route[] = [
      defineRoute({
        method: "GET",
        path: BASE,
        doc: {
          summary: "List triggers",
          description: "Every saved trigger, oldest first, with its next scheduled fire and its last runs.",
          tags: TAGS,
          responses: { 200: { description: "The triggers", schema: TriggerListDoc } },
        },
        handle: () => ({ status: 200, body: { triggers: store.list().map(view) } }),
      }),
      defineRoute({
        method: "GET",
        path: `${BASE}/:id`,
        doc: {
          summary: "Get a trigger",
          tags: TAGS,
          responses: { 200: { description: "The trigger", schema: TriggerDoc }, 404: notFound },
        },
        handle: ({ params }) => ({ status: 200, body: view(lookup(params.id)) }),
      }),
      defineRoute<CreateTriggerBody>({
        method: "POST",
        path: BASE,
        body: { schema: CreateTriggerBody, name: "CreateTriggerRequest", required: true },
        doc: {
          summary: "Create a trigger",
          description:
            "A saved prompt with a project and an agent, run on demand and, with a schedule, on its cron " +
            "schedule (with the jitter of scheduled tasks). A work_dir must lie in a work root.",
          tags: TAGS,
          responses: {
            201: { description: "Created", schema: TriggerDoc },
            400: badBody,
            403: { description: "work_dir outside the work roots (AGH_POLICY_CWD)", schema: ErrorDoc },
          },
        },
        handle: async ({ body }) => {
          const agent = body.agent ?? context.config.default_agent
          const project = projectOf(body.project)
          await admitDefinition(context, agent, project)
          const trigger = await store.create({
            name: body.name,
            prompt: body.prompt,
            project,
            agent,
            schedule: body.schedule ?? null,
            ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          })
          return {
            status: 201,
            headers: { location: `${BASE}/${encodeURIComponent(trigger.id)}` },
            body: view(trigger),
          }
        },
      }),
      defineRoute<UpdateTriggerBody>({
        method: "POST",
        path: `${BASE}/:id`,
        body: { schema: UpdateTriggerBody, name: "UpdateTriggerRequest", required: true },
        doc: {
          summary: "Update a trigger",
          description:
            "Changes the fields given and keeps the others. `schedule: null` removes the schedule; " +
            "`enabled: false` pauses the trigger. A new schedule or a resume counts from now.",
          tags: TAGS,
          responses: {
            200: { description: "The trigger after the update", schema: TriggerDoc },
            400: badBody,
            403: { description: "work_dir outside the work roots (AGH_POLICY_CWD)", schema: ErrorDoc },
            404: notFound,
          },
        },
        handle: async ({ params, body }) => {
          const current = lookup(params.id)
          const { project: given, ...rest } = body
          const project = given === undefined ? undefined : projectOf(given)
          if (body.agent !== undefined || project !== undefined) {
            await admitDefinition(context, body.agent ?? current.agent, project ?? current.project)
          }
          const changes = project === undefined ? rest : { ...rest, project }
          return { status: 200, body: view(await store.update(current.id, changes)) }
        },
      }),
      defineRoute({
        method: "DELETE",
        path: `${BASE}/:id`,
        doc: {
          summary: "Delete a trigger",
          description: "Its scheduled fires stop; runs already started go on. Its events stay in the log.",
          tags: TAGS,
          responses: { 200: { description: "Deleted", schema: DeletedTriggerDoc }, 404: notFound },
        },
        handle: async ({ params }) => {
          const deleted = await store.delete(lookup(params.id).id)
          return { status: 200, body: { id: deleted.id, deleted: true } }
        },
      }),
      defineRoute<RunTriggerBody>({
        method: "POST",
        path: `${BASE}/:id/run`,
        body: { schema: RunTriggerBody, name: "RunTriggerRequest" },
        doc: {
          summary: "Run a trigger now",
          description:
            "Starts a session with the trigger's prompt, project and agent (through the same policy as " +
            "POST /sessions) and records the run in its history. Attach with the returned ws_url.",
          tags: TAGS,
          responses: {
            201: { description: "Started", schema: TriggerRunResponse },
            400: { description: "Bad body; unknown agent or unusable work_dir", schema: ErrorDoc },
            403: { description: "Refused by policy (AGH_POLICY_*)", schema: ErrorDoc },
            404: notFound,
            409: {
              description: "The trigger is paused (AGH_TRIGGER_DISABLED); send force",
              schema: ErrorDoc,
            },
            422: {
              description: "A repository project this host cannot clone (AGH_TRIGGER_PROJECT_UNSUPPORTED)",
              schema: ErrorDoc,
            },
            429: { description: "Too many live sessions (AGH_MAX_SESSIONS)", schema: ErrorDoc },
          },
        },
        handle: async ({ params, body, origin }) => {
          const trigger = lookup(params.id)
          const run = await store.fireTrigger(trigger.id, context.clock.now(), "manual", {
            launcher,
            ...(body.force === undefined ? {} : { force: body.force }),
          })
          const sessionId = run.session_id ?? ""
          return {
            status: 201,
            headers: { location: `/sessions/${encodeURIComponent(sessionId)}` },
            body: {
              trigger_id: trigger.id,
              run_id: run.run_id,
              session_id: sessionId,
              ws_url: wsUrl(origin, sessionId),
            },
          }
        },
      }),
    ]
    return routes
  }
}
