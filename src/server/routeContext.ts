import type { ClockShape } from "../adapters/clock.js"
import type { ServerConfig } from "./config.js"
import type { HomeLayout } from "./home.js"
import type { Route } from "./route.js"
import type { SessionGate } from "./sessionPolicy.js"
import type { SessionSocketServer } from "./sessionSocket.js"

/** What route modules get from the server. */
export interface RouteContext {
  readonly config: ServerConfig
  readonly home: HomeLayout
  /** Sessions, with the policy in front of `create`. */
  readonly sessions: SessionGate
  readonly sockets: SessionSocketServer
  readonly clock: ClockShape
  /** Every route of the server (for `GET /openapi.json`); complete once the server is built. */
  readonly routes: () => ReadonlyArray<Route>
}

/**
 * A file of routes, e.g. `sessionsRoutes`. Pass more to `makeServer({ routes: [...] })` to add an API area
 * (bundles, cron, triggers) on the same router, auth and error handling included.
 */
export type RouteModule = (context: RouteContext) => ReadonlyArray<Route>
