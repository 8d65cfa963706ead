import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { WebSocket } from "ws"
import { ManualClock } from "../../src/adapters/clock.js"
import type { ServerConfig } from "../../src/server/config.js"
import { prepareHome } from "../../src/server/home.js"
import { type AgentHostServer, type MakeServerOptions, makeServer } from "../../src/server/httpServer.js"
import { FakeSessionManager } from "../support/fakeSessionHandle.js"

/** A real host on 127.0.0.1 port 0 over a fresh temp home, with fake sessions and a manual clock. */
export interface TestServer {
  readonly url: string
  readonly wsBase: string
  readonly token: string
  readonly home: string
  readonly workRoot: string
  readonly manager: FakeSessionManager
  readonly server: AgentHostServer
  readonly clock: ManualClock
  /** `fetch` against the server with the right token unless `token` says otherwise (`null`: no header). */
  api(method: string, path: string, init?: ApiInit): Promise<ApiResponse>
  /** Opens a WebSocket to `path` with the right token unless told otherwise. */
  ws(path: string, init?: WsInit): Promise<WsClient>
  close(): Promise<void>
}

export interface ApiInit {
  readonly token?: string | null
  readonly body?: unknown
  /** Sent as is (no JSON encoding). */
  readonly rawBody?: string | Buffer
  readonly headers?: Record<string, string>
}

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  readonly json: unknown
}

export interface WsInit {
  readonly token?: string | null
  readonly protocols?: ReadonlyArray<string>
  readonly headers?: Record<string, string>
}

export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  extra: Partial<MakeServerOptions> = {},
): Promise<TestServer> {
  const home = mkdtempSync(join(tmpdir(), "agh-server-"))
  const prepared = prepareHome(home)
  const config: ServerConfig = { ...prepared.config, port: 0, ...overrides }
  const workRoot = config.work_roots[0] ?? join(home, "work")
  const manager = new FakeSessionManager(workRoot)
  const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"))
  let n = 0
  const server = makeServer({
    config,
    home: prepared,
    sessionManager: manager,
    clock,
    connectionId: () => `conn_${++n}`,
    ...extra,
  })
  const { url } = await server.listen()
  const wsBase = url.replace(/^http/, "ws")
  const clients: WsClient[] = []
  return {
    url,
    wsBase,
    token: prepared.token,
    home,
    workRoot,
    manager,
    server,
    clock,
    async api(method, path, init = {}) {
      const token = init.token === undefined ? prepared.token : init.token
      const headers: Record<string, string> = { ...(init.headers ?? {}) }
      if (token !== null) headers.authorization = `Bearer ${token}`
      let body: string | Buffer | undefined
      if (init.rawBody !== undefined) body = init.rawBody
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body)
        headers["content-type"] ??= "application/json"
      }
      const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body }) })
      const text = await res.text()
      let json: unknown
      try {
        json = text === "" ? undefined : JSON.parse(text)
      } catch {
        json = text
      }
      return { status: res.status, headers: res.headers, json }
    },
    async ws(path, init = {}) {
      const token = init.token === undefined ? prepared.token : init.token
      const headers: Record<string, string> = { ...(init.headers ?? {}) }
      if (token !== null) headers.authorization = `Bearer ${token}`
      const client = await openWs(wsBase + path, headers, init.protocols)
      clients.push(client)
      return client
    },
    async close() {
      for (const c of clients) c.socket.terminate()
      await server.close()
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/** A test's view of one WebSocket: every frame it got, in order, and ways to wait for more. */
export interface WsClient {
  readonly socket: WebSocket
  readonly frames: Array<Record<string, unknown>>
  readonly closed: Promise<{ code: number; reason: string }>
  send(value: unknown): void
  /** Waits for the first frame (counting from `from`) that matches; fails after `timeoutMs`. */
  waitFor(
    match: (frame: Record<string, unknown>) => boolean,
    options?: { from?: number; timeoutMs?: number },
  ): Promise<Record<string, unknown>>
  /** Frames that carry a `seq`. */
  seqs(): number[]
}

/** Opens a WebSocket; rejects with the HTTP status and body when the upgrade is refused. */
export function openWs(
  url: string,
  headers: Record<string, string>,
  protocols?: ReadonlyArray<string>,
): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols === undefined ? [] : [...protocols], {
      headers,
      perMessageDeflate: false,
    })
    const frames: Array<Record<string, unknown>> = []
    const waiters = new Set<() => void>()
    socket.on("message", (data, isBinary) => {
      frames.push(isBinary ? { binary: true } : (JSON.parse(data.toString()) as Record<string, unknown>))
      for (const w of [...waiters]) w()
    })
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      socket.on("close", (code, reason) => {
        r({ code, reason: reason.toString() })
        for (const w of [...waiters]) w()
      }),
    )
    socket.on("error", () => undefined)
    socket.once("unexpected-response", (_req, res) => {
      let text = ""
      res.on("data", (c: Buffer) => {
        text += c.toString()
      })
      res.on("end", () =>
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
            status: res.statusCode,
            body: JSON.parse(text) as unknown,
          }),
        ),
      )
    })
    socket.once("open", () =>
      resolve({
        socket,
        frames,
        closed,
        send: (value) => socket.send(typeof value === "string" ? value : JSON.stringify(value)),
        seqs: () => frames.flatMap((f) => (typeof f.seq === "number" ? [f.seq] : [])),
        waitFor: (match, options = {}) =>
          new Promise((res, rej) => {
            let index = options.from ?? 0
            const check = () => {
              for (; index < frames.length; index++) {
                const frame = frames[index]
                if (frame !== undefined && match(frame)) {
                  done()
                  res(frame)
                  return
                }
              }
              if (socket.readyState === WebSocket.CLOSED) {
                done()
                rej(
                  new Error(`socket closed before a matching frame; got ${JSON.stringify(frames.slice(-5))}`),
                )
              }
            }
            const timer = setTimeout(() => {
              done()
              rej(
                new Error(
                  `no matching frame within ${options.timeoutMs ?? 5000} ms; last: ${JSON.stringify(frames.slice(-5))}`,
                ),
              )
            }, options.timeoutMs ?? 5000)
            const done = () => {
              clearTimeout(timer)
              waiters.delete(check)
            }
            waiters.add(check)
            check()
          }),
      }),
    )
  })
}
