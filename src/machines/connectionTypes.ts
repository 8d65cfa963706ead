/**
 * The connection machine's protocol: event type strings, event union, input, context and effect parameters.
 * Logged events use exactly these shapes; changing one is a change of {@link CONNECTION_MACHINE_VERSION}.
 */

export const CONNECTION_MACHINE_NAME = "connection"

/** Bump whenever the same logged events would lead to different states or context. */
export const CONNECTION_MACHINE_VERSION = 1

/** Every event type the connection machine accepts. */
export const CONNECTION_EVENT = {
  opened: "connection.opened",
  authFailed: "connection.authFailed",
  messageReceived: "connection.messageReceived",
  badFrame: "connection.badFrame",
  dropped: "connection.dropped",
  retryDue: "connection.retryDue",
  reconnected: "connection.reconnected",
  closeRequested: "connection.closeRequested",
  kill: "connection.kill",
} as const

/**
 * Reconnect back-off: attempt n (1-based) waits `min(maxDelayMs, initialDelayMs * 2^(n-1))`. No random
 * jitter: randomness would have to enter as an event, and a client library does not need it.
 */
export interface ReconnectSettings {
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  /** Attempts after a drop before the connection gives up (`failed`). */
  readonly maxAttempts: number
}

/** Defaults applied when the input leaves a knob out. Part of the machine's semantics (versioned). */
export const CONNECTION_DEFAULTS = {
  maxBadFrames: 10,
  reconnect: { initialDelayMs: 500, maxDelayMs: 15_000, maxAttempts: 10 } satisfies ReconnectSettings,
} as const

/** Input of the connection machine. */
export interface ConnectionInput {
  readonly connectionId: string
  /**
   * `host`: the server's end of one client socket; a drop ends it (`completed`). `client`: a client library's
   * connection to a session; a drop reconnects with back-off from the `lastSeq` cursor.
   */
  readonly side: "host" | "client"
  readonly sessionId?: string
  /** Cursor to start from (`?after=`). */
  readonly afterSeq?: number
  /** Bad frames tolerated before the peer is disconnected. */
  readonly maxBadFrames?: number
  readonly reconnect?: ReconnectSettings
}

/** The socket is open (and authenticated). */
export interface OpenedEvent {
  readonly type: typeof CONNECTION_EVENT.opened
  readonly at: number
}
/** The host refused the client for good (bad token, no such session): no retry. */
export interface AuthFailedEvent {
  readonly type: typeof CONNECTION_EVENT.authFailed
  readonly at: number
  readonly message: string
}
/** A frame arrived. */
export interface MessageReceivedEvent {
  readonly type: typeof CONNECTION_EVENT.messageReceived
  readonly at: number
  /** The history `seq` the message carried, if it carried one. */
  readonly seq?: number
}
/** A frame was refused (not JSON, wrong shape, too big); `code` is the protocol's. */
export interface BadFrameEvent {
  readonly type: typeof CONNECTION_EVENT.badFrame
  readonly at: number
  readonly code: string
  readonly message: string
}
/** The socket went away without a close having been requested. */
export interface DroppedEvent {
  readonly type: typeof CONNECTION_EVENT.dropped
  readonly at: number
  readonly code?: number
  readonly reason?: string
}
/** Raised by the machine itself when a reconnect back-off elapses on the injected clock. */
export interface RetryDueEvent {
  readonly type: typeof CONNECTION_EVENT.retryDue
  readonly attempt: number
}
/** A reconnect attempt succeeded. */
export interface ReconnectedEvent {
  readonly type: typeof CONNECTION_EVENT.reconnected
  readonly at: number
}
/** Close normally (the user quit, the session ended). */
export interface CloseRequestedEvent {
  readonly type: typeof CONNECTION_EVENT.closeRequested
  readonly at: number
  readonly reason?: string
}
/** Close now, as an error (host shutting down, admin action). */
export interface KillEvent {
  readonly type: typeof CONNECTION_EVENT.kill
  readonly at: number
  readonly reason?: string
}

/** Every event of the connection machine. */
export type ConnectionEvent =
  | OpenedEvent
  | AuthFailedEvent
  | MessageReceivedEvent
  | BadFrameEvent
  | DroppedEvent
  | RetryDueEvent
  | ReconnectedEvent
  | CloseRequestedEvent
  | KillEvent

/** Why a connection ended. */
export type ConnectionEndKind = "closed" | "peerClosed" | "authFailed" | "gaveUp" | "badFrames" | "killed"

/** Recorded in the context when the connection reaches a final state. */
export interface ConnectionEndReason {
  readonly kind: ConnectionEndKind
  readonly message: string
  readonly at: number
}

/** What the connection machine remembers. */
export interface ConnectionContext {
  readonly connectionId: string
  readonly side: "host" | "client"
  readonly sessionId: string | null
  /** Highest history seq received: the `?after=` cursor of the next reconnect. */
  readonly lastSeq: number
  readonly messagesReceived: number
  /** Messages whose seq was not above the cursor (seen before): not delivered twice. */
  readonly duplicates: number
  readonly badFrames: number
  readonly maxBadFrames: number
  readonly lastBadFrame: { readonly code: string; readonly message: string; readonly at: number } | null
  readonly reconnect: ReconnectSettings
  /** Current reconnect attempt (0 while open). */
  readonly attempt: number
  readonly reconnects: number
  readonly openedAt: number | null
  readonly lastDrop: {
    readonly code: number | null
    readonly reason: string | null
    readonly at: number
  } | null
  readonly endReason: ConnectionEndReason | null
}

/** Params of the `openSocket` effect. */
export interface OpenSocketParams {
  readonly afterSeq: number
  /** 0 for the first connect, n for the n-th reconnect attempt. */
  readonly attempt: number
}
/** Params of the `closeSocket` effect. */
export interface CloseSocketParams {
  /** WebSocket close code (1000 normal, 1008 policy violation). */
  readonly code: number
  readonly reason: string
}

/** The effects a connection asks for. Host side: `openSocket` is a no-op (the socket already exists). */
export interface ConnectionEffects {
  readonly openSocket: (params: OpenSocketParams) => void
  readonly closeSocket: (params: CloseSocketParams) => void
}
