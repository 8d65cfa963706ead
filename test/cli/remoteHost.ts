import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { liveClock } from "../../src/adapters/clock.js"
import type { ServerConfig } from "../../src/server/config.js"
import { prepareHome } from "../../src/server/home.js"
import { createHostSessionManager } from "../../src/server/hostSessionManager.js"
import { makeServer } from "../../src/server/httpServer.js"
import { bundlesRoutes } from "../../src/server/routes/bundlesRoutes.js"
import { hostRoutes } from "../../src/server/routes/hostRoutes.js"
import type { SessionManager } from "../../src/server/sessionManager.js"
import { makeBundleStore } from "../../src/teleport/bundleStore.js"
import { FakeSessionManager } from "../support/fakeSessionHandle.js"

/** A real host on 127.0.0.1 port 0 with the teleport routes, and a client side (home, token file). */
export interface RemoteHost {
  readonly url: string
  readonly home: string
  readonly workRoot: string
  readonly tokenPath: string
  /** A client home without config or token, so every client flag is explicit. */
  readonly clientHome: string
  readonly manager: SessionManager
  /** Files in `<home>/bundles` (uploads in progress or stored). */
  bundleFiles(): string[]
  /** `--url U --token-file F --home H` for the client commands. */
  clientArgs(): string[]
  close(): Promise<void>
}

export interface RemoteHostOptions {
  readonly config?: Partial<ServerConfig>
  readonly maxBundleBytes?: number
  /** The real session runtime with the built-in agent (default), or fake sessions. */
  readonly sessions?: "real" | "fake"
}

export async function startRemoteHost(options: RemoteHostOptions = {}): Promise<RemoteHost> {
  const home = realpathSync(mkdtempSync(join(tmpdir(), "agh-remote-host-")))
  const prepared = prepareHome(home)
  const config: ServerConfig = {
    ...prepared.config,
    port: 0,
    allow_remote_sessions: true,
    allow_skip_permissions: true,
    ...options.config,
  }
  const workRoot = config.work_roots[0] ?? join(home, "work")
  const bundles = makeBundleStore({ dir: join(home, "bundles") })
  const manager: SessionManager =
    options.sessions === "fake"
      ? new FakeSessionManager(workRoot)
      : createHostSessionManager({ config, home: prepared, clock: liveClock, hostEnv: process.env, bundles })
  const maxBundleBytes = options.maxBundleBytes
  const limit = maxBundleBytes === undefined ? {} : { maxBundleBytes }
  const server = makeServer({
    config,
    home: prepared,
    sessionManager: manager,
    clock: liveClock,
    routes: [bundlesRoutes({ bundles, ...limit }), hostRoutes(limit)],
    // A bug behind a 500 should be visible in the test output, not only as "internal error".
    log: (line) => process.stderr.write(`remote host: ${line}\n`),
  })
  const { url } = await server.listen()
  const clientHome = join(home, "client")
  mkdirSync(clientHome)
  return {
    url,
    home,
    workRoot,
    tokenPath: prepared.tokenPath,
    clientHome,
    manager,
    bundleFiles: () => {
      try {
        return readdirSync(join(home, "bundles"))
      } catch {
        return []
      }
    },
    clientArgs: () => ["--url", url, "--token-file", prepared.tokenPath, "--home", clientHome],
    close: async () => {
      await server.close()
      rmSync(home, { recursive: true, force: true })
    },
  }
}
