import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { type ClockShape, liveClock } from "../adapters/clock.js"
import { liveIds } from "../adapters/ids.js"
import type { ServerConfig } from "./config.js"
import type { HomeLayout } from "./home.js"
import { HostSetupError } from "./hostSetupError.js"
import type { Route } from "./route.js"
import type { RouteContext, RouteModule } from "./routeContext.js"
import { makeRouter } from "./router.js"
import { sessionsRoutes } from "./routes/sessionsRoutes.js"
import { systemRoutes } from "./routes/systemRoutes.js"
import type { ConnectionObserver } from "./sessionConnection.js"
import type { SessionManager } from "./sessionManager.js"
import { makeSessionGate } from "./sessionPolicy.js"
import { SessionSocketServer, type SocketStats } from "./sessionSocket.js"
import { makeTokenVerifier } from "./token.js"

export interface MakeServerOptions {
  readonly config: ServerConfig
  /** `<home>` and the token clients must present (see `prepareHome`). */
  readonly home: HomeLayout & { readonly token: string }
  /** The session runtime; the server puts the policy checks in front of it. */
  readonly sessionManager: SessionManager
  readonly clock?: ClockShape
  /** More route files on the same router (bundles, cron, triggers, ...). */
  readonly routes?: ReadonlyArray<RouteModule>
  /** Host side of the connectionMachine: called once per WebSocket client. */
  readonly observeConnection?: (sessionId: string, connectionId: string) => ConnectionObserver | undefined
  /** Makes connection ids; default random uuids. */
  readonly connectionId?: () => string
  /** Diagnostics (one line each): unexpected handler failures. Default: none. */
  readonly log?: (line: string) => void
}

/** Where a listening server can be reached. */
export interface ServerAddress {
  readonly host: string
  readonly port: number
  /** `http://host:port`, IPv6 hosts bracketed. */
  readonly url: string
}

/** A host's HTTP + WebSocket server (SPEC §4, §5). */
export interface AgentHostServer {
  /** Binds `config.host:config.port` (port 0 picks a free one). Fails with `AGH_LISTEN_FAILED`. */
  listen(): Promise<ServerAddress>
  /**
   * Graceful shutdown: stops accepting, closes every WebSocket with 1001, shuts the session manager down
   * (ending agents, flushing logs), then closes the remaining HTTP connections. Idempotent.
   */
  close(): Promise<void>
  readonly routes: ReadonlyArray<Route>
  readonly httpServer: Server
  stats(): SocketStats
}

/**
 * Builds the host's server. Nothing listens until `listen()`.
 *
 * @example
 * const home = prepareHome("/var/lib/agenthost")
 * const server = makeServer({ config: home.config, home, sessionManager })
 * const { url } = await server.listen()
 */
export function makeServer(options: MakeServerOptions): AgentHostServer {
  const { config } = options
  const clock = options.clock ?? liveClock
  const sessions = makeSessionGate(options.sessionManager, config)
  const sockets = new SessionSocketServer({
    sessions: options.sessionManager,
    config,
    clock,
    connectionId: options.connectionId ?? liveIds.uuid,
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.observeConnection === undefined ? {} : { observe: options.observeConnection }),
  })
  let routes: ReadonlyArray<Route> = []
  const context: RouteContext = { config, home: options.home, sessions, sockets, clock, routes: () => routes }
  routes = [systemRoutes, sessionsRoutes, ...(options.routes ?? [])].flatMap((module) => module(context))
  let shuttingDown = false
  const router = makeRouter(routes, {
    verifyToken: makeTokenVerifier(options.home.token),
    maxBodyBytes: config.max_body_bytes,
    isShuttingDown: () => shuttingDown,
    onInternalError: (error, req) =>
      options.log?.(
        `AGH_INTERNAL ${req.method} ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      ),
  })
  const httpServer = createServer(router.handleRequest)
  httpServer.on("upgrade", router.handleUpgrade)
  // A client that never sends its headers must not hold a socket forever.
  httpServer.headersTimeout = 30_000

  let closing: Promise<void> | undefined
  return {
    routes,
    httpServer,
    stats: () => sockets.stats(),
    listen: () =>
      new Promise<ServerAddress>((resolve, reject) => {
        const onError = (cause: NodeJS.ErrnoException) =>
          reject(
            new HostSetupError({
              reason: "ListenFailed",
              message: `cannot listen on ${config.host}:${config.port}: ${cause.code ?? cause.message}`,
              cause,
            }),
          )
        httpServer.once("error", onError)
        httpServer.listen(config.port, config.host, () => {
          httpServer.off("error", onError)
          const address = httpServer.address() as AddressInfo
          const host = address.family === "IPv6" ? `[${address.address}]` : address.address
          resolve({ host: address.address, port: address.port, url: `http://${host}:${address.port}` })
        })
      }),
    close: () => {
      closing ??= (async () => {
        shuttingDown = true
        const stopped = new Promise<void>((resolve) => {
          if (!httpServer.listening) resolve()
          else httpServer.close(() => resolve())
        })
        httpServer.closeIdleConnections()
        await sockets.close()
        await options.sessionManager.shutdown()
        httpServer.closeAllConnections()
        await stopped
      })()
      return closing
    },
  }
}
