import { createActor, type SnapshotFrom } from "xstate"
import type { ClockShape } from "../adapters/clock.js"
import {
  CONNECTION_DEFAULTS,
  CONNECTION_EVENT,
  type ConnectionEvent,
  connectionMachine,
  type ReconnectSettings,
  reconnectDelayMs,
} from "../machines/connectionMachine.js"

/** Where a client connection stands: the connection machine's states, flattened. */
export type ConnectionPhase = "starting" | "open" | "reconnecting" | "completed" | "failed" | "killed"

/** How reconnecting backs off: attempt n (1-based) waits `min(maxDelayMs, initialDelayMs * 2^(n-1))`. */
export type ReconnectPolicy = ReconnectSettings

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = CONNECTION_DEFAULTS.reconnect

/** What a phase change carries for the manager's callbacks. */
export interface PhaseChange {
  readonly phase: ConnectionPhase
  readonly reason?: string
  /** For `reconnecting`: the attempt about to be made and the wait before it. */
  readonly attempt?: number
  readonly delayMs?: number
  /** For `failed`: true when it failed because the reconnect attempts ran out. */
  readonly exhausted?: boolean
}

/** The effects a lifecycle asks its owner to perform. A lifecycle never touches a socket itself. */
export interface ConnectionEffects {
  /** Open a socket that resumes after `afterSeq` (`?after=`). */
  readonly openSocket: (afterSeq: number) => void
  readonly phaseChanged: (change: PhaseChange) => void
}

/**
 * The connection's state and cursor, fed by socket facts: what the manager needs from SPEC §2's
 * `connectionMachine`. The methods map one to one to machine events (`opened` → `connection.opened`, ...).
 */
export interface ConnectionLifecycle {
  readonly phase: () => ConnectionPhase
  /** Highest history `seq` received (the `?after=` cursor). */
  readonly lastSeq: () => number
  /** Opens the first socket. Idempotent. */
  readonly start: () => void
  readonly opened: () => void
  /** A frame arrived; `seq` when it belongs to the history. */
  readonly messageReceived: (seq?: number) => void
  /** The socket went away unexpectedly: back off, then reopen from the cursor, or fail after the last attempt. */
  readonly dropped: (reason: string, code?: number) => void
  /** The host refused the client for good (bad token, no such session): no retry. */
  readonly authFailed: (reason: string) => void
  /** The host ended the session stream or the client disconnected: no retry. */
  readonly closeRequested: (reason: string) => void
}

/** Inputs of a lifecycle. */
export interface ConnectionLifecycleInput {
  readonly clock: ClockShape
  readonly connectionId: string
  readonly sessionId: string
  /** Cursor to start from: history with `seq > afterSeq` is replayed. */
  readonly afterSeq: number
  readonly policy: ReconnectPolicy
}

/** Builds a lifecycle. The manager takes one of these, so a runtime that logs machine events can supply its own. */
export type MakeConnectionLifecycle = (
  input: ConnectionLifecycleInput,
  effects: ConnectionEffects,
) => ConnectionLifecycle

/** Sees every event sent to the machine and the state it led to (the seam for event logging). */
export type ConnectionObserver = (
  event: ConnectionEvent,
  snapshot: SnapshotFrom<typeof connectionMachine>,
) => void

/**
 * Runs the client side of `connectionMachine` as an xstate actor on the injected clock: backoff timers are the
 * machine's delayed `connection.retryDue` events, so a `ManualClock` drives reconnects in tests and the
 * events alone reproduce the states. `observe` receives each event the lifecycle sends (the machine's own
 * `retryDue` shows as the `openSocket` that follows it).
 *
 * @example
 * const manager = new DirectConnectSessionManager(config, callbacks, {
 *   makeLifecycle: machineConnectionLifecycle((event, snapshot) => log.append(event, snapshot.value)),
 * })
 */
export function machineConnectionLifecycle(observe?: ConnectionObserver): MakeConnectionLifecycle {
  return (input, effects) => {
    let started = false
    const machine = connectionMachine.provide({
      actions: {
        openSocket: (_args, params) => effects.openSocket(params.afterSeq),
        // The manager closes its own socket; the machine only records why the connection ended.
        closeSocket: () => {},
      },
    })
    const actor = createActor(machine, {
      input: {
        connectionId: input.connectionId,
        side: "client",
        sessionId: input.sessionId,
        afterSeq: input.afterSeq,
        reconnect: input.policy,
      },
      clock: input.clock,
    })
    let last = { phase: "starting" as ConnectionPhase, attempt: 0 }
    actor.subscribe((snapshot) => {
      const phase = phaseOf(snapshot)
      const attempt = snapshot.context.attempt
      if (phase === last.phase && attempt === last.attempt) return
      last = { phase, attempt }
      const ended = snapshot.context.endReason
      switch (phase) {
        case "reconnecting":
          effects.phaseChanged({
            phase,
            reason: describeDrop(snapshot.context.lastDrop),
            attempt,
            delayMs: reconnectDelayMs(snapshot.context),
          })
          return
        case "open":
        case "starting":
          effects.phaseChanged({ phase })
          return
        default:
          effects.phaseChanged({
            phase,
            reason: ended?.message ?? phase,
            ...(ended?.kind === "gaveUp" ? { exhausted: true } : {}),
          })
      }
    })
    const send = (event: ConnectionEvent) => {
      // A connection that reached a final state takes nothing more (xstate would warn on every late socket event).
      if (actor.getSnapshot().status !== "active") return
      actor.send(event)
      observe?.(event, actor.getSnapshot())
    }
    const at = () => input.clock.now()
    return {
      phase: () => phaseOf(actor.getSnapshot()),
      lastSeq: () => actor.getSnapshot().context.lastSeq,
      start: () => {
        if (started) return
        started = true
        // Starting the actor enters `starting`, whose entry action opens the first socket.
        actor.start()
      },
      opened: () => send({ type: CONNECTION_EVENT.opened, at: at() }),
      messageReceived: (seq) =>
        send({ type: CONNECTION_EVENT.messageReceived, at: at(), ...(seq === undefined ? {} : { seq }) }),
      dropped: (reason, code) =>
        send({ type: CONNECTION_EVENT.dropped, at: at(), reason, ...(code === undefined ? {} : { code }) }),
      authFailed: (message) => send({ type: CONNECTION_EVENT.authFailed, at: at(), message }),
      closeRequested: (reason) => send({ type: CONNECTION_EVENT.closeRequested, at: at(), reason }),
    }
  }
}

/** The default lifecycle: the connection machine, not logged. */
export const defaultConnectionLifecycle: MakeConnectionLifecycle = machineConnectionLifecycle()

function describeDrop(drop: { readonly code: number | null; readonly reason: string | null } | null): string {
  const reason = drop?.reason ?? "connection lost"
  return drop?.code === null || drop?.code === undefined ? reason : `${reason} (close code ${drop.code})`
}

function phaseOf(snapshot: SnapshotFrom<typeof connectionMachine>): ConnectionPhase {
  if (snapshot.matches({ running: "reconnecting" })) return "reconnecting"
  if (snapshot.matches("running")) return "open"
  const value = snapshot.value
  return typeof value === "string" ? (value as ConnectionPhase) : "starting"
}
