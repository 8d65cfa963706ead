/**
 * Child process of the server benchmark: a fresh server (raw `ws`, or the host with one fake session) whose
 * RSS is measured alone. Prints `{"url", "token"}` on its first line, then answers stdin lines:
 * `rss` → RSS bytes after GC, `attached` → clients attached to the session. Exits when stdin closes.
 *
 * Usage: node --expose-gc serverBenchIdleHost.js raw|host
 */
import { mkdtempSync, rmSync } from "node:fs"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { WebSocketServer } from "ws"
import { ManualClock } from "../src/adapters/clock.js"
import { prepareHome } from "../src/server/home.js"
import { makeServer } from "../src/server/httpServer.js"
import { FakeSessionHandle, FakeSessionManager } from "../test/support/fakeSessionHandle.js"

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined)
const mode = process.argv[2]
let attached = () => 0
let stop: () => Promise<void>

if (mode === "raw") {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false })
  await new Promise<void>((resolve) => wss.once("listening", resolve))
  wss.on("connection", (ws) => ws.on("message", () => undefined))
  attached = () => wss.clients.size
  stop = () => new Promise((resolve) => wss.close(() => resolve()))
  process.stdout.write(
    `${JSON.stringify({ url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` })}\n`,
  )
} else {
  const dir = mkdtempSync(join(tmpdir(), "agh-bench-idle-"))
  const home = prepareHome(dir)
  const manager = new FakeSessionManager(join(dir, "work"))
  const session = manager.add(new FakeSessionHandle({ id: "s_idle", workDir: dir, status: "idle" }))
  const server = makeServer({
    config: { ...home.config, port: 0 },
    home,
    sessionManager: manager,
    clock: new ManualClock(0),
  })
  const { url } = await server.listen()
  attached = () => session.listenerCount
  stop = async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
  process.stdout.write(
    `${JSON.stringify({ url: `${url.replace(/^http/, "ws")}/sessions/s_idle/ws`, token: home.token })}\n`,
  )
}

const lines = createInterface({ input: process.stdin })
lines.on("line", (line) => {
  if (line === "rss") {
    for (let i = 0; i < 3; i++) gc()
    process.stdout.write(`${process.memoryUsage().rss}\n`)
  } else if (line === "attached") {
    process.stdout.write(`${attached()}\n`)
  }
})
lines.once("close", () => {
  void stop().then(() => process.exit(0))
})
