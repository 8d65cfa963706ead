import * as Schema from "effect/Schema"
import { hostReachableRemotes } from "../cloneSource.js"
import { defineRoute } from "../route.js"
import type { RouteModule } from "../routeContext.js"
import { liveSessionCount, requireRemoteSessions } from "../sessionPolicy.js"
import { DEFAULT_MAX_BUNDLE_BYTES } from "./bundlesRoutes.js"
import { ErrorDoc } from "./sessionSchemas.js"

export interface HostRoutesOptions {
  /** The limit `POST /bundles` enforces, reported so a client can refuse a too-large bundle before sending it. */
  readonly maxBundleBytes?: number
}

/** At most this many remotes per reachability question: each may cost a `git ls-remote`. */
export const MAX_REMOTES_PER_QUERY = 32

const TAGS = ["host"]

const CapabilitiesDoc = Schema.Struct({
  allow_remote_sessions: Schema.Boolean,
  allow_skip_permissions: Schema.Boolean,
  max_sessions: Schema.Int,
  live_sessions: Schema.Int.annotate({ description: "Sessions not yet completed, failed or killed" }),
  max_bundle_bytes: Schema.Int,
  default_agent: Schema.String,
  agents: Schema.Array(Schema.String),
}).annotate({ identifier: "HostCapabilities" })

const RemoteDoc = Schema.Struct({ name: Schema.NonEmptyString, url: Schema.NonEmptyString })

const ReachableRemotesBody = Schema.Struct({
  remotes: Schema.Array(RemoteDoc).check(Schema.isMaxLength(MAX_REMOTES_PER_QUERY)),
})

type ReachableRemotesBody = typeof ReachableRemotesBody.Type

const ReachableRemotesDoc = Schema.Struct({
  reachable: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      url: Schema.String,
      clone_url: Schema.String.annotate({ description: "Pass as clone_url to POST /sessions" }),
      kind: Schema.Literals(["local", "network"]),
    }),
  ),
}).annotate({ identifier: "ReachableRemotes" })

/**
 * What `agenthost remote` asks before sending anything: `GET /host/capabilities` (policy and capacity; an
 * authenticated call, so it also proves the token) and `POST /host/reachable-remotes` (which of the
 * repository's remotes the host could clone itself).
 */
export function hostRoutes(options: HostRoutesOptions = {}): RouteModule {
  const maxBundleBytes = options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES
  return (context) => [
    defineRoute({
      method: "GET",
      path: "/host/capabilities",
      doc: {
        summary: "The host's policy and capacity",
        description:
          "Whether remote (teleport) sessions and skipping permissions are allowed, how many sessions run " +
          "against max_sessions, the bundle size limit and the configured agents.",
        tags: TAGS,
        responses: { 200: { description: "The capabilities", schema: CapabilitiesDoc } },
      },
      handle: () => {
        const { config } = context
        return {
          status: 200,
          body: {
            allow_remote_sessions: config.allow_remote_sessions,
            allow_skip_permissions: config.allow_skip_permissions,
            max_sessions: config.max_sessions,
            live_sessions: liveSessionCount(context.sessions.manager),
            max_bundle_bytes: maxBundleBytes,
            default_agent: config.default_agent,
            agents: Object.keys(config.agents),
          },
        }
      },
    }),
    defineRoute<ReachableRemotesBody>({
      method: "POST",
      path: "/host/reachable-remotes",
      body: { schema: ReachableRemotesBody, name: "ReachableRemotesRequest", required: true },
      doc: {
        summary: "Which of a repository's remotes this host can clone",
        description:
          "Local paths (absolute or file://) that resolve inside a work root and that git can read; network " +
          "URLs never (the host has none of the user's credentials). Exactly these are accepted as clone_url " +
          `by POST /sessions. At most ${MAX_REMOTES_PER_QUERY} remotes.`,
        tags: TAGS,
        responses: {
          200: { description: "The reachable remotes, in the order given", schema: ReachableRemotesDoc },
          403: { description: "Remote sessions are off (AGH_POLICY_REMOTE_SESSIONS)", schema: ErrorDoc },
        },
      },
      handle: async ({ body }) => {
        // Answering would tell a token holder which repositories exist on the host's disk, for nothing.
        requireRemoteSessions(context.config)
        const reachable = await hostReachableRemotes(body.remotes, context.config)
        return {
          status: 200,
          body: {
            reachable: reachable.map((r) => ({
              name: r.name,
              url: r.url,
              clone_url: r.cloneUrl,
              kind: r.kind,
            })),
          },
        }
      },
    }),
  ]
}
