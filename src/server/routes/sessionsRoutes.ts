import type { SessionInfo } from "../../effects/sessionHandle.js"
import { parseAfter, parseLimit, requireSession } from "../requestParams.js"
import { defineRoute, type Route } from "../route.js"
import type { RouteModule } from "../routeContext.js"
import { ServerError } from "../serverError.js"
import {
  CreateSessionBody,
  CreateSessionResponse,
  ErrorDoc,
  MessagesDoc,
  NonNegativeIntDoc,
  SessionInfoDoc,
  SessionListDoc,
} from "./sessionSchemas.js"

const TAGS = ["sessions"]

/** The `ws_url` of a session, for a client that reached this server at `origin`. */
export const sessionWsUrl = (origin: string, id: string) =>
  `${origin.replace(/^http/, "ws")}/sessions/${encodeURIComponent(id)}/ws`

const withWsUrl = (info: SessionInfo, origin: string) => ({ ...info, ws_url: sessionWsUrl(origin, info.id) })

const notFound = { description: "No such session (AGH_SESSION_NOT_FOUND)", schema: ErrorDoc }

/** `POST/GET /sessions`, `GET/DELETE /sessions/:id`, `GET /sessions/:id/messages`, `GET /sessions/:id/ws`. */
export const sessionsRoutes: RouteModule = (context) => {
  const routes: Route[] = [
    defineRoute<CreateSessionBody>({
      method: "POST",
      path: "/sessions",
      body: { schema: CreateSessionBody, name: "CreateSessionRequest" },
      doc: {
        summary: "Create a session",
        description:
          "Starts an agent in a work directory. Policy: cwd inside a work root, skipping permissions and " +
          "teleport only when the config allows them, at most max_sessions live sessions.",
        tags: TAGS,
        responses: {
          201: { description: "Created", schema: CreateSessionResponse },
          400: { description: "Bad body, unknown agent or unusable cwd", schema: ErrorDoc },
          403: { description: "Refused by policy (AGH_POLICY_*)", schema: ErrorDoc },
          429: { description: "Too many live sessions (AGH_MAX_SESSIONS)", schema: ErrorDoc },
        },
      },
      handle: async ({ body, origin }) => {
        const handle = await context.sessions.create({
          ...(body.cwd == null ? {} : { cwd: body.cwd }),
          ...(body.prompt == null ? {} : { prompt: body.prompt }),
          ...(body.agent == null ? {} : { agent: body.agent }),
          ...(body.title == null ? {} : { title: body.title }),
          ...(body.bundle_id == null ? {} : { bundleId: body.bundle_id }),
          ...(body.clone_url == null ? {} : { cloneUrl: body.clone_url }),
          ...(body.clone_ref == null ? {} : { cloneRef: body.clone_ref }),
          ...(body.dangerously_skip_permissions == null
            ? {}
            : { skipPermissions: body.dangerously_skip_permissions }),
        })
        const info = handle.info()
        return {
          status: 201,
          headers: { location: `/sessions/${encodeURIComponent(info.id)}` },
          body: {
            session_id: info.id,
            ws_url: sessionWsUrl(origin, info.id),
            work_dir: info.work_dir,
            status: info.status,
          },
        }
      },
    }),
    defineRoute({
      method: "GET",
      path: "/sessions",
      doc: {
        summary: "List sessions",
        description: "Every session this host knows, live and ended, oldest first.",
        tags: TAGS,
        responses: { 200: { description: "The sessions", schema: SessionListDoc } },
      },
      handle: ({ origin }) => ({
        status: 200,
        body: { sessions: context.sessions.manager.list().map((h) => withWsUrl(h.info(), origin)) },
      }),
    }),
    defineRoute({
      method: "GET",
      path: "/sessions/:id",
      doc: {
        summary: "Get a session",
        tags: TAGS,
        responses: { 200: { description: "The session", schema: SessionInfoDoc }, 404: notFound },
      },
      handle: ({ params, origin }) => ({
        status: 200,
        body: withWsUrl(requireSession(context.sessions.manager, params.id).info(), origin),
      }),
    }),
    defineRoute({
      method: "DELETE",
      path: "/sessions/:id",
      doc: {
        summary: "Kill a session",
        description:
          "Ends the agent process; the session becomes `killed`. Killing an ended session changes nothing " +
          "and returns it as it is.",
        tags: TAGS,
        responses: {
          200: { description: "The session after the kill", schema: SessionInfoDoc },
          404: notFound,
        },
      },
      handle: async ({ params, origin }) => {
        const handle = requireSession(context.sessions.manager, params.id)
        const info =
          (await context.sessions.manager.kill(handle.id, "killed by DELETE /sessions/:id")) ?? handle.info()
        return { status: 200, body: withWsUrl(info, origin) }
      },
    }),
    defineRoute({
      method: "GET",
      path: "/sessions/:id/messages",
      doc: {
        summary: "Read a session's message log",
        description: "History messages with seq > after, in order (the same messages the WebSocket replays).",
        tags: TAGS,
        query: [
          {
            name: "after",
            description: "Return messages with seq > after (default 0)",
            schema: NonNegativeIntDoc,
          },
          {
            name: "limit",
            description: "At most this many messages (default: all)",
            schema: NonNegativeIntDoc,
          },
        ],
        responses: {
          200: { description: "A page of the log", schema: MessagesDoc },
          400: { description: "Bad after or limit", schema: ErrorDoc },
          404: notFound,
        },
      },
      handle: ({ params, query }) => {
        const handle = requireSession(context.sessions.manager, params.id)
        const lastSeq = handle.info().last_seq
        const after = parseAfter(query, lastSeq)
        const limit = parseLimit(query)
        const all = handle.history(after)
        const messages = limit === undefined ? all : all.slice(0, limit)
        return { status: 200, body: { session_id: handle.id, messages, last_seq: lastSeq } }
      },
    }),
    defineRoute({
      method: "GET",
      path: "/sessions/:id/ws",
      doc: {
        summary: "Attach to a session (WebSocket)",
        description:
          "WebSocket upgrade (docs/server.md). Replays history with seq > after, re-sends unanswered " +
          "permission requests, then streams live. Auth: Authorization header, or the subprotocols " +
          "`agenthost.v1` + `agenthost.bearer.<token>` for browsers.",
        tags: TAGS,
        query: [
          {
            name: "after",
            description: "The last seq the client has (default 0)",
            schema: NonNegativeIntDoc,
          },
        ],
        responses: {
          101: { description: "Switching protocols" },
          400: { description: "Bad after", schema: ErrorDoc },
          404: notFound,
          426: { description: "Not a WebSocket upgrade request (AGH_WS_UPGRADE_REQUIRED)", schema: ErrorDoc },
        },
      },
      handle: ({ params }) => {
        requireSession(context.sessions.manager, params.id)
        throw new ServerError({
          reason: "UpgradeRequired",
          message: "this route speaks WebSocket only: send an Upgrade: websocket request",
          headers: { upgrade: "websocket" },
        })
      },
      upgrade: (request, socket, head) => context.sockets.upgrade(request, socket, head),
    }),
  ]
  return routes
}
