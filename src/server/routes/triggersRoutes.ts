import { type CronJitterConfig, DEFAULT_CRON_JITTER_CONFIG } from "../../cron/jitterConfig.js"
import { TriggerError, triggerNotFound } from "../../triggers/triggerError.js"
import type { TriggerLaunch, TriggerLauncher } from "../../triggers/triggerLauncher.js"
import type { TriggerRepositories, TriggerRepositorySource } from "../../triggers/triggerRepository.js"
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
import type { ServerConfig } from "../config.js"
import { defineRoute, type Route } from "../route.js"
import type { RouteContext, RouteModule } from "../routeContext.js"
import { admitSession, requireRemoteSessions } from "../sessionPolicy.js"
import { ErrorDoc } from "./sessionSchemas.js"
import { sessionWsUrl } from "./sessionsRoutes.js"

const TAGS = ["triggers"]
const BASE = "/v1/code/triggers"

/** Options of {@link triggersRoutes}. */
export interface TriggersRoutesOptions {
  /** The scheduler's jitter settings, for `next_run_at`. Default: SPEC §7's defaults. */
  readonly jitter?: () => CronJitterConfig
  /**
   * How this host clones the repositories of repository projects (`makeTriggerRepositories`). With it, such
   * a project is checked at create and update (the host must be able to clone it) and each run gets a fresh
   * clone of its own. Absent: repository projects are stored, and their runs refused with
   * `AGH_TRIGGER_PROJECT_UNSUPPORTED` (422) and recorded as `start_failed`.
   */
  readonly repositories?: TriggerRepositories
}

/**
 * Starts runs through the server's session gate, so a trigger gets exactly what `POST /sessions` would:
 * the policy (work roots, agent), the live-session cap and the same session runtime. A repository project is
 * first cloned into a workspace of the run's own (`options.repositories`), which the session then works in.
 */
export function sessionGateLauncher(
  context: RouteContext,
  options: TriggersRoutesOptions = {},
): TriggerLauncher {
  return async (request) => {
    const { trigger } = request
    const workDir = projectWorkDir(trigger.project)
    if (workDir !== undefined) return startSession(context, trigger, workDir)
    const { repository } = trigger.project as Extract<TriggerProject, { repository: unknown }>
    const repositories = options.repositories
    if (repositories === undefined) {
      throw new TriggerError({
        reason: "ProjectUnsupported",
        triggerId: trigger.id,
        message: `trigger ${trigger.id} runs in repository ${JSON.stringify(repository.url)}, but this host does not clone repositories for triggers; give the trigger a work_dir project`,
      })
    }
    admitRemoteSessions(context.config, repository)
    const prepared = await repositories.prepare(repository, request)
    try {
      return await startSession(context, trigger, prepared.workDir)
    } catch (error) {
      // No session will ever use it (cap reached, agent gone, host shutting down): nothing to pull back.
      await prepared.discard()
      throw error
    }
  }
}

async function startSession(context: RouteContext, trigger: Trigger, cwd: string): Promise<TriggerLaunch> {
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

/**
 * A repository project makes the host clone, exactly as a `clone_url` session does, so it needs the same
 * policy: `allow_remote_sessions` (403 `AGH_POLICY_REMOTE_SESSIONS`).
 */
function admitRemoteSessions(config: ServerConfig, repository: TriggerRepositorySource): void {
  requireRemoteSessions(
    config,
    `a trigger in repository ${JSON.stringify(repository.url)} makes this host clone it, and remote sessions`,
    "; set it to true, or give the trigger a work_dir project",
  )
}

/**
 * Refuses what no run could ever use: an unknown agent, a work dir outside the policy, a repository the host
 * may or can not clone (coded 4xx). Better now than when the schedule fires at 3 a.m.
 */
async function admitDefinition(
  context: RouteContext,
  options: TriggersRoutesOptions,
  agent: string,
  project: TriggerProject,
): Promise<void> {
  const cwd = projectWorkDir(project)
  await admitSession({ agent, ...(cwd === undefined ? {} : { cwd }) }, context.config)
  if ("repository" in project && options.repositories !== undefined) {
    admitRemoteSessions(context.config, project.repository)
    await options.repositories.admit(project.repository)
  }
}

const notFound = { description: "No such trigger (AGH_TRIGGER_NOT_FOUND)", schema: ErrorDoc }
const policyRefusal = {
  description:
    "work_dir outside the work roots (AGH_POLICY_CWD); a repository project on a host without " +
    "allow_remote_sessions (AGH_POLICY_REMOTE_SESSIONS)",
  schema: ErrorDoc,
}
const unreachable = {
  description:
    "A repository this host cannot clone: not a git repository inside its work roots nor under a configured " +
    "URL prefix, or a host that does not clone for triggers (AGH_TRIGGER_PROJECT_UNSUPPORTED)",
  schema: ErrorDoc,
}
const badBody = {
  description: "Missing body, unknown field, wrong type, bad cron or zone (AGH_BAD_REQUEST); unknown agent",
  schema: ErrorDoc,
}

/**
 * `GET/POST /v1/code/triggers`, `GET/POST/DELETE /v1/code/triggers/:id`, `POST /v1/code/triggers/:id/run`
 * over a {@link TriggerStore}. Building the routes binds the store's launcher to this server's session
 * gate, so scheduled fires pass the same policy as manual runs. `startHost` wires it with the host's
 * {@link TriggersRoutesOptions.repositories}: `makeServer({ ..., routes: [triggersRoutes(store, { repositories })] })`.
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
            "schedule (with the jitter of scheduled tasks). A work_dir must lie in a work root. A repository " +
            "must be one the host can clone (a git repository inside a work root, or a URL under a configured " +
            "prefix) and needs allow_remote_sessions; each run clones it into a fresh workspace " +
            "<first work root>/<trigger id>_<run id>, which stays after the session for `agenthost pull`.",
          tags: TAGS,
          responses: {
            201: { description: "Created", schema: TriggerDoc },
            400: badBody,
            403: policyRefusal,
            422: unreachable,
          },
        },
        handle: async ({ body }) => {
          const agent = body.agent ?? context.config.default_agent
          const project = projectOf(body.project)
          await admitDefinition(context, options, agent, project)
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
            403: policyRefusal,
            404: notFound,
            422: unreachable,
          },
        },
        handle: async ({ params, body }) => {
          const current = lookup(params.id)
          const { project: given, ...rest } = body
          const project = given === undefined ? undefined : projectOf(given)
          if (body.agent !== undefined || project !== undefined) {
            await admitDefinition(context, options, body.agent ?? current.agent, project ?? current.project)
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
            "POST /sessions) and records the run in its history. Attach with the returned ws_url. A " +
            "repository project is cloned first, into a workspace of this run's own, at its ref (branch, " +
            "tag or commit) or the repository's HEAD. A refusal is recorded in the history as start_failed.",
          tags: TAGS,
          responses: {
            201: { description: "Started", schema: TriggerRunResponse },
            400: {
              description:
                "Bad body; unknown agent or unusable work_dir; the repository has no such ref " +
                "(AGH_GIT_REF_NOT_FOUND) or cannot be cloned (AGH_GIT_REMOTE_UNREACHABLE)",
              schema: ErrorDoc,
            },
            403: { description: "Refused by policy (AGH_POLICY_*)", schema: ErrorDoc },
            404: notFound,
            409: {
              description:
                "The trigger is paused (AGH_TRIGGER_DISABLED; send force), or the run's workspace already " +
                "exists (AGH_WORKSPACE_EXISTS)",
              schema: ErrorDoc,
            },
            422: unreachable,
            429: { description: "Too many live sessions (AGH_MAX_SESSIONS)", schema: ErrorDoc },
            500: {
              description: "git failed while cloning (AGH_GIT_FAILED, AGH_GIT_UNAVAILABLE)",
              schema: ErrorDoc,
            },
            507: { description: "The host's disk is full while cloning (AGH_DISK_FULL)", schema: ErrorDoc },
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
              ws_url: sessionWsUrl(origin, sessionId),
            },
          }
        },
      }),
    ]
    return routes
  }
}
