import type { ClockShape } from "../adapters/clock.js"
import type { IdsShape } from "../adapters/ids.js"
import type { PermissionRequest, SdkMessage } from "./clientMessages.js"
import type { OpenClientSocket } from "./clientSocket.js"
import type { MakeConnectionLifecycle, ReconnectPolicy } from "./connectionLifecycle.js"
import type { DirectConnectError } from "./directConnectError.js"

/** What a {@link DirectConnectSessionManager} tells its owner. */
export interface DirectConnectCallbacks {
  /** An SDK message for the UI, filtered as SPEC §5 says; in `seq` order, each once. */
  readonly onMessage: (message: SdkMessage) => void
  /** The agent asks to use a tool; answer with `respondToPermissionRequest(requestId, ...)`. Each id once. */
  readonly onPermissionRequest: (request: PermissionRequest, requestId: string) => void
  /** A request delivered earlier no longer needs an answer (answered elsewhere, withdrawn, turn over). */
  readonly onPermissionCancelled?: (requestId: string) => void
  /** A socket opened; `reconnect` is true for every open after the first. */
  readonly onConnected?: (info: { readonly reconnect: boolean; readonly afterSeq: number }) => void
  /** The socket went away; `willReconnect` says whether the manager is backing off to try again. */
  readonly onDisconnected?: (reason: string, info: { readonly willReconnect: boolean }) => void
  /** Failures: fatal ones (the manager is then `failed`) and reported ones (a host error frame, a seq gap). */
  readonly onError?: (error: DirectConnectError) => void
}

/** Tuning and injection points of a {@link DirectConnectSessionManager}; every field is optional. */
export interface DirectConnectOptions {
  /** Time for backoff, keep-alives and staleness; tests pass a `ManualClock`. */
  readonly clock?: ClockShape
  readonly ids?: IdsShape
  readonly reconnect?: Partial<ReconnectPolicy>
  /** Resume after this history `seq` instead of replaying everything (default 0). */
  readonly afterSeq?: number
  /**
   * The session's last `seq` when attaching (`GET /sessions/:id` → `last_seq`). Permission requests up to it
   * are history: they reach `onPermissionRequest` only if the replay up to that seq has not resolved them, so
   * attaching does not ask again what was answered long ago.
   */
  readonly historyEndSeq?: number
  /** Interval of client `keep_alive` frames; 0 turns them off. Default 30 s. */
  readonly keepAliveIntervalMs?: number
  /** Drop and reconnect when nothing (frame or ping) came for this long; 0 turns it off. Default 90 s. */
  readonly staleAfterMs?: number
  /** Frames kept while reconnecting; sends beyond it are refused. Default 1000. */
  readonly maxQueuedFrames?: number
  readonly openSocket?: OpenClientSocket
  /**
   * The connection state holder. Default: the connection machine run on `clock`, not logged; pass
   * `machineConnectionLifecycle(observe)` (or a runtime's own) to record its events.
   */
  readonly makeLifecycle?: MakeConnectionLifecycle
}
