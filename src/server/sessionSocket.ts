import type { Duplex } from "node:stream"
import { WebSocketServer } from "ws"
import type { ClockShape, TimerHandle } from "../adapters/clock.js"
import type { SessionHandle } from "../effects/sessionHandle.js"
import { WS_SUBPROTOCOL } from "./auth.js"
import type { ServerConfig } from "./config.js"
import { parseAfter, requireSession } from "./requestParams.js"
import type { RouteRequest } from "./route.js"
import { type ConnectionObserver, SessionConnection } from "./sessionConnection.js"
import type { SessionManager } from "./sessionManager.js"
import { WS_CLOSE, WS_ERROR } from "./wsCodes.js"

export interface SessionSocketServerOptions {
  readonly sessions: Pick<SessionManager, "get">
  readonly config: ServerConfig
  readonly clock: ClockShape
  /** Makes connection ids (the `Ids` adapter's `uuid` in production). */
  readonly connectionId: () => string
  /** Diagnostics for failures that have no client to tell. */
  readonly log?: (line: string) => void
  /** Integration point for the host-side connectionMachine; see {@link ConnectionObserver}. */
  readonly observe?: (sessionId: string, connectionId: string) => ConnectionObserver | undefined
}

/** Live numbers, for tests, benchmarks and operators. */
export interface SocketStats {
  readonly connections: number
  /** Sum of every connection's unsent bytes: what slow clients cost the host right now. */
  readonly bufferedBytes: number
}

/**
 * The WebSocket side of the host: upgrades `GET /sessions/:id/ws`, runs one {@link SessionConnection} per
 * client, pings every client each `ws_ping_interval_ms` (on the injected clock) and closes a session's
 * clients with 1000 once it ends.
 */
export class SessionSocketServer {
  private readonly wss: WebSocketServer
  private readonly connections = new Set<SessionConnection>()
  private readonly bySession = new Map<string, Set<SessionConnection>>()
  private timer: TimerHandle | undefined
  private closed = false

  constructor(private readonly options: SessionSocketServerOptions) {
    const { config } = options
    this.wss = new WebSocketServer({
      noServer: true,
      // Deflate costs ~26x throughput and ~11x memory per connection for small messages (PERF.md).
      perMessageDeflate: false,
      maxPayload: config.max_frame_bytes,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    })
    this.arm()
  }

  /** Takes over an authenticated upgrade request for `/sessions/:id/ws`. */
  upgrade(request: RouteRequest<undefined>, socket: Duplex, head: Buffer): void {
    const handle = requireSession(this.options.sessions, request.params.id)
    const after = parseAfter(request.query, handle.info().last_seq)
    this.wss.handleUpgrade(request.req, socket, head, (ws) => {
      const connectionId = this.options.connectionId()
      const observer = this.options.observe?.(handle.id, connectionId)
      const connection = new SessionConnection(ws, handle, {
        id: connectionId,
        socket,
        after,
        clock: this.options.clock,
        limits: {
          maxBufferedBytes: this.options.config.ws_max_buffered_bytes,
          maxBadFrames: this.options.config.ws_max_bad_frames,
          badFrameWindowMs: this.options.config.ws_bad_frame_window_ms,
        },
        ...(observer === undefined ? {} : { observer }),
        onClosed: (c) => this.forget(c),
      })
      if (this.closed) {
        connection.close(WS_CLOSE.GoingAway, WS_ERROR.HostShutdown)
        return
      }
      this.remember(connection)
      try {
        connection.start()
      } catch (error) {
        // A session that fails to replay must not take the host down with it; the client may retry.
        this.options.log?.(`AGH_INTERNAL session ${handle.id}: attaching a client failed: ${String(error)}`)
        connection.close(WS_CLOSE.InternalError, "AGH_INTERNAL")
      }
    })
  }

  stats(): SocketStats {
    let bufferedBytes = 0
    for (const c of this.connections) bufferedBytes += c.bufferedAmount
    return { connections: this.connections.size, bufferedBytes }
  }

  /** The live connections of one session. */
  connectionsOf(sessionId: string): ReadonlyArray<SessionConnection> {
    return [...(this.bySession.get(sessionId) ?? [])]
  }

  /**
   * Tells every client the host is going away (1001) and resolves once all sockets are closed; clients that
   * do not complete the closing handshake within `graceMs` are dropped.
   */
  async close(graceMs = 2_000): Promise<void> {
    this.closed = true
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer)
    this.timer = undefined
    const all = [...this.connections]
    const done = Promise.all(
      all.map((c) => new Promise<void>((resolve) => c.ws.once("close", () => resolve()))),
    )
    for (const c of all) c.close(WS_CLOSE.GoingAway, WS_ERROR.HostShutdown)
    // Real time on purpose: this bounds a real socket handshake during process exit, not session logic.
    let grace: NodeJS.Timeout | undefined
    await Promise.race([
      done,
      new Promise<void>((resolve) => {
        grace = setTimeout(resolve, graceMs)
      }),
    ])
    clearTimeout(grace)
    for (const c of this.connections) c.terminate("host shutdown: closing handshake timed out")
    this.wss.close()
  }

  private remember(connection: SessionConnection): void {
    this.connections.add(connection)
    const id = connection.handle.id
    let set = this.bySession.get(id)
    if (set === undefined) {
      set = new Set()
      this.bySession.set(id, set)
      this.closeWhenDone(connection.handle)
    }
    set.add(connection)
  }

  private forget(connection: SessionConnection): void {
    this.connections.delete(connection)
    const set = this.bySession.get(connection.handle.id)
    set?.delete(connection)
  }

  /** One watcher per session, however many clients come and go. */
  private closeWhenDone(handle: SessionHandle): void {
    const closeAll = (reason: string) => {
      const set = this.bySession.get(handle.id)
      this.bySession.delete(handle.id)
      for (const c of set ?? []) c.close(WS_CLOSE.Normal, reason)
    }
    handle.whenDone().then(
      (info) => closeAll(`session ${info.status}`),
      () => closeAll("session ended"),
    )
  }

  private arm(): void {
    this.timer = this.options.clock.setTimeout(() => {
      if (this.closed) return
      for (const c of [...this.connections]) c.heartbeat()
      this.arm()
    }, this.options.config.ws_ping_interval_ms)
  }
}
