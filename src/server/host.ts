import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Clock, type ClockShape } from "../adapters/clock.js"
import { recoverSessions } from "../effects/sessionRecovery.js"
import { EventLog } from "../eventlog/eventLog.js"
import { fileEventLogLayer } from "../eventlog/fileEventLog.js"
import { createSchedulerService, type SchedulerService } from "../scheduler/schedulerService.js"
import { type BundleStore, makeBundleStore } from "../teleport/bundleStore.js"
import { makeTriggerRepositories } from "../triggers/triggerRepository.js"
import { openTriggerStore, type TriggerStore } from "../triggers/triggerStore.js"
import type { ServerConfig } from "./config.js"
import type { PreparedHome } from "./home.js"
import { createHostSessionManager } from "./hostSessionManager.js"
import { type AgentHostServer, makeServer } from "./httpServer.js"
import { bundlesRoutes } from "./routes/bundlesRoutes.js"
import { cronRoutes } from "./routes/cronRoutes.js"
import { hostRoutes } from "./routes/hostRoutes.js"
import { triggersRoutes } from "./routes/triggersRoutes.js"
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
  readonly triggers: TriggerStore
  readonly scheduler: SchedulerService
  /** How many sessions of an earlier run were found in the logs (and ended, if they were still running). */
  readonly recoveredSessions: number
  /**
   * Graceful stop, outermost first: no more scheduled fires, then the server (clients told, sessions ended,
   * their logs flushed), then the trigger log.
   */
  readonly close: () => Promise<void>
}

/**
 * The composition root of the host: recovers the previous run's sessions from their logs, builds the session
 * manager and the HTTP/WebSocket server (whose bundle routes sweep partial uploads). Nothing listens until
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
  // Partial uploads a crash left are swept by the bundle routes, before they take the first upload.
  const bundles = makeBundleStore({ dir: join(home.home, "bundles") })
  const sessions = createHostSessionManager({
    config,
    home,
    clock,
    hostEnv: options.hostEnv,
    bundles,
    recovered,
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  const triggers = await openTriggerStore({ eventLog: fileEventLogLayer({ dir: home.logsDir }), clock })
  const scheduler = await createSchedulerService({
    home,
    config,
    clock,
    sessionManager: sessions,
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  const server = makeServer({
    config,
    home,
    sessionManager: sessions,
    clock,
    // Building the trigger routes connects the store to the server's session gate, so scheduled runs pass
    // the same policy checks as manual ones.
    // Repository projects of triggers clone into the first work root, from repositories inside the roots.
    routes: [
      bundlesRoutes({ bundles }),
      hostRoutes(),
      triggersRoutes(triggers, {
        repositories: makeTriggerRepositories({ workRoots: config.work_roots }),
        // next_run_at with the jitter in force (cron.json, POST /cron/config), as the scheduler arms it.
        jitter: () => scheduler.jitter(),
      }),
      cronRoutes(scheduler),
    ],
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  // Scheduled triggers fire through the cron scheduler: its timer heap, jitter and history.
  await scheduler.scheduleTriggers(triggers)
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      await scheduler.close()
      await server.close()
      await triggers.close()
    })()
    return closing
  }
  return { server, sessions, bundles, triggers, scheduler, recoveredSessions: recovered.length, close }
}
