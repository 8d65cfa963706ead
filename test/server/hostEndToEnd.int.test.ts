import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { liveClock } from "../../src/adapters/clock.js"
import { createDirectConnectSession } from "../../src/client/directConnectSession.js"
import { DirectConnectSessionManager } from "../../src/client/directConnectSessionManager.js"
import { HostClient } from "../../src/client/hostClient.js"
import { prepareHome } from "../../src/server/home.js"
import { type Host, startHost } from "../../src/server/host.js"

const BIN = join(import.meta.dirname, "../../bin/agenthost.js")
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function startTestHost(homeDir: string): Promise<{ host: Host; url: string; token: string }> {
  const home = prepareHome(homeDir)
  const host = await startHost({
    home,
    config: { ...home.config, port: 0 },
    clock: liveClock,
    hostEnv: process.env,
  })
  const { url } = await host.server.listen()
  cleanups.push(() => host.close())
  return { host, url, token: home.token }
}

/** Resolves with the first value `pick` returns for a message (polls the array the callbacks fill). */
function until<T>(what: string, pick: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const tick = () => {
      const v = pick()
      if (v !== undefined) return resolve(v)
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(tick, 10)
    }
    tick()
  })
}

type Msg = Record<string, unknown>

async function waitStatus(client: HostClient, sessionId: string, status: string) {
  for (let i = 0; i < 800; i++) {
    const info = await client.getSession(sessionId)
    if (info.status === status) return info
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`session ${sessionId} never reached ${status}`)
}

describe("a real host with real built-in agents", () => {
  it("runs a permission round trip, an interrupt, and a reconnect that misses nothing", async () => {
    const { url, token } = await startTestHost(tempDir("agh-e2e-"))
    const { config } = await createDirectConnectSession({ serverUrl: url, authToken: token })
    const messages: Msg[] = []
    const requests: Array<{ id: string; input: unknown }> = []
    const manager = new DirectConnectSessionManager(config, {
      onMessage: (m) => messages.push(m as Msg),
      onPermissionRequest: (request, id) => requests.push({ id, input: request.input }),
    })
    cleanups.push(() => manager.disconnect())
    manager.connect()
    manager.sendMessage("$ echo hi")
    const first = await until("a permission request", () => requests[0])
    expect(first.input).toEqual({ command: "echo hi" })
    manager.respondToPermissionRequest(first.id, { behavior: "allow" })
    await until("the first result", () => messages.find((m) => m.type === "result"))
    expect(JSON.stringify(messages)).toContain("hi\\n")

    // A long command, allowed, then interrupted: the turn ends as the real CLI ends it.
    manager.sendMessage("$ tail -f /dev/null")
    const second = await until("the second permission request", () => requests[1])
    manager.respondToPermissionRequest(second.id, { behavior: "allow" })
    await until("the command to start", () =>
      messages.find((m) => m.type === "assistant" && JSON.stringify(m).includes("tail -f")),
    )
    manager.sendInterrupt()
    const interrupted = await until(
      "the interrupted result",
      () => messages.filter((m) => m.type === "result")[1],
    )
    expect(interrupted.subtype).toBe("error_during_execution")

    // Drop the client, let the session produce more, reconnect from a fresh client with the cursor.
    const cursor = manager.lastSeq()
    manager.disconnect()
    const client = new HostClient({ serverUrl: url, authToken: token })
    const ws = new DirectConnectSessionManager(config, { onMessage: () => {}, onPermissionRequest: () => {} })
    ws.connect()
    ws.sendMessage("$ echo again")
    const missedRequests: string[] = []
    const missed: Msg[] = []
    const rejoin = new DirectConnectSessionManager(
      config,
      {
        onMessage: (m) => missed.push(m as Msg),
        onPermissionRequest: (_r, id) => missedRequests.push(id),
      },
      { afterSeq: cursor },
    )
    cleanups.push(() => {
      ws.disconnect()
      rejoin.disconnect()
    })
    await waitStatus(client, config.sessionId, "awaiting_permission")
    rejoin.connect()
    const pending = await until("the pending request re-sent", () => missedRequests[0])
    rejoin.respondToPermissionRequest(pending, { behavior: "allow" })
    await until("the third result", () => missed.find((m) => m.type === "result"))
    const seqs = missed.map((m) => m.seq as number)
    expect(seqs[0]).toBeGreaterThan(cursor)
    expect(new Set(seqs).size).toBe(seqs.length)
    const all = await client.getMessages(config.sessionId)
    const allSeqs = all.map((m) => (m as Msg).seq as number)
    expect(allSeqs).toEqual(allSeqs.map((_, i) => i + 1))
    expect(JSON.stringify(all)).toContain("again\\n")
  })

  it("accounts for every session after the host is SIGKILLed and restarted", async () => {
    const homeDir = tempDir("agh-restart-")
    const spawnHost = () =>
      new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--home", homeDir], {
          stdio: ["ignore", "pipe", "pipe"],
        })
        cleanups.push(() => {
          if (child.exitCode === null) child.kill("SIGKILL")
        })
        let out = ""
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString()
          const m = /listening on (http:\/\/\S+)/.exec(out)
          if (m?.[1]) resolve({ child, url: m[1] })
        })
        child.on("exit", (code) => reject(new Error(`host exited early (${code})`)))
      })
    const first = await spawnHost()
    const token = readFileSync(join(homeDir, "token"), "utf8").trim()
    const { config } = await createDirectConnectSession({
      serverUrl: first.url,
      authToken: token,
      prompt: "$ echo pending",
    })
    const client = new HostClient({ serverUrl: first.url, authToken: token })
    await waitStatus(client, config.sessionId, "awaiting_permission")
    first.child.kill("SIGKILL")
    await new Promise((r) => first.child.once("exit", r))

    const second = await spawnHost()
    const after = new HostClient({ serverUrl: second.url, authToken: token })
    const info = await after.getSession(config.sessionId)
    expect(info.status).toBe("failed")
    expect(info.end_reason).toMatch(/host restarted/)
    const history = (await after.getMessages(config.sessionId)) as ReadonlyArray<Msg>
    const request = history.find((m) => m.type === "control_request")
    expect(request).toBeDefined()
    expect(
      history.some((m) => m.type === "control_cancel_request" && m.request_id === request?.request_id),
    ).toBe(true)
  })
})
