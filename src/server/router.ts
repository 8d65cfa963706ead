import type { IncomingMessage, ServerResponse } from "node:http"
import type { Duplex } from "node:stream"
import FindMyWay from "find-my-way"
import { messageOf } from "../errors/messageOf.js"
import { authenticate } from "./auth.js"
import { rejectUpgrade, sendError, sendJson, sendStream } from "./httpResponse.js"
import { readJsonBody } from "./jsonBody.js"
import type { HttpMethod, Route, RouteRequest } from "./route.js"
import { type HttpError, isHttpError, ServerError } from "./serverError.js"

/** What the router needs from the host around it. */
export interface RouterOptions {
  readonly verifyToken: (token: string) => boolean
  readonly maxBodyBytes: number
  /** True once shutdown began: new requests get 503. */
  readonly isShuttingDown: () => boolean
  /** Unexpected handler failures (bugs) go here besides the 500 response. */
  readonly onInternalError?: (error: unknown, req: IncomingMessage) => void
}

/** Dispatches HTTP requests and WebSocket upgrades to {@link Route}s. */
export interface Router {
  readonly routes: ReadonlyArray<Route>
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse) => void
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void
}

const METHODS: ReadonlyArray<HttpMethod> = ["GET", "POST", "PUT", "PATCH", "DELETE"]

interface Match {
  readonly route: Route
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
}

/** How much of a refused body is still read (and dropped) after the 413, at most. */
export const REFUSED_BODY_DRAIN_BYTES = 4 * 1024 * 1024

/**
 * After a 413: reads and drops what the client is still sending, so it can read the answer (a client stops
 * once it has), and closes the connection when more than {@link REFUSED_BODY_DRAIN_BYTES} arrive, which is
 * far cheaper than reading a whole oversized upload. A body that ends within the allowance leaves the
 * connection usable.
 */
function dropThenClose(req: IncomingMessage): void {
  let dropped = 0
  const onData = (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > REFUSED_BODY_DRAIN_BYTES) {
      req.off("data", onData)
      req.socket.destroy()
    }
  }
  req.on("data", onData)
  req.once("end", () => req.off("data", onData))
  // A body reader that gave up paused the request; a paused socket would hold the client's last bytes.
  req.resume()
}

function originOf(req: IncomingMessage): string {
  const host = req.headers.host ?? `${req.socket.localAddress ?? "127.0.0.1"}:${req.socket.localPort ?? 0}`
  return `http://${host}`
}

/**
 * Builds the router: find-my-way does the path matching; this adds what every route shares — 404 / 405 with
 * `Allow`, bearer auth, JSON bodies with a size limit, and rendering coded errors as `{ error: { code,
 * message } }`.
 */
export function makeRouter(routes: ReadonlyArray<Route>, options: RouterOptions): Router {
  const fmw = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 256 })
  for (const route of routes) fmw.on(route.method, route.path, () => undefined, route)

  const match = (method: string, url: string): Match | HttpError => {
    const parsed = new URL(url, "http://localhost")
    const lookup = (m: HttpMethod) => fmw.find(m, parsed.pathname)
    const effective = method === "HEAD" ? "GET" : method
    const found = METHODS.includes(effective as HttpMethod) ? lookup(effective as HttpMethod) : null
    if (found === null) {
      const allowed = METHODS.filter((m) => lookup(m) !== null)
      if (allowed.length > 0) {
        return new ServerError({
          reason: "MethodNotAllowed",
          message: `${method} is not allowed on ${parsed.pathname}; allowed: ${allowed.join(", ")}`,
          headers: { allow: allowed.join(", ") },
        })
      }
      return new ServerError({ reason: "NotFound", message: `no route for ${method} ${parsed.pathname}` })
    }
    const params: Record<string, string> = {}
    for (const [k, v] of Object.entries(found.params)) if (v !== undefined) params[k] = v
    return { route: found.store as Route, params, query: parsed.searchParams }
  }

  const internal = (error: unknown, req: IncomingMessage): HttpError => {
    options.onInternalError?.(error, req)
    return new ServerError({
      reason: "Internal",
      message: `internal error: ${messageOf(error)}`,
      cause: error,
    })
  }

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      if (options.isShuttingDown()) {
        throw new ServerError({
          reason: "ShuttingDown",
          message: "the host is shutting down",
          headers: { connection: "close" },
        })
      }
      const found = match(req.method ?? "GET", req.url ?? "/")
      if (isHttpError(found)) throw found
      const { route, params, query } = found
      if (route.auth !== false) authenticate(req, options.verifyToken)
      const body =
        route.body === undefined || "raw" in route.body
          ? undefined
          : await readJsonBody(req, route.body, options.maxBodyBytes)
      const request: RouteRequest<unknown> = { req, params, query, body, origin: originOf(req) }
      const response = await route.handle(request)
      if (response.stream !== undefined) sendStream(res, response.status, response.stream, response.headers)
      else sendJson(res, response.status, response.body, response.headers ?? {})
    })().catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      const closing = isHttpError(error) && error.headers?.connection === "close"
      if (closing && error.status === 413) {
        // A refused upload is not drained, but closing right after the answer would reset the connection
        // under a client still sending, which then sees ECONNRESET instead of the 413.
        const { connection: _close, ...headers } = error.headers ?? {}
        sendError(res, { code: error.code, status: error.status, message: error.message, headers })
        res.once("finish", () => dropThenClose(req))
        return
      }
      sendError(res, isHttpError(error) ? error : internal(error, req))
      if (closing) res.once("finish", () => req.destroy())
    })
  }

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    try {
      if (options.isShuttingDown()) {
        throw new ServerError({ reason: "ShuttingDown", message: "the host is shutting down" })
      }
      const found = match(req.method ?? "GET", req.url ?? "/")
      if (isHttpError(found)) throw found
      const { route, params, query } = found
      if (route.upgrade === undefined) {
        throw new ServerError({ reason: "NotFound", message: `${found.route.path} is not a WebSocket route` })
      }
      if (route.auth !== false) authenticate(req, options.verifyToken, true)
      route.upgrade({ req, params, query, body: undefined, origin: originOf(req) }, socket, head)
    } catch (error) {
      rejectUpgrade(socket, isHttpError(error) ? error : internal(error, req))
    }
  }

  return { routes, handleRequest, handleUpgrade }
}
