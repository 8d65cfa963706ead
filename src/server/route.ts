import type { IncomingMessage } from "node:http"
import type { Duplex, Readable } from "node:stream"
import type * as Schema from "effect/Schema"
/** The methods routes may use. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

/** What a handler gets: the request, its path parameters and query, and the decoded body. */
export interface RouteRequest<Body = undefined> {
  readonly req: IncomingMessage
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly body: Body
  /** `http://<host>` as the client addressed this server: the base for URLs handed back to it. */
  readonly origin: string
}

/** A handler's answer; `body` is sent as JSON. */
export interface RouteResponse {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Sent as the body instead of `body` (a download too large to hold in memory); `headers` should name its
   * `content-type`. It is destroyed when the client goes away, so a handler can clean up on its `close`.
   */
  readonly stream?: Readable
}

/** A query parameter, for validation messages and the OpenAPI document. */
export interface QueryParamDoc {
  readonly name: string
  readonly description: string
  readonly schema: Schema.Top
  readonly required?: boolean
}

/** How a route is described in `GET /openapi.json`. */
export interface RouteDoc {
  readonly summary: string
  readonly description?: string
  readonly tags?: ReadonlyArray<string>
  readonly query?: ReadonlyArray<QueryParamDoc>
  /**
   * Status → description and, when there is one, the JSON schema of the body, or the media type of a
   * streamed (non-JSON) body.
   */
  readonly responses: Readonly<
    Record<
      number,
      { readonly description: string; readonly schema?: Schema.Top; readonly contentType?: string }
    >
  >
}

/** A JSON request body: validated with `schema`; an empty body counts as `{}` unless `required`. */
export interface BodySpec<Body> {
  /** Leave it without an `identifier`: validation messages would say "Expected <identifier>". */
  readonly schema: Schema.Decoder<Body>
  /** Component name in the OpenAPI document. */
  readonly name: string
  readonly required?: boolean
}

/**
 * A request body the router does not read: the handler streams `req` itself (uploads larger than
 * `max_body_bytes`, e.g. `POST /bundles`) and enforces its own size limit.
 */
export interface RawBodySpec {
  readonly raw: true
  /** Media type, for the OpenAPI document. */
  readonly contentType: string
  readonly description: string
}

/**
 * One HTTP route. Route files export functions returning arrays of these (see `routes/sessionsRoutes.ts`),
 * and `makeServer` registers them on one find-my-way router, so adding an API area is adding a file.
 */
export interface Route<Body = unknown> {
  readonly method: HttpMethod
  /** find-my-way syntax: `/sessions/:id`. */
  readonly path: string
  /** Whether the bearer token is required (every route but `/healthz`, SPEC §4). Default true. */
  readonly auth?: boolean
  readonly body?: BodySpec<Body> | RawBodySpec
  readonly doc: RouteDoc
  readonly handle: (request: RouteRequest<Body>) => Promise<RouteResponse> | RouteResponse
  /**
   * For WebSocket routes: takes over an `Upgrade` request (already authenticated). `handle` then answers
   * plain GETs (426).
   */
  readonly upgrade?: (request: RouteRequest<undefined>, socket: Duplex, head: Buffer) => void
}

/** Defines a route with its body type inferred from the schema. */
export function defineRoute<Body = undefined>(route: Route<Body>): Route {
  return route as unknown as Route
}
