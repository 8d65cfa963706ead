import { join } from "node:path"
import { Effect, Layer } from "effect"
import { Clock, type ClockShape } from "../adapters/clock.js"
import { recoverSessions } from "../effects/sessionRecovery.js"
import { EventLog } from "../eventlog/eventLog.js"
import { fileEventLogLayer } from "../eventlog/fileEventLog.js"
import { type BundleStore, makeBundleStore } from "../teleport/bundleStore.js"
import type { ServerConfig } from "./config.js"
import type { PreparedHome } from "./home.js"
import { createHostSessionManager } from "./hostSessionManager.js"
import { type AgentHostServer, makeServer } from "./httpServer.js"
import type { SessionManager } from "./sessionManager.js"

export interface StartHostOptions {
  readonly home: PreparedHome
  /** The effective config (the home's, with command-line overrides). */
  readonly config: ServerConfig
  readonly clock: ClockShape
  readonly hostEnv: Readonly<Record<string, string | undefined>>
  readonly log?: (line: string) => void
}

/** A host assembled from its parts: what `agenthost serve` runs, and what tests start on port 0. */
export interface Host {
  readonly server: AgentHostServer
  readonly sessions: SessionManager
  readonly bundles: BundleStore
  /** How many sessions of an earlier run were found in the logs (and ended, if they were still running). */
  readonly recoveredSessions: number
}

/**
 * The composition root of the host: recovers the previous run's sessions from their logs, sweeps partial
 * uploads, builds the session manager and the HTTP/WebSocket server. Nothing listens until
 * `host.server.listen()`.
 */
export async function startHost(options: StartHostOptions): Promise<Host> {
  const { home, config, clock } = options
  const logLayer = fileEventLogLayer({ dir: home.logsDir }).pipe(Layer.provide(Layer.succeed(Clock, clock)))
  const recovered = await Effect.runPromise(
    Effect.gen(function* () {
      return yield* recoverSessions(yield* EventLog, clock)
    }).pipe(Effect.provide(logLayer)),
  )
  const bundles = makeBundleStore({ dir: join(home.home, "bundles") })
  await Effect.runPromise(Effect.ignore(bundles.sweep()))
  const sessions = createHostSessionManager({
    config,
    home,
    clock,
    hostEnv: options.hostEnv,
    bundles,
    recovered,
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  const server = makeServer({
    config,
    home,
    sessionManager: sessions,
    clock,
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  return { server, sessions, bundles, recoveredSessions: recovered.length }
}
