import { assign, cancel, raise, setup } from "xstate"
import {
  type BadFrameEvent,
  type CloseSocketParams,
  CONNECTION_DEFAULTS,
  CONNECTION_EVENT,
  type ConnectionContext,
  type ConnectionEndKind,
  type ConnectionEndReason,
  type ConnectionEvent,
  type ConnectionInput,
  type DroppedEvent,
  type OpenSocketParams,
} from "./connectionTypes.js"

export * from "./connectionTypes.js"

const RETRY_TIMER_ID = "reconnect"

function initialConnectionContext(input: ConnectionInput): ConnectionContext {
  return {
    connectionId: input.connectionId,
    side: input.side,
    sessionId: input.sessionId ?? null,
    lastSeq: input.afterSeq ?? 0,
    messagesReceived: 0,
    duplicates: 0,
    badFrames: 0,
    maxBadFrames: input.maxBadFrames ?? CONNECTION_DEFAULTS.maxBadFrames,
    lastBadFrame: null,
    reconnect: input.reconnect ?? CONNECTION_DEFAULTS.reconnect,
    attempt: 0,
    reconnects: 0,
    openedAt: null,
    lastDrop: null,
    endReason: null,
  }
}

const end = (kind: ConnectionEndKind, message: string, at: number): ConnectionEndReason => ({
  kind,
  message,
  at,
})

/** Back-off before reconnect attempt `attempt` (1-based). */
export function reconnectDelayMs(context: ConnectionContext): number {
  const exponent = Math.min(Math.max(context.attempt, 1) - 1, 30)
  return Math.min(context.reconnect.maxDelayMs, context.reconnect.initialDelayMs * 2 ** exponent)
}

const lastDropOf = (event: DroppedEvent): ConnectionContext["lastDrop"] => ({
  code: event.code ?? null,
  reason: event.reason ?? null,
  at: event.at,
})

const countBadFrame = (
  context: ConnectionContext,
  event: BadFrameEvent,
): Pick<ConnectionContext, "badFrames" | "lastBadFrame"> => ({
  badFrames: context.badFrames + 1,
  lastBadFrame: { code: event.code, message: event.message, at: event.at },
})

const describeDrop = (event: DroppedEvent): string =>
  [event.code === undefined ? undefined : `code ${event.code}`, event.reason].filter((x) => x).join(", ") ||
  "no reason given"

/**
 * One client connection, used on both ends (SPEC §2, §5): `starting` (connecting / authenticating) →
 * `running.open` ⇄ `running.reconnecting` (client side: back-off on the injected clock, cursor kept) →
 * `completed` (closed on request, or the peer left a host-side connection), `failed` (authentication refused,
 * reconnect attempts exhausted) or `killed` (killed, or too many bad frames).
 *
 * @example
 * const actor = createActor(connectionMachine.provide({ actions: { openSocket: (_, p) => dial(p.afterSeq) } }), {
 *   input: { connectionId: "c1", side: "client", sessionId: "s_1" },
 *   clock,
 * }).start()
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  actions: {
    openSocket: (_args, _params: OpenSocketParams) => {},
    closeSocket: (_args, _params: CloseSocketParams) => {},
  },
  delays: {
    reconnectDelay: ({ context }) => reconnectDelayMs(context),
  },
  guards: {
    isHostSide: ({ context }) => context.side === "host",
    canRetry: ({ context }) => context.side === "client" && context.attempt < context.reconnect.maxAttempts,
  },
}).createMachine({
  id: "connection",
  context: ({ input }) => initialConnectionContext(input),
  initial: "starting",
  on: {
    [CONNECTION_EVENT.authFailed]: {
      target: ".failed",
      actions: assign(({ event }) => ({
        endReason: end("authFailed", `authentication failed: ${event.message}`, event.at),
      })),
    },
    [CONNECTION_EVENT.dropped]: [
      {
        guard: "canRetry",
        target: ".running.reconnecting",
        reenter: true,
        actions: assign(({ event }) => ({ lastDrop: lastDropOf(event) })),
      },
      {
        guard: "isHostSide",
        target: ".completed",
        actions: assign(({ event }) => ({
          lastDrop: lastDropOf(event),
          endReason: end("peerClosed", `the peer went away (${describeDrop(event)})`, event.at),
        })),
      },
      {
        target: ".failed",
        actions: assign(({ context, event }) => ({
          lastDrop: lastDropOf(event),
          endReason: end(
            "gaveUp",
            `gave up after ${context.attempt} reconnect attempt(s); last drop: ${describeDrop(event)}`,
            event.at,
          ),
        })),
      },
    ],
    [CONNECTION_EVENT.closeRequested]: {
      target: ".completed",
      actions: [
        assign(({ event }) => ({ endReason: end("closed", event.reason ?? "closed on request", event.at) })),
        { type: "closeSocket", params: ({ event }) => ({ code: 1000, reason: event.reason ?? "closed" }) },
      ],
    },
    [CONNECTION_EVENT.kill]: {
      target: ".killed",
      actions: [
        assign(({ event }) => ({ endReason: end("killed", event.reason ?? "killed on request", event.at) })),
        { type: "closeSocket", params: ({ event }) => ({ code: 1001, reason: event.reason ?? "killed" }) },
      ],
    },
  },
  states: {
    starting: {
      entry: { type: "openSocket", params: ({ context }) => ({ afterSeq: context.lastSeq, attempt: 0 }) },
      on: {
        [CONNECTION_EVENT.opened]: {
          target: "running.open",
          actions: assign(({ event }) => ({ openedAt: event.at })),
        },
      },
    },
    running: {
      initial: "open",
      on: {
        // Frames still in flight from a socket that is going away are counted as well.
        [CONNECTION_EVENT.messageReceived]: {
          actions: assign(({ context, event }) => {
            if (event.seq === undefined) return { messagesReceived: context.messagesReceived + 1 }
            return event.seq > context.lastSeq
              ? { messagesReceived: context.messagesReceived + 1, lastSeq: event.seq }
              : { messagesReceived: context.messagesReceived + 1, duplicates: context.duplicates + 1 }
          }),
        },
        [CONNECTION_EVENT.badFrame]: [
          {
            guard: ({ context }) => context.badFrames + 1 > context.maxBadFrames,
            target: "killed",
            actions: [
              assign(({ context, event }) => ({
                ...countBadFrame(context, event),
                endReason: end(
                  "badFrames",
                  `disconnected after ${context.badFrames + 1} bad frames (limit ${context.maxBadFrames}); last: ${event.code}`,
                  event.at,
                ),
              })),
              { type: "closeSocket", params: { code: 1008, reason: "too many bad frames" } },
            ],
          },
          {
            actions: assign(({ context, event }) => countBadFrame(context, event)),
          },
        ],
      },
      states: {
        open: {},
        reconnecting: {
          entry: [
            assign(({ context }) => ({ attempt: context.attempt + 1 })),
            raise(({ context }) => ({ type: CONNECTION_EVENT.retryDue, attempt: context.attempt }), {
              delay: "reconnectDelay",
              id: RETRY_TIMER_ID,
            }),
          ],
          exit: cancel(RETRY_TIMER_ID),
          on: {
            [CONNECTION_EVENT.retryDue]: {
              actions: {
                type: "openSocket",
                params: ({ context }) => ({ afterSeq: context.lastSeq, attempt: context.attempt }),
              },
            },
            [CONNECTION_EVENT.reconnected]: {
              target: "open",
              actions: assign(({ context }) => ({ attempt: 0, reconnects: context.reconnects + 1 })),
            },
            [CONNECTION_EVENT.opened]: {
              target: "open",
              actions: assign(({ context }) => ({ attempt: 0, reconnects: context.reconnects + 1 })),
            },
          },
        },
      },
    },
    completed: { type: "final" },
    failed: { type: "final" },
    killed: { type: "final" },
  },
})
