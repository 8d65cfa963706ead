import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { type AnyMachineSnapshot, initialTransition, transition } from "xstate"
import type { ClockShape } from "../adapters/clock.js"
import type { EventLogShape } from "../eventlog/eventLog.js"
import type { EventBody, LogRecord, RecordBody } from "../eventlog/logRecord.js"
import { sessionMachineDefinition } from "../machines/machineRegistry.js"
import type { SessionContext, SessionEvent, SessionInput } from "../machines/sessionTypes.js"
import { digestHex, makeContextDigester } from "../machines/stateDigest.js"
import type { SeqMessage, SessionHandle, SessionInfo } from "./sessionHandle.js"
import { historyEntriesOf } from "./sessionHistory.js"
import { sessionInfoOf } from "./sessionRuntime.js"

/** Note written when a host finds a session its previous run left unfinished. */
export const HOST_RESTART_CODE = "AGH_SESSION_HOST_RESTART"

const SESSION_ACTOR = "session"
const sessionMachine = sessionMachineDefinition.machine

/** A session folded from its log: final context, state and the history its clients saw. */
export interface FoldedSession {
  readonly snapshot: AnyMachineSnapshot
  readonly history: ReadonlyArray<SeqMessage>
}

/** An error from a recovered (ended) session's handle. */
export class SessionEndedError extends Error {
  readonly code = "AGH_SESSION_ENDED"
  constructor(id: string, status: string) {
    super(`session ${id} is ${status}: it no longer accepts input`)
    this.name = "SessionEndedError"
  }
}

/**
 * Folds a session stream's records through the session machine's pure transition: the same states the live
 * runtime reached, and, through {@link historyEntriesOf}, the same history. Records of other actors (a
 * session's connections) are skipped.
 */
export function foldSessionRecords(records: Iterable<LogRecord>): FoldedSession | undefined {
  let snapshot: AnyMachineSnapshot | undefined
  const history: SeqMessage[] = []
  for (const record of records) {
    const body = record.body
    if (body.type === "actor.started" && body.actor === SESSION_ACTOR) {
      snapshot = initialTransition(sessionMachine, body.input as SessionInput)[0] as AnyMachineSnapshot
      continue
    }
    if (body.type !== "event" || body.actor !== SESSION_ACTOR || snapshot === undefined) continue
    snapshot = foldEvent(snapshot, body.event as SessionEvent, history)
  }
  return snapshot === undefined ? undefined : { snapshot, history }
}

/** One session event through the pure transition; what clients would have seen of it goes on `history`. */
function foldEvent(
  snapshot: AnyMachineSnapshot,
  event: SessionEvent,
  history: SeqMessage[],
): AnyMachineSnapshot {
  const next = transition(sessionMachine, snapshot as never, event as never)[0] as AnyMachineSnapshot
  const entries = historyEntriesOf(snapshot.context as SessionContext, event, next.context as SessionContext)
  for (const entry of entries) history.push({ ...entry, seq: history.length + 1 } as SeqMessage)
  return next
}

/** A read-only handle on a session that ended (in this run or an earlier one). */
export function endedSessionHandle(folded: FoldedSession): SessionHandle {
  const context = folded.snapshot.context as SessionContext
  const info: SessionInfo = sessionInfoOf(context, folded.snapshot.value, folded.history.length)
  const refuse = () => Promise.reject(new SessionEndedError(info.id, info.status))
  const known = (requestId: string) => context.recentPermissions.some((p) => p.requestId === requestId)
  return {
    id: info.id,
    info: () => info,
    history: (afterSeq = 0) => folded.history.slice(Math.max(0, afterSeq)),
    subscribe(afterSeq, listener) {
      for (const message of folded.history.slice(Math.max(0, afterSeq))) listener(message)
      return () => {}
    },
    pendingPermissions: () => [],
    sendUserMessage: refuse,
    answerPermission: (requestId) =>
      Promise.resolve(known(requestId) ? "already_answered" : "unknown_request"),
    interrupt: refuse,
    close: () => Promise.resolve(),
    kill: () => Promise.resolve(),
    whenDone: () => Promise.resolve(info),
  }
}

/**
 * Accounts for every session an earlier run of the host left in `log` (streams named `s_*`): each is folded
 * from its log; one that was still running — its agent died with the old host — is ended with a logged
 * `session.agentExited` (reason: host restart) so its log, its API view and `replay --verify` agree that it
 * failed. Nothing shows "running" forever.
 */
export const recoverSessions = Effect.fnUntraced(function* (log: EventLogShape, clock: ClockShape) {
  const streams = (yield* log.list()).filter((name) => name.startsWith("s_"))
  const handles: SessionHandle[] = []
  for (const stream of streams) {
    const records = yield* Stream.runCollect(log.read(stream))
    let folded = foldSessionRecords(records)
    if (folded === undefined) continue
    if (folded.snapshot.status !== "done") {
      const event = {
        type: "session.agentExited",
        at: clock.now(),
        code: null,
        signal: null,
        reason: "host restarted",
      } as const
      // The ending extends the fold: the log read above is not folded a second time.
      const history = [...folded.history]
      const next = foldEvent(folded.snapshot, event, history)
      const digest = makeContextDigester()
      const bodies: RecordBody[] = [
        {
          type: "note",
          actor: SESSION_ACTOR,
          code: HOST_RESTART_CODE,
          message: "the host restarted while this session was running; its agent process is gone",
        },
        {
          type: "event",
          actor: SESSION_ACTOR,
          event,
          state: next.value,
          digest: digestHex(digest(next.context)),
        } satisfies EventBody,
      ]
      yield* Effect.scoped(Effect.flatMap(log.open(stream), (writer) => writer.append(bodies)))
      folded = { snapshot: next, history }
    }
    handles.push(endedSessionHandle(folded))
  }
  return handles
})
