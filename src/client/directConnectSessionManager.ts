import { type ClockShape, liveClock, type TimerHandle } from "../adapters/clock.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import { messageOf } from "../errors/messageOf.js"
import {
  interruptFrame,
  isRecord,
  KEEP_ALIVE_FRAME,
  messageSeq,
  type PermissionResult,
  permissionResponseFrame,
  type SdkMessage,
  type UserContent,
  userMessageFrame,
} from "./clientMessages.js"
import { type ClientSocket, openWsClientSocket } from "./clientSocket.js"
import {
  type ConnectionLifecycle,
  type ConnectionPhase,
  DEFAULT_RECONNECT_POLICY,
  defaultConnectionLifecycle,
  type PhaseChange,
  type ReconnectPolicy,
} from "./connectionLifecycle.js"
import type { DirectConnectCallbacks, DirectConnectOptions } from "./directConnectCallbacks.js"
import { DirectConnectError } from "./directConnectError.js"
import type { DirectConnectConfig } from "./directConnectSession.js"
import { httpError } from "./hostRequest.js"
import { classifyIncoming, type IncomingKind } from "./messageFilter.js"
import { type LedgerAction, PermissionLedger } from "./permissionLedger.js"

export type { DirectConnectCallbacks, DirectConnectOptions } from "./directConnectCallbacks.js"

/** Close codes after which reconnecting cannot help: the host refused this client for good. */
const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([1002, 1003, 1007, 1008, 4400, 4401, 4403, 4404])
const NORMAL_CLOSE = 1000

/** The connection is over for good: nothing is sent or reopened any more. */
const isFinal = (phase: ConnectionPhase) => phase === "completed" || phase === "failed" || phase === "killed"

/**
 * A client connection to one session on a host (SPEC §5): streams the session's messages to `onMessage`,
 * routes permission requests to `onPermissionRequest`, sends user messages, answers and interrupts, and
 * survives dropped sockets. It remembers the last history `seq` and reconnects with `?after=<seq>` after a
 * backoff on the injected clock, so a message is neither lost nor delivered twice; a pending permission
 * request the host re-sends after a reconnect is not delivered again (if this client had already answered it,
 * the answer is sent again instead). Frames sent while reconnecting are queued and flushed on reconnect.
 *
 * @example
 * const manager = new DirectConnectSessionManager(config, {
 *   onMessage: (m) => render(m),
 *   onPermissionRequest: (request, id) =>
 *     manager.respondToPermissionRequest(id, { behavior: "allow", updatedInput: request.input }),
 * })
 * manager.connect()
 * manager.sendMessage("$ ls")
 */
export class DirectConnectSessionManager {
  private readonly clock: ClockShape
  private readonly ids: IdsShape
  private readonly options: DirectConnectOptions
  private readonly lifecycle: ConnectionLifecycle
  private socket: ClientSocket | undefined
  /** Bumped per socket so late events of a replaced socket are ignored. */
  private generation = 0
  private opens = 0
  private clientClosing = false
  private closedBeforeStart = false
  private readonly outbox: string[] = []
  private keepAliveTimer: TimerHandle | undefined
  private staleTimer: TimerHandle | undefined
  private readonly permissions: PermissionLedger
  constructor(
    readonly config: DirectConnectConfig,
    private readonly callbacks: DirectConnectCallbacks,
    options: DirectConnectOptions = {},
  ) {
    this.options = options
    this.clock = options.clock ?? liveClock
    this.ids = options.ids ?? liveIds
    const afterSeq = options.afterSeq ?? 0
    this.permissions = new PermissionLedger(options.historyEndSeq, afterSeq)
    const policy: ReconnectPolicy = { ...DEFAULT_RECONNECT_POLICY, ...options.reconnect }
    const make = options.makeLifecycle ?? defaultConnectionLifecycle
    this.lifecycle = make(
      { clock: this.clock, connectionId: this.ids.uuid(), sessionId: config.sessionId, afterSeq, policy },
      { openSocket: (after) => this.openSocket(after), phaseChanged: (change) => this.phaseChanged(change) },
    )
  }

  /** Opens the connection (the first socket). Calling it again does nothing. */
  connect(): void {
    if (this.closedBeforeStart) return
    this.lifecycle.start()
  }

  /** True while a socket is open. */
  isConnected(): boolean {
    return this.lifecycle.phase() === "open"
  }

  /** `starting`, `open`, `reconnecting`, or a final `completed` / `failed` / `killed`. */
  phase(): ConnectionPhase {
    return this.closedBeforeStart ? "completed" : this.lifecycle.phase()
  }

  /** The highest history `seq` received: where a later connection can resume. */
  lastSeq(): number {
    return this.lifecycle.lastSeq()
  }

  /** Sends a user message. False when the manager is closed (or the reconnect queue is full). */
  sendMessage(content: UserContent): boolean {
    return this.send(userMessageFrame(content, this.config.sessionId))
  }

  /** Answers permission request `requestId`: allow (optionally with `updatedInput`) or deny with a message. */
  respondToPermissionRequest(requestId: string, result: PermissionResult): boolean {
    this.permissions.answeredLocally(requestId, result, this.isConnected() ? this.generation : undefined)
    return this.send(permissionResponseFrame(requestId, result))
  }

  /** Asks the host to interrupt the running turn. */
  sendInterrupt(): boolean {
    return this.send(interruptFrame(this.ids.requestId()))
  }

  /** Closes the connection for good; no reconnect. */
  disconnect(): void {
    if (isFinal(this.phase())) return
    this.clientClosing = true
    if (this.generation === 0) {
      // Never connected: there is no machine run to end, only a manager to retire.
      this.closedBeforeStart = true
      this.outbox.length = 0
      this.invoke(() =>
        this.callbacks.onDisconnected?.("disconnected by the client", { willReconnect: false }),
      )
      return
    }
    const socket = this.socket
    this.lifecycle.closeRequested("disconnected by the client")
    socket?.close(NORMAL_CLOSE, "client disconnect")
  }

  private send(frame: SdkMessage): boolean {
    const phase = this.phase()
    if (isFinal(phase)) return false
    const text = JSON.stringify(frame)
    if (phase === "open" && this.socket !== undefined) {
      this.socket.send(text)
      return true
    }
    if (this.outbox.length >= (this.options.maxQueuedFrames ?? 1000)) return false
    this.outbox.push(text)
    return true
  }

  private openSocket(afterSeq: number): void {
    const generation = ++this.generation
    const url = new URL(this.config.wsUrl)
    url.searchParams.set("after", String(afterSeq))
    const open = this.options.openSocket ?? openWsClientSocket
    const current = () => generation === this.generation
    this.socket = open(
      url.href,
      { authorization: `Bearer ${this.config.authToken}` },
      {
        onOpen: () => {
          if (current()) this.socketOpened(afterSeq)
        },
        onText: (text) => {
          if (current()) this.receive(text)
        },
        onBinary: (bytes) => {
          if (current()) this.report("BadResponse", `the host sent a binary frame (${bytes} bytes); ignored`)
        },
        onActivity: () => {
          if (current()) this.armStaleTimer()
        },
        onRejected: (status, body, text) => {
          if (current()) this.socketRejected(url.href, status, body, text)
        },
        onClose: (code, reason) => {
          if (current()) this.socketClosed(code, reason)
        },
      },
    )
  }

  private socketOpened(afterSeq: number): void {
    const reconnect = this.opens > 0
    this.opens += 1
    this.lifecycle.opened()
    this.armStaleTimer()
    this.armKeepAlive()
    this.invoke(() => this.callbacks.onConnected?.({ reconnect, afterSeq }))
    this.permissions.socketOpened(this.generation)
    const queued = this.outbox.splice(0)
    for (const text of queued) this.socket?.send(text)
  }

  private socketRejected(url: string, status: number, body: unknown, text: string): void {
    this.socket = undefined
    this.stopTimers()
    const error = httpError("GET", url.replace(/^ws/, "http"), status, body, text)
    const retryable = status === 429 || status >= 500 || status === 0
    if (retryable) {
      this.lifecycle.dropped(`upgrade refused with ${status}`)
      return
    }
    const fatal =
      status === 401
        ? error
        : new DirectConnectError({
            reason: "UpgradeRejected",
            message: `the WebSocket upgrade to ${url} was refused: ${error.message}`,
            status,
            url,
            ...(error.hostCode === undefined ? {} : { hostCode: error.hostCode }),
          })
    this.lifecycle.authFailed(fatal.message)
    this.invoke(() => this.callbacks.onError?.(fatal))
  }

  private socketClosed(code: number, reason: string): void {
    this.socket = undefined
    this.stopTimers()
    const text = reason === "" ? `close code ${code}` : `${reason} (close code ${code})`
    if (this.clientClosing) return
    if (code === NORMAL_CLOSE) {
      this.lifecycle.closeRequested(`the host closed the session stream: ${text}`)
      return
    }
    if (FATAL_CLOSE_CODES.has(code)) {
      this.lifecycle.authFailed(`the host closed the connection: ${text}`)
      this.report(
        "UpgradeRejected",
        `the host closed the connection and reconnecting would not help: ${text}`,
      )
      return
    }
    this.lifecycle.dropped(reason === "" ? "the connection closed" : reason, code)
  }

  private phaseChanged(change: PhaseChange): void {
    const reason = change.reason ?? change.phase
    switch (change.phase) {
      case "reconnecting":
        this.invoke(() => this.callbacks.onDisconnected?.(reason, { willReconnect: true }))
        return
      case "failed":
        this.stopTimers()
        if (this.socket !== undefined) {
          this.socket.terminate()
          this.socket = undefined
        }
        if (change.exhausted === true) this.report("ReconnectFailed", reason)
        this.invoke(() => this.callbacks.onDisconnected?.(reason, { willReconnect: false }))
        return
      case "completed":
      case "killed":
        this.stopTimers()
        this.invoke(() => this.callbacks.onDisconnected?.(reason, { willReconnect: false }))
        return
      default:
        return
    }
  }

  private receive(text: string): void {
    let message: unknown
    try {
      message = JSON.parse(text)
    } catch {
      this.report("BadResponse", `the host sent a frame that is not JSON: ${text.slice(0, 120)}`)
      return
    }
    if (!isRecord(message) || typeof message.type !== "string") {
      this.report("BadResponse", `the host sent a frame without a string "type": ${text.slice(0, 120)}`)
      return
    }
    this.handle(message as SdkMessage)
  }

  private handle(message: SdkMessage): void {
    const incoming = classifyIncoming(message)
    const seq = messageSeq(message)
    const last = this.lifecycle.lastSeq()
    this.lifecycle.messageReceived(seq)
    if (seq !== undefined) {
      if (seq <= last) {
        // Replays start after the cursor, so an old seq is a pending request re-sent, or a duplicate.
        if (incoming.kind === "permission") {
          this.perform(
            this.permissions.requested(incoming.requestId, incoming.request, seq, true, this.generation),
          )
        }
        return
      }
      if (seq > last + 1) {
        this.report(
          "SeqGap",
          `history jumped from seq ${last} to ${seq}; messages ${last + 1}..${seq - 1} are missing`,
        )
      }
    }
    this.dispatch(incoming, message, seq)
    this.perform(this.permissions.cursorAt(this.lifecycle.lastSeq(), this.generation))
  }

  private dispatch(incoming: IncomingKind, message: SdkMessage, seq: number | undefined): void {
    switch (incoming.kind) {
      case "message":
        // Settled requests are withdrawn before the message that settled them is shown.
        this.perform(this.permissions.observed(message))
        this.invoke(() => this.callbacks.onMessage(message))
        return
      case "permission":
        this.perform(
          this.permissions.requested(incoming.requestId, incoming.request, seq, false, this.generation),
        )
        return
      case "cancel":
        this.perform(this.permissions.cancelled(incoming.requestId))
        return
      case "hostError":
        this.invoke(() =>
          this.callbacks.onError?.(
            new DirectConnectError({
              reason: "HostRejected",
              message: `the host rejected a frame: ${incoming.message}`,
              hostCode: incoming.code,
            }),
          ),
        )
        return
      case "hidden":
        return
    }
  }

  private perform(actions: ReadonlyArray<LedgerAction>): void {
    for (const action of actions) {
      switch (action.kind) {
        case "deliver":
          this.invoke(() => this.callbacks.onPermissionRequest(action.request, action.requestId))
          break
        case "cancelled":
          this.invoke(() => this.callbacks.onPermissionCancelled?.(action.requestId))
          break
        case "answerAgain":
          this.send(permissionResponseFrame(action.requestId, action.result))
          break
      }
    }
  }

  private armKeepAlive(): void {
    const interval = this.options.keepAliveIntervalMs ?? 30_000
    if (interval <= 0) return
    if (this.keepAliveTimer !== undefined) this.clock.clearTimeout(this.keepAliveTimer)
    this.keepAliveTimer = this.clock.setTimeout(() => {
      this.keepAliveTimer = undefined
      if (this.lifecycle.phase() !== "open") return
      this.socket?.send(JSON.stringify(KEEP_ALIVE_FRAME))
      this.armKeepAlive()
    }, interval)
  }

  private armStaleTimer(): void {
    const after = this.options.staleAfterMs ?? 90_000
    if (after <= 0) return
    if (this.staleTimer !== undefined) this.clock.clearTimeout(this.staleTimer)
    this.staleTimer = this.clock.setTimeout(() => {
      this.staleTimer = undefined
      // A peer that went silent (a sleeping laptop, a dead NAT entry) never sends a close: drop it ourselves.
      const socket = this.socket
      if (socket === undefined) return
      this.socket = undefined
      this.generation += 1
      socket.terminate()
      this.stopTimers()
      this.lifecycle.dropped(`no frame or ping from the host for ${after} ms`)
    }, after)
  }

  private stopTimers(): void {
    if (this.keepAliveTimer !== undefined) this.clock.clearTimeout(this.keepAliveTimer)
    if (this.staleTimer !== undefined) this.clock.clearTimeout(this.staleTimer)
    this.keepAliveTimer = undefined
    this.staleTimer = undefined
  }

  private report(reason: DirectConnectError["reason"], message: string): void {
    this.invoke(() => this.callbacks.onError?.(new DirectConnectError({ reason, message })))
  }

  /** Runs a callback of the embedding program; a throw must not tear down the socket handling. */
  private invoke(fn: () => void): void {
    try {
      fn()
    } catch (cause) {
      const onError = this.callbacks.onError
      if (onError === undefined) {
        queueMicrotask(() => {
          throw cause
        })
        return
      }
      try {
        onError(
          new DirectConnectError({
            reason: "CallbackFailed",
            message: `a callback threw: ${messageOf(cause)}`,
            cause,
          }),
        )
      } catch (again) {
        queueMicrotask(() => {
          throw again
        })
      }
    }
  }
}
