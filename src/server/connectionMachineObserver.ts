import { CONNECTION_EVENT, type ConnectionEvent } from "../machines/connectionTypes.js"
import type { ConnectionObserver } from "./sessionConnection.js"
import { WS_CLOSE } from "./wsCodes.js"

/**
 * Turns what happens to a host-side WebSocket into `connectionMachine` events (side `"host"`), for the session
 * runtime to send to a logged actor (`connection:<id>` on the session's stream):
 * opened → `connection.opened`; each well-formed frame → `connection.messageReceived`; each bad frame →
 * `connection.badFrame`; the client leaving → `connection.dropped` (→ completed); the host ending a session's
 * clients (1000) or shutting down (1001) → `connection.closeRequested` (→ completed); the host throwing a client
 * out (garbage, slow, missed pong, oversized frame) → `connection.kill` (→ killed).
 *
 * The socket layer has already acted when these arrive; the machine records. Start the actor with
 * `maxBadFrames` at least `ws_max_bad_frames + 1` so the machine's lifetime count never decides on its own
 * (the host's rule is a sliding window), and provide `closeSocket` as a no-op.
 *
 * @example
 * makeServer({ ..., observeConnection: (sessionId, connectionId) => {
 *   const actor = startLoggedConnectionActor(sessionId, connectionId) // the runtime's
 *   return connectionMachineObserver((event) => actor.send(event), clock.now)
 * } })
 */
export function connectionMachineObserver(
  send: (event: ConnectionEvent) => void,
  now: () => number,
): ConnectionObserver {
  return {
    opened: () => send({ type: CONNECTION_EVENT.opened, at: now() }),
    frameReceived: () => send({ type: CONNECTION_EVENT.messageReceived, at: now() }),
    badFrame: ({ code, message }) => send({ type: CONNECTION_EVENT.badFrame, at: now(), code, message }),
    closed: ({ code, reason, byHost }) => {
      const at = now()
      if (!byHost) send({ type: CONNECTION_EVENT.dropped, at, code, ...(reason === "" ? {} : { reason }) })
      else if (code === WS_CLOSE.Normal || code === WS_CLOSE.GoingAway) {
        send({ type: CONNECTION_EVENT.closeRequested, at, reason: `${code} ${reason}`.trim() })
      } else send({ type: CONNECTION_EVENT.kill, at, reason: `${code} ${reason}`.trim() })
    },
  }
}
