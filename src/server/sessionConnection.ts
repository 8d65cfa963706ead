import type { Duplex } from "node:stream"
import type { WebSocket } from "ws"
import type { ClockShape } from "../adapters/clock.js"
import type { PermissionAnswer, SdkMessage, SeqMessage, SessionHandle } from "../effects/sessionHandle.js"
import { messageOf } from "../errors/messageOf.js"
import { BadFrameWindow } from "./badFrameWindow.js"
import { type ClientFrame, parseClientFrame } from "./clientFrame.js"
import { WS_CLOSE, WS_ERROR } from "./wsCodes.js"

/** Per-connection limits, from the config. */
export interface ConnectionLimits {
  readonly maxBufferedBytes: number
  readonly maxBadFrames: number
  readonly badFrameWindowMs: number
}

/**
 * What happens to a connection, for whoever records it. The host side of the `connectionMachine` plugs in
 * here (see `connectionMachineObserver`): the session runtime turns these calls into logged machine events.
 * The socket layer itself decides (bad-frame window, backpressure, heartbeats) and acts; the machine records.
 */
export interface ConnectionObserver {
  opened?(event: { readonly connectionId: string; readonly sessionId: string; readonly after: number }): void
  /** A well-formed client frame (user, control_response, control_request, keep_alive). */
  frameReceived?(event: { readonly kind: ClientFrame["kind"] }): void
  badFrame?(event: { readonly code: string; readonly message: string; readonly count: number }): void
  /**
   * The socket closed. `byHost`: the host ended it (session over, shutdown, slow client, garbage, missed
   * pong); otherwise the client left.
   */
  closed?(event: {
    readonly code: number
    readonly reason: string
    readonly lastSeq: number
    readonly byHost: boolean
  }): void
}

/**
 * Serialized once per message, however many clients receive it: a session delivers each message to all its
 * subscribers one after another, so a one-entry cache hits for every client but the first. (A WeakMap over
 * the whole history cost more in GC than it saved.)
 */
let lastMessage: SeqMessage | undefined
let lastText = ""
const serialize = (message: SeqMessage): string => {
  if (message !== lastMessage) {
    lastText = JSON.stringify(message)
    lastMessage = message
  }
  return lastText
}

const KEEP_ALIVE = JSON.stringify({ type: "keep_alive" })

/** Close codes ws uses on its own for protocol errors, and the codes we report them with. */
const WS_INTERNAL_CLOSE: Readonly<Record<number, { readonly code: string; readonly message: string }>> = {
  [WS_CLOSE.TooBig]: { code: WS_ERROR.FrameTooLarge, message: "frame exceeds the host's max_frame_bytes" },
  [WS_CLOSE.InvalidPayload]: { code: WS_ERROR.BadUtf8, message: "text frame is not valid UTF-8" },
  1002: { code: WS_ERROR.ProtocolError, message: "WebSocket protocol error" },
}

export interface SessionConnectionOptions {
  readonly id: string
  /** The socket under the WebSocket: its 'drain' paces the history replay. */
  readonly socket: Duplex
  /** The client's cursor: it has every history message with `seq <= after`. */
  readonly after: number
  readonly clock: ClockShape
  readonly limits: ConnectionLimits
  readonly observer?: ConnectionObserver
  readonly onClosed: (connection: SessionConnection) => void
}

/**
 * One client attached to one session over a WebSocket (SPEC §5): streams the session's history after the
 * client's cursor and then live messages, relays the client's frames to the {@link SessionHandle}, and keeps
 * host memory bounded (a client that stops reading is closed with 4008, one that sends garbage with 1008).
 */
export class SessionConnection {
  /** Cleared by each heartbeat, set by the pong that answers it. */
  private alive = true
  private closing = false
  /** Why the host ended the connection, when it did (ws reports 1006 for a terminated socket). */
  private hostClose: { readonly code: number; readonly reason: string } | undefined
  private unsubscribe: (() => void) | undefined
  private sentSeq: number
  private readonly badFrames: BadFrameWindow

  constructor(
    readonly ws: WebSocket,
    readonly handle: SessionHandle,
    private readonly options: SessionConnectionOptions,
  ) {
    this.sentSeq = options.after
    this.badFrames = new BadFrameWindow(options.limits.maxBadFrames, options.limits.badFrameWindowMs)
    // ws closes by itself on an oversized frame (maxPayload), invalid UTF-8 or a protocol error, with an empty
    // reason and before we hear of it (receiverOnError calls close, then emits 'error'). Intercepting that
    // close is the only moment the socket is still open, so the client can be told the code first.
    const close = ws.close.bind(ws)
    ws.close = (code?: number, reason?: string | Buffer) => {
      const internal = code === undefined || reason !== undefined ? undefined : WS_INTERNAL_CLOSE[code]
      if (internal !== undefined && ws.readyState === ws.OPEN && !this.closing) {
        this.closing = true
        this.detach()
        this.sendError(internal.code, internal.message)
        this.hostClose ??= { code: code ?? 1006, reason: internal.code }
        close(code, internal.code)
        return
      }
      // Anything else is our own close() or ws echoing the client's close frame (reason is then a Buffer).
      close(code, reason)
    }
    ws.on("message", (data, isBinary) => this.onFrame(data as Buffer, isBinary))
    ws.on("pong", () => {
      this.alive = true
    })
    ws.on("close", (code, reason) => {
      this.closing = true
      this.detach()
      const byHost = this.hostClose !== undefined
      options.observer?.closed?.({
        code: this.hostClose?.code ?? code,
        reason: this.hostClose?.reason ?? reason.toString(),
        lastSeq: this.sentSeq,
        byHost,
      })
      options.onClosed(this)
    })
    // Socket errors are followed by 'close'; without a listener they would crash the host.
    ws.on("error", () => undefined)
  }

  get id(): string {
    return this.options.id
  }

  /** Highest `seq` sent to this client. */
  get lastSeq(): number {
    return this.sentSeq
  }

  /** Bytes queued for this client and not yet taken by the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  /**
   * Re-sends unanswered permission requests the client's cursor already covers, replays history after the
   * cursor, then goes live. The replay is paced by the socket (it pauses above half the buffer limit and
   * resumes on 'drain'), so a client attaching to a long session is never mistaken for a slow one; going live
   * happens in the same synchronous step as the last history read, so nothing slips in between.
   * Closing when the session ends is the owner's job (one `whenDone` per session, not per connection).
   */
  start(): void {
    this.options.observer?.opened?.({
      connectionId: this.options.id,
      sessionId: this.handle.id,
      after: this.options.after,
    })
    for (const request of this.handle.pendingPermissions()) {
      if (request.seq <= this.options.after) this.sendText(serialize(request))
    }
    this.replay(this.options.after)
  }

  private replay(cursor: number): void {
    const highWater = this.options.limits.maxBufferedBytes / 2
    for (;;) {
      const batch = this.handle.history(cursor)
      if (batch.length === 0) break
      for (const message of batch) {
        if (this.closing) return
        this.deliver(message)
        cursor = message.seq
        if (this.ws.bufferedAmount > highWater) {
          this.options.socket.once("drain", () => {
            if (!this.closing) this.replay(cursor)
          })
          return
        }
      }
    }
    if (this.closing) return
    const unsubscribe = this.handle.subscribe(cursor, this.deliver)
    // A send inside subscribe's own replay may already have closed us.
    if (this.closing) unsubscribe()
    else this.unsubscribe = unsubscribe
  }

  /** One heartbeat: drops a peer that did not answer the previous ping, else pings it and sends keep_alive. */
  heartbeat(): void {
    if (this.closing) return
    if (!this.alive) {
      this.terminate("missed pong")
      return
    }
    this.alive = false
    this.ws.ping()
    this.sendText(KEEP_ALIVE)
  }

  /** Closes with `code` after everything already queued; stops delivering at once. */
  close(code: number, reason: string): void {
    if (this.closing) return
    this.closing = true
    this.detach()
    this.hostClose = { code, reason }
    this.ws.close(code, reason)
  }

  /** Drops the socket without a closing handshake. */
  terminate(reason: string): void {
    this.closing = true
    this.detach()
    this.hostClose ??= { code: 1006, reason }
    this.ws.terminate()
  }

  private readonly deliver = (message: SeqMessage): void => {
    if (this.closing) return
    if (this.sendText(serialize(message))) this.sentSeq = message.seq
  }

  private detach(): void {
    const unsubscribe = this.unsubscribe
    this.unsubscribe = undefined
    unsubscribe?.()
  }

  /** Sends unless the client's backlog is over the limit (then closes it); true when sent. */
  private sendText(text: string): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false
    if (this.ws.bufferedAmount > this.options.limits.maxBufferedBytes) {
      // The client stopped reading. Keeping its backlog would let one client grow host memory without limit;
      // it can reconnect with ?after=<last seq it got> and miss nothing. Checked before the send, so one
      // message larger than the limit still goes through: memory stays under the limit plus one message.
      this.close(WS_CLOSE.SlowClient, WS_ERROR.SlowClient)
      return false
    }
    this.ws.send(text)
    return true
  }

  private sendObject(message: SdkMessage): void {
    this.sendText(JSON.stringify(message))
  }

  private sendError(code: string, message: string, requestId?: string): void {
    this.sendObject({
      type: "error",
      error: { code, message },
      ...(requestId === undefined ? {} : { request_id: requestId }),
    })
  }

  private badFrame(code: string, message: string): void {
    this.sendError(code, message)
    const over = this.badFrames.record(this.options.clock.now())
    this.options.observer?.badFrame?.({ code, message, count: this.badFrames.count })
    if (over) {
      this.close(
        WS_CLOSE.PolicyViolation,
        `${WS_ERROR.TooManyBadFrames}: ${this.badFrames.count} in ${this.options.limits.badFrameWindowMs} ms`,
      )
    }
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.closing) return
    if (isBinary) {
      this.badFrame(WS_ERROR.Binary, "binary frames are not accepted: send one JSON object per text frame")
      return
    }
    const frame = parseClientFrame(data.toString("utf8"), this.handle.id)
    if (frame.kind === "error") {
      this.badFrame(frame.code, frame.message)
      return
    }
    this.options.observer?.frameReceived?.({ kind: frame.kind })
    this.dispatch(frame)
  }

  private dispatch(frame: ClientFrame): void {
    switch (frame.kind) {
      case "user":
        this.handle.sendUserMessage(frame.message).catch((error: unknown) => this.sessionError(error))
        return
      case "permission":
        this.answer(frame.requestId, frame.answer)
        return
      case "interrupt":
        this.handle.interrupt().then(
          () => this.controlResponse(frame.requestId, undefined),
          (error: unknown) => this.controlResponse(frame.requestId, messageOf(error)),
        )
        return
      case "unsupportedControl":
        this.controlResponse(frame.requestId, `Unsupported control request subtype: ${frame.subtype}`)
        return
      case "keepAlive":
        return
    }
  }

  private answer(requestId: string, answer: PermissionAnswer): void {
    this.handle.answerPermission(requestId, answer, this.options.id).then(
      (outcome) => {
        if (outcome === "already_answered") {
          this.sendError(
            WS_ERROR.PermissionAlreadyAnswered,
            `permission request ${JSON.stringify(requestId)} was already answered (first answer wins)`,
            requestId,
          )
        } else if (outcome === "unknown_request") {
          this.sendError(
            WS_ERROR.PermissionUnknown,
            `no permission request ${JSON.stringify(requestId)} in session ${this.handle.id}`,
            requestId,
          )
        }
      },
      (error: unknown) => this.sessionError(error, requestId),
    )
  }

  private controlResponse(requestId: string, error: string | undefined): void {
    this.sendObject({
      type: "control_response",
      response:
        error === undefined
          ? { subtype: "success", request_id: requestId, response: {} }
          : { subtype: "error", request_id: requestId, error },
    })
  }

  private sessionError(error: unknown, requestId?: string): void {
    const code = (error as { code?: unknown } | null)?.code
    this.sendError(typeof code === "string" ? code : WS_ERROR.SessionError, messageOf(error), requestId)
  }
}
