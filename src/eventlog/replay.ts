import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import {
  type ActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type EventObject,
  initialTransition,
} from "xstate"
import { messageOf } from "../errors/messageOf.js"
import type { AnyMachineDefinition } from "../machines/machineDefinition.js"
import { defaultMachines } from "../machines/machineRegistry.js"
import { digestHex, makeContextDigester, parseDigest, sameJson } from "../machines/stateDigest.js"
import { EventLog } from "./eventLog.js"
import type { EventLogError } from "./eventLogError.js"
import type { ActorStartedBody, EventBody, LogRecord } from "./logRecord.js"
import { ReplayError, type ReplayedState } from "./replayError.js"
import { formatStateValue } from "./replayTimeline.js"

/**
 * - `ok`: replaying the record through the machine gave exactly the logged state value and context digest;
 * - `diverged`: it did not (the first such record is the divergence; the actor is not verified after it);
 * - `unverified`: the record was not checked — its machine is unknown or logged by another version, or the
 *   actor diverged earlier; before/after are then the logged states;
 * - `note`: a runtime note, nothing to replay.
 */
export type ReplayStatus = "ok" | "diverged" | "unverified" | "note"

/** One line of the timeline: what a record did, and whether replay confirms it. */
export interface TimelineEntry {
  readonly seq: number
  /** Epoch ms of the append (the injected clock). */
  readonly at: number
  readonly actor: string | null
  readonly kind: "started" | "event" | "note"
  /** Event type, `actor.started`, or the note's code. */
  readonly type: string
  readonly machine: string | null
  /** State value before the record (null for starts and notes). */
  readonly before: unknown
  /** State value after the record. */
  readonly after: unknown
  /** Context digest after the record (replayed when verified, logged otherwise); null for notes. */
  readonly digest: string | null
  readonly status: ReplayStatus
  /** A note's message. */
  readonly message?: string
  /** Why the record is not `ok`, when replay has something to say (first divergence, unknown machine...). */
  readonly issue?: ReplayError
}

/** The fold's step function: feed records in seq order, get one entry each. */
export interface Replayer {
  readonly step: (record: LogRecord) => TimelineEntry
}

interface ReplayedActor {
  readonly machineName: string
  /** Undefined when the actor cannot be verified (unknown machine, other version, diverged earlier). */
  verifier:
    | {
        readonly machine: AnyStateMachine
        readonly scope: ActorScope<AnyMachineSnapshot, EventObject>
        readonly digest: (context: unknown) => number
      }
    | undefined
  snapshot: AnyMachineSnapshot | undefined
  /** Last logged state: what unverified entries show. */
  logged: unknown
}

const noop = () => {}

/**
 * One reusable inert scope per actor. xstate's own `transition()` builds a throwaway actor (and two actor
 * systems) on every call, which costs ten times the transition itself; `machine.transition(snapshot, event,
 * scope)` with a scope whose executor drops every action is the same pure step without that cost.
 */
function inertScope(machine: AnyStateMachine, input: unknown): ActorScope<AnyMachineSnapshot, EventObject> {
  const self = createActor(machine, { input })
  return {
    self,
    id: "",
    sessionId: "",
    logger: noop,
    defer: noop,
    emit: noop,
    system: self.system,
    stopChild: noop,
    actionExecutor: noop,
  } as unknown as ActorScope<AnyMachineSnapshot, EventObject>
}

function entry(
  record: LogRecord,
  actor: string,
  kind: "started" | "event",
  type: string,
  machine: string | null,
  before: unknown,
  after: unknown,
  digest: string,
  status: ReplayStatus,
  issue?: ReplayError,
): TimelineEntry {
  const base = { seq: record.seq, at: record.at, actor, kind, type, machine, before, after, digest, status }
  return issue === undefined ? base : { ...base, issue }
}

const describeState = (s: ReplayedState): string => `state ${formatStateValue(s.state)} digest ${s.digest}`

/**
 * The replay fold. For each `actor.started` it builds the machine's initial snapshot from the logged input
 * (xstate `initialTransition`), for each `event` the next snapshot (the machine's pure transition, actions
 * not executed), and compares state value and context digest with the logged ones. Delayed events were
 * logged like any other, so they fold the same way.
 *
 * A machine version different from this build's is reported once (`AGH_REPLAY_VERSION_MISMATCH`) and the
 * actor's records are shown as logged but not compared: the machine's semantics changed by definition, so
 * a comparison would only produce noise that looks like a bug.
 */
export function makeReplayer(machines: ReadonlyArray<AnyMachineDefinition> = defaultMachines): Replayer {
  const byName = new Map(machines.map((d) => [d.name, d]))
  const actors = new Map<string, ReplayedActor>()
  // Consecutive records mostly belong to one actor: skip the map lookup for those.
  let lastId: string | undefined
  let last: ReplayedActor | undefined

  const started = (record: LogRecord, body: ActorStartedBody): TimelineEntry => {
    // A start replaces whatever the actor id meant before; unverified until its initial state checks out.
    const actor: ReplayedActor = {
      machineName: body.machine,
      verifier: undefined,
      snapshot: undefined,
      logged: body.state,
    }
    lastId = undefined
    actors.set(body.actor, actor)
    const startEntry = (after: unknown, status: ReplayStatus, issue?: ReplayError) =>
      entry(record, body.actor, "started", body.type, body.machine, null, after, body.digest, status, issue)
    const unverified = (reason: "UnknownMachine" | "VersionMismatch", message: string) =>
      startEntry(
        body.state,
        "unverified",
        new ReplayError({ reason, seq: record.seq, actor: body.actor, message }),
      )
    const definition = byName.get(body.machine)
    if (definition === undefined) {
      return unverified(
        "UnknownMachine",
        `record ${record.seq}: actor ${body.actor} runs machine ${JSON.stringify(body.machine)}, which this build does not know (known: ${[...byName.keys()].join(", ")}); its records are shown as logged, not verified`,
      )
    }
    if (body.machineVersion !== definition.version) {
      return unverified(
        "VersionMismatch",
        `record ${record.seq}: actor ${body.actor} was logged by ${body.machine} machine version ${body.machineVersion}, this build has version ${definition.version}; its records are shown as logged, not verified`,
      )
    }
    const machine = definition.machine as AnyStateMachine
    let snapshot: AnyMachineSnapshot
    try {
      snapshot = initialTransition(machine, body.input)[0] as AnyMachineSnapshot
    } catch (error) {
      return diverged(record, actor, null, body, { state: null, digest: `threw: ${messageOf(error)}` })
    }
    const digester = makeContextDigester()
    actor.snapshot = snapshot
    actor.verifier = { machine, scope: inertScope(machine, body.input), digest: digester }
    const digest = digester(snapshot.context)
    if (digest === parseDigest(body.digest) && sameJson(snapshot.value, body.state)) {
      return startEntry(snapshot.value, "ok")
    }
    return diverged(record, actor, null, body, { state: snapshot.value, digest: digestHex(digest) })
  }

  const event = (record: LogRecord, body: EventBody): TimelineEntry => {
    const actor = body.actor === lastId ? last : actors.get(body.actor)
    lastId = body.actor
    last = actor
    const type = body.event.type
    if (actor === undefined) {
      const issue = new ReplayError({
        reason: "UnknownActor",
        seq: record.seq,
        actor: body.actor,
        message: `record ${record.seq}: event ${type} for actor ${body.actor}, which has no actor.started record before it`,
      })
      return entry(
        record,
        body.actor,
        "event",
        type,
        null,
        null,
        body.state,
        body.digest,
        "unverified",
        issue,
      )
    }
    const verifier = actor.verifier
    const snapshot = actor.snapshot
    if (verifier === undefined || snapshot === undefined) {
      const before = actor.logged
      actor.logged = body.state
      return entry(
        record,
        body.actor,
        "event",
        type,
        actor.machineName,
        before,
        body.state,
        body.digest,
        "unverified",
      )
    }
    let next: AnyMachineSnapshot
    try {
      next = verifier.machine.transition(snapshot, body.event, verifier.scope) as AnyMachineSnapshot
    } catch (error) {
      return diverged(record, actor, snapshot.value, body, {
        state: null,
        digest: `threw: ${messageOf(error)}`,
      })
    }
    actor.snapshot = next
    actor.logged = body.state
    const digest = verifier.digest(next.context)
    if (digest === parseDigest(body.digest) && sameJson(next.value, body.state)) {
      return entry(
        record,
        body.actor,
        "event",
        type,
        actor.machineName,
        snapshot.value,
        next.value,
        body.digest,
        "ok",
      )
    }
    return diverged(record, actor, snapshot.value, body, { state: next.value, digest: digestHex(digest) })
  }

  const diverged = (
    record: LogRecord,
    actor: ReplayedActor,
    before: unknown,
    body: ActorStartedBody | EventBody,
    got: ReplayedState,
  ): TimelineEntry => {
    // Past a divergence the replayed context is wrong; following the log from here on shows what happened.
    actor.verifier = undefined
    actor.logged = body.state
    const expected = { state: body.state, digest: body.digest }
    const isEvent = body.type === "event"
    const type = isEvent ? body.event.type : body.type
    const issue = new ReplayError({
      reason: "Diverged",
      seq: record.seq,
      actor: body.actor,
      expected,
      got,
      message: `record ${record.seq} (actor ${body.actor}, ${isEvent ? `event ${type}` : type}) diverged: expected ${describeState(expected)}, got ${describeState(got)}`,
    })
    const kind = isEvent ? "event" : "started"
    return entry(
      record,
      body.actor,
      kind,
      type,
      actor.machineName,
      before,
      got.state,
      got.digest,
      "diverged",
      issue,
    )
  }

  return {
    step: (record) => {
      const body = record.body
      switch (body.type) {
        case "actor.started":
          return started(record, body)
        case "event":
          return event(record, body)
        default:
          return {
            seq: record.seq,
            at: record.at,
            actor: body.actor ?? null,
            kind: "note",
            type: body.code,
            machine: null,
            before: null,
            after: null,
            digest: null,
            status: "note",
            message: body.message,
          }
      }
    },
  }
}

/** Replays records lazily, one timeline entry per record. Never throws: problems are entries' `issue`s. */
export function* replayLog(
  records: Iterable<LogRecord>,
  machines: ReadonlyArray<AnyMachineDefinition> = defaultMachines,
): Generator<TimelineEntry> {
  const replayer = makeReplayer(machines)
  for (const record of records) yield replayer.step(record)
}

/** {@link replayLog} over a record stream (a file being read, or followed as it grows). */
export function replayStream<E, R>(
  records: Stream.Stream<LogRecord, E, R>,
  machines: ReadonlyArray<AnyMachineDefinition> = defaultMachines,
): Stream.Stream<TimelineEntry, E, R> {
  return Stream.suspend(() => {
    const replayer = makeReplayer(machines)
    return Stream.map(records, (record) => replayer.step(record))
  })
}

/** Counts of a verified replay. */
export interface ReplaySummary {
  readonly records: number
  readonly events: number
  readonly actors: number
  readonly notes: number
}

const countInto = (
  summary: { records: number; events: number; actors: number; notes: number },
  e: TimelineEntry,
) => {
  summary.records++
  if (e.kind === "event") summary.events++
  else if (e.kind === "started") summary.actors++
  else summary.notes++
}

/**
 * Replays and verifies: the first record with an issue (divergence, unknown machine or actor, other machine
 * version) is the error. Verification that could not compare everything is not a success.
 */
export function verifyLog(
  records: Iterable<LogRecord>,
  machines: ReadonlyArray<AnyMachineDefinition> = defaultMachines,
): Result.Result<ReplaySummary, ReplayError> {
  const summary = { records: 0, events: 0, actors: 0, notes: 0 }
  for (const entry of replayLog(records, machines)) {
    if (entry.issue !== undefined) return Result.fail(entry.issue)
    countInto(summary, entry)
  }
  return Result.succeed(summary)
}

/** {@link verifyLog} over a record stream. */
export function verifyStream<E, R>(
  records: Stream.Stream<LogRecord, E, R>,
  machines: ReadonlyArray<AnyMachineDefinition> = defaultMachines,
): Effect.Effect<ReplaySummary, E | ReplayError, R> {
  return Effect.suspend(() => {
    const summary = { records: 0, events: 0, actors: 0, notes: 0 }
    return replayStream(records, machines).pipe(
      Stream.runForEach((entry) => {
        if (entry.issue !== undefined) return Effect.fail(entry.issue)
        countInto(summary, entry)
        return Effect.void
      }),
      Effect.as(summary as ReplaySummary),
    )
  })
}

/** Verifies a whole stream of the provided {@link EventLog} (the test kit's replay helper). */
export const verifyEventLogStream = (
  stream: string,
  machines: ReadonlyArray<AnyMachineDefinition> = defaultMachines,
): Effect.Effect<ReplaySummary, EventLogError | ReplayError, EventLog> =>
  Effect.gen(function* () {
    const log = yield* EventLog
    return yield* verifyStream(log.read(stream), machines)
  })

/**
 * Throws the first {@link ReplayError} of a log, returns its summary otherwise: the one-line check a test
 * of an embedding program needs after driving machines through the runtime.
 *
 * @example
 * const records = await Effect.runPromise(Stream.runCollect(log.read("s_1")))
 * expect(assertLogReplays(records).events).toBe(12)
 */
export function assertLogReplays(
  records: Iterable<LogRecord>,
  machines: ReadonlyArray<AnyMachineDefinition> = defaultMachines,
): ReplaySummary {
  const result = verifyLog(records, machines)
  if (Result.isFailure(result)) throw result.failure
  return result.success
}
