import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { WebSocket, WebSocketServer } from "ws"
import { ManualClock } from "../src/adapters/clock.js"
import { prepareHome } from "../src/server/home.js"
import { type AgentHostServer, makeServer } from "../src/server/httpServer.js"
import { FakeSessionHandle, FakeSessionManager } from "../test/support/fakeSessionHandle.js"
import { type BenchRow, type BenchSection, median, percentile } from "./harness.js"

/**
 * The host's WebSocket relay beside raw `ws` measured in the same run (PERF.md):
 * - throughput: a fake agent emitting ~200 B SDK messages (objects, so our JSON.stringify counts against
 *   us) through SessionHandle → SessionConnection → client, vs a raw ws server sending pre-serialized
 *   200 B strings to one client; both in batches of 1,000 per event-loop turn;
 * - latency: a client `user` frame → validation → SessionHandle → the agent's reply → client, vs a raw ws
 *   echo of 200 B; the difference of the p99s is what the host adds;
 * raw and relay reps alternate and each reports the median over its reps, so load from other processes on a
 * shared machine hits both sides alike;
 * - memory: server RSS per idle connection with 10,000 clients (in a child process), vs a raw ws server.
 */

const MESSAGES = 100_000
const BATCH = 1_000
const ROUND_TRIPS = 1_000
const IDLE = Number(process.env.AGH_BENCH_IDLE ?? 10_000)
const REPS = 3

const TEXT = "Ran the tests: 42 passed, 0 failed. Next I will update the README with the new flag and"
const agentMessage = (n: number) => ({
  type: "assistant",
  message: { id: "msg_01", content: [{ type: "text", text: TEXT }] },
  session_id: "s_bench",
  n,
})
const RAW_200B = JSON.stringify({ ...agentMessage(1), seq: 1 })

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A ws server on port 0 that hands each connection to `onConnection`. */
async function rawServer(
  onConnection: (ws: WebSocket) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false })
  await new Promise<void>((resolve) => wss.once("listening", resolve))
  wss.on("connection", onConnection)
  const { port } = wss.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
}

function connect(url: string, token?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
    })
    ws.once("open", () => resolve(ws))
    ws.once("error", reject)
  })
}

/** Messages per second a client receives while `produce` sends `MESSAGES`. */
async function receiveRate(client: WebSocket, produce: (batch: number) => void): Promise<number> {
  let got = 0
  const done = new Promise<void>((resolve) =>
    client.on("message", () => {
      if (++got === MESSAGES) resolve()
    }),
  )
  const start = process.hrtime.bigint()
  for (let sent = 0; sent < MESSAGES; sent += BATCH) {
    produce(BATCH)
    await turn()
  }
  await done
  client.removeAllListeners("message")
  return (MESSAGES * 1e9) / Number(process.hrtime.bigint() - start)
}

/** Round-trip times in µs of `send` → first frame back. */
async function roundTrips(client: WebSocket, send: () => void): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = process.hrtime.bigint()
    await new Promise<void>((resolve) => {
      client.once("message", () => resolve())
      send()
    })
    times.push(Number(process.hrtime.bigint() - start) / 1_000)
  }
  return times.sort((a, b) => a - b)
}

interface Host {
  readonly server: AgentHostServer
  readonly url: string
  readonly token: string
  readonly session: FakeSessionHandle
  close(): Promise<void>
}

async function startHost(): Promise<Host> {
  const dir = mkdtempSync(join(tmpdir(), "agh-bench-server-"))
  const home = prepareHome(dir)
  const manager = new FakeSessionManager(join(dir, "work"))
  const session = manager.add(new FakeSessionHandle({ id: "s_bench", workDir: dir, status: "busy" }))
  const server = makeServer({
    config: { ...home.config, port: 0, ws_max_buffered_bytes: 64 * 1024 * 1024 },
    home,
    sessionManager: manager,
    clock: new ManualClock(0),
  })
  const { url } = await server.listen()
  return {
    server,
    url: url.replace(/^http/, "ws"),
    token: home.token,
    session,
    close: async () => {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Median of the per-rep values: interleaving raw and relay reps spreads machine noise over both. */

async function throughput(): Promise<{ raw: number; relay: number }> {
  let serverEnd: WebSocket | undefined
  const raw = await rawServer((ws) => {
    serverEnd = ws
  })
  const rawClient = await connect(raw.url)
  while (serverEnd === undefined) await turn()
  const sender = serverEnd
  const host = await startHost()
  const client = await connect(`${host.url}/sessions/s_bench/ws`, host.token)
  let n = 0
  const rawRates: number[] = []
  const relayRates: number[] = []
  for (let rep = 0; rep < REPS; rep++) {
    rawRates.push(
      await receiveRate(rawClient, (count) => {
        for (let i = 0; i < count; i++) sender.send(RAW_200B)
      }),
    )
    relayRates.push(
      await receiveRate(client, (count) => {
        for (let i = 0; i < count; i++) host.session.emit(agentMessage(++n))
      }),
    )
  }
  rawClient.close()
  client.close()
  await raw.close()
  await host.close()
  return { raw: median(rawRates), relay: median(relayRates) }
}

interface Latencies {
  readonly p50: number
  readonly p99: number
}

async function latency(): Promise<{ raw: Latencies; relay: Latencies }> {
  const raw = await rawServer((ws) => ws.on("message", (data) => ws.send(data, { binary: false })))
  const rawClient = await connect(raw.url)
  const host = await startHost()
  host.session.onUserMessage = (_message, session) => {
    session.emit(agentMessage(0))
  }
  const client = await connect(`${host.url}/sessions/s_bench/ws?after=0`, host.token)
  const user = JSON.stringify({
    type: "user",
    message: { role: "user", content: "Please run the tests and tell me what failed, then fix it." },
    parent_tool_use_id: null,
    session_id: "s_bench",
  })
  const sendRaw = () => rawClient.send(RAW_200B)
  const sendUser = () => client.send(user)
  // Warm-up, then interleaved reps.
  await roundTrips(rawClient, sendRaw)
  await roundTrips(client, sendUser)
  const rawReps: number[][] = []
  const relayReps: number[][] = []
  for (let rep = 0; rep < 5; rep++) {
    rawReps.push(await roundTrips(rawClient, sendRaw))
    relayReps.push(await roundTrips(client, sendUser))
  }
  rawClient.close()
  client.close()
  await raw.close()
  await host.close()
  const summary = (reps: number[][]): Latencies => ({
    p50: median(reps.map((r) => percentile(r, 50))),
    p99: median(reps.map((r) => percentile(r, 99))),
  })
  return { raw: summary(rawReps), relay: summary(relayReps) }
}

/** A child process speaking one line per request over stdio. */
function lineChild(args: ReadonlyArray<string>): {
  next(): Promise<string>
  ask(line: string): Promise<string>
  end(): Promise<void>
} {
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] })
  const queue: string[] = []
  const waiting: Array<(line: string) => void> = []
  let buffered = ""
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString()
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      const line = buffered.slice(0, i)
      buffered = buffered.slice(i + 1)
      const w = waiting.shift()
      if (w === undefined) queue.push(line)
      else w(line)
    }
  })
  const next = () => {
    const line = queue.shift()
    return line !== undefined
      ? Promise.resolve(line)
      : new Promise<string>((resolve) => waiting.push(resolve))
  }
  return {
    next,
    ask: (line) => {
      child.stdin.write(`${line}\n`)
      return next()
    },
    end: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve())
        child.stdin.end()
      }),
  }
}

/** Server RSS bytes per idle connection, server and clients each in a fresh process. */
async function idleCost(mode: "raw" | "host"): Promise<number> {
  const server = lineChild(["--expose-gc", join(import.meta.dirname, "serverBenchIdleHost.js"), mode])
  const { url, token } = JSON.parse(await server.next()) as { url: string; token?: string }
  const before = Number(await server.ask("rss"))
  const clients = lineChild([
    join(import.meta.dirname, "serverBenchClients.js"),
    url,
    String(IDLE),
    ...(token === undefined ? [] : [token]),
  ])
  if ((await clients.next()) !== "ready") throw new Error("client process failed")
  const attached = Number(await server.ask("attached"))
  if (attached !== IDLE)
    throw new Error(`expected ${IDLE} attached clients on the ${mode} server, saw ${attached}`)
  const after = Number(await server.ask("rss"))
  await clients.end()
  await server.end()
  return (after - before) / IDLE
}

async function idleMemory(): Promise<{ raw: number; host: number }> {
  return { raw: await idleCost("raw"), host: await idleCost("host") }
}

/** `npm run bench -- server`. */
export async function serverBench(): Promise<BenchSection> {
  const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const start = Date.now()
    const result = await run()
    process.stderr.write(`server bench: ${name} took ${Date.now() - start} ms\n`)
    return result
  }
  const t = await phase("throughput", throughput)
  const l = await phase("latency", latency)
  const m = await phase("idle memory", idleMemory)
  const rows: BenchRow[] = [
    { name: "raw ws: one client streaming 200 B", value: t.raw, unit: "msg/s" },
    {
      name: "relay: fake agent → host → client",
      value: t.relay,
      unit: "msg/s",
      baseline: "raw ws: one client streaming 200 B",
      target: 0.5,
    },
    { name: "raw ws echo p50", value: l.raw.p50, unit: "µs" },
    { name: "raw ws echo p99", value: l.raw.p99, unit: "µs" },
    { name: "relay user → agent → client p50", value: l.relay.p50, unit: "µs" },
    { name: "relay user → agent → client p99", value: l.relay.p99, unit: "µs" },
    { name: "added p99 over raw echo (target ≤ 1,000)", value: l.relay.p99 - l.raw.p99, unit: "µs" },
    { name: `raw ws: RSS per idle connection (${IDLE})`, value: m.raw / 1024, unit: "KiB" },
    {
      name: `host: RSS per idle connection (${IDLE}) (target < 50)`,
      value: m.host / 1024,
      unit: "KiB",
      baseline: `raw ws: RSS per idle connection (${IDLE})`,
      lowerIsBetter: true,
    },
  ]
  return { title: "server: WebSocket relay vs raw ws", rows }
}
