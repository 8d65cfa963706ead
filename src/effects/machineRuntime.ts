import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type EventObject,
  type InspectionEvent,
  type SnapshotFrom,
} from "xstate"
import type { ClockShape } from "../adapters/clock.js"
import { messageOf } from "../errors/messageOf.js"
import type { LogWriter } from "../eventlog/eventLog.js"
import type { EventLogError } from "../eventlog/eventLogError.js"
import type { EventBody, LoggedEvent, LogRecord, RecordBody } from "../eventlog/logRecord.js"
import type { AnyMachineDefinition, EffectsOf, InputOf } from "../machines/machineDefinition.js"
import type { MachineEventError } from "../machines/machineEventError.js"
import { digestHex, makeContextDigester } from "../machines/stateDigest.js"
import { makeLogBatcher } from "./logBatcher.js"
import { EFFECT_FAILED_CODE, MachineRuntimeError } from "./machineRuntimeError.js"

/** Why `send` can fail: the event was invalid, the actor is over, or the log refused the record. */
export type SendError = MachineEventError | MachineRuntimeError | EventLogError

/** What an effect implementation gets besides its params: a way to talk back to its own actor. */
export interface ActorHandle {
  /** Actor id within the stream (`session`, `connection:<id>`, `cronTask:<id>`). */
  readonly id: string
  /**
   * Validates and sends an event; resolves with its logged record once the log acknowledged it. The
   * machine has already moved when this returns: acknowledgement is about durability, not ordering.
   */
  readonly sendAsync: (event: unknown) => Promise<LogRecord<EventBody>>
  /** {@link sendAsync} as an Effect. */
  readonly send: (event: unknown) => Effect.Effect<LogRecord<EventBody>, SendError>
  /** Sends without waiting. A refusal is still recorded as a `note` in the log. */
  readonly post: (event: unknown) => void
}

/**
 * Implementations of a machine's effects: each receives the params the machine computed and the actor.
 * May return a promise; a throw or rejection is recorded as a `note` (`AGH_MACHINE_EFFECT_FAILED`) and the
 * machine goes on. Missing ones keep the machine's no-op default.
 */
export type EffectImpls<F> = {
  readonly [K in keyof F]?: F[K] extends (params: infer P) => unknown
    ? (params: P, actor: ActorHandle) => void | Promise<void>
    : never
}

/** How to start an actor: its id in the stream, its input, the effects it may ask for. */
export interface StartOptions<D extends AnyMachineDefinition> {
  /** Unique among the running actors of the stream. */
  readonly actorId: string
  /** Validated with the definition's input schema, then logged in `actor.started`. */
  readonly input: InputOf<D>
  readonly effects?: EffectImpls<EffectsOf<D>>
}

/** A running machine whose every event is logged. */
export interface MachineActor<D extends AnyMachineDefinition> extends ActorHandle {
  readonly definition: D
  readonly getSnapshot: () => SnapshotFrom<D["machine"]>
  /**
   * Called after every event the machine processed (delayed ones included), right after the transition,
   * with `ack`: the promise of its record's acknowledgement by the log. Whoever shows the outside world
   * what happened should wait for `ack` first, so nothing seen can be lost by a crash. Returns the
   * unsubscribe function.
   */
  readonly subscribe: (
    listener: (snapshot: SnapshotFrom<D["machine"]>, event: EventObject, ack: Promise<LogRecord>) => void,
  ) => () => void
  /** True once the machine reached a final state (or was stopped). */
  readonly isDone: () => boolean
  /** Stops the actor and its timers without logging an event (the process is going away). */
  readonly stop: () => void
}

/** Options of {@link makeMachineRuntime}. */
export interface MachineRuntimeOptions {
  /** The injected clock: xstate's delays run on it. */
  readonly clock: ClockShape
  /** Called when an append nobody awaits (a delayed event's record, a note) fails. */
  readonly onLogError?: (error: EventLogError) => void
}

/** Runs machines as xstate actors on one event-log stream, logging every event they receive. */
export interface MachineRuntime {
  readonly stream: string
  /** Starts an actor; resolves once its `actor.started` record is acknowledged. */
  readonly start: <D extends AnyMachineDefinition>(
    definition: D,
    options: StartOptions<D>,
  ) => Effect.Effect<MachineActor<D>, SendError>
  readonly startAsync: <D extends AnyMachineDefinition>(
    definition: D,
    options: StartOptions<D>,
  ) => Promise<MachineActor<D>>
  /** Waits for every record so far; fails with the first unawaited append failure since the last flush. */
  readonly flush: Effect.Effect<void, EventLogError>
  readonly flushAsync: () => Promise<void>
  /** Stops every actor (their pending timers included). */
  readonly stopAll: () => void
  /**
   * Appends a `note` record: something the runtime's owner observed that is not a machine event (the
   * scheduler's lock decisions and prompt handovers, say). Never throws; a failed append surfaces in `flush`.
   */
  readonly note: (
    code: string,
    message: string,
    options?: { readonly actor?: string; readonly data?: unknown },
  ) => void
}

interface Waiter {
  readonly resolve: (record: Promise<LogRecord>) => void
  readonly reject: (error: SendError) => void
}

type EffectImpl = (params: unknown, actor: ActorHandle) => unknown

/** What a shared action needs of the actor it runs for. */
interface ActorBinding {
  readonly handle: ActorHandle
  readonly failed: (effect: string, error: unknown) => void
}

/** Actor ref → its binding, for the actions of {@link providedMachine}. */
const bindings = new WeakMap<object, ActorBinding>()
const providedMachines = new WeakMap<object, Map<AnyMachineDefinition, AnyStateMachine>>()
const NO_EFFECTS: Readonly<Record<string, EffectImpl | undefined>> = {}

/**
 * The definition's machine with `effects` plugged in. xstate's `provide` rebuilds the whole state tree
 * (~15 KiB and ~0.5 ms for the cron task machine), so it is done once per effects object, not per actor: a
 * caller that starts many actors with one effects object (the scheduler, 100k cron tasks) shares one
 * machine, and each action finds its actor's handle through xstate's `self`.
 */
function providedMachine(
  definition: AnyMachineDefinition,
  effects: Readonly<Record<string, EffectImpl | undefined>>,
): AnyStateMachine {
  let byDefinition = providedMachines.get(effects)
  if (byDefinition === undefined) {
    byDefinition = new Map()
    providedMachines.set(effects, byDefinition)
  }
  const cached = byDefinition.get(definition)
  if (cached !== undefined) return cached
  const actions: Record<string, (args: { readonly self: unknown }, params: unknown) => void> = {}
  for (const name of definition.effectNames) {
    const impl = effects[name]
    if (impl === undefined) continue
    actions[name] = (args, params) => {
      const binding = bindings.get(args.self as object)
      if (binding === undefined) return
      try {
        const result = impl(params, binding.handle)
        if (result instanceof Promise) result.catch((error: unknown) => binding.failed(name, error))
      } catch (error) {
        binding.failed(name, error)
      }
    }
  }
  const machine = (definition.machine as AnyStateMachine).provide({ actions })
  byDefinition.set(definition, machine)
  return machine
}

/**
 * Builds a runtime over a writer. Every actor started on it logs `actor.started` (machine, version, input,
 * initial state, context digest), then one `event` record per event it processes — sent ones and the
 * delayed ones its clock fires — with the state value and context digest after it. Records go through a
 * group-append queue, so a burst of events is one append.
 *
 * @example
 * const runtime = makeMachineRuntime(writer, { clock: liveClock })
 * const session = await runtime.startAsync(sessionMachineDefinition, {
 *   actorId: "session",
 *   input: { sessionId: "s_1", agent: "builtin", workDir: "/tmp/w", createdAt: Date.now() },
 *   effects: { sendToAgent: (p) => agent.write(p) },
 * })
 * await session.sendAsync({ type: "session.agentReady", at: Date.now() })
 */
export function makeMachineRuntime(writer: LogWriter, options: MachineRuntimeOptions): MachineRuntime {
  const batcher = makeLogBatcher(writer, options.onLogError)
  const running = new Map<string, MachineActor<AnyMachineDefinition>>()
  const xstateClock = {
    setTimeout: (fn: () => void, ms: number) => options.clock.setTimeout(fn, ms),
    clearTimeout: (handle: unknown) => options.clock.clearTimeout(handle as never),
  }

  const note = (actor: string, code: string, message: string, data?: unknown): void => {
    const body: RecordBody =
      data === undefined
        ? { type: "note", actor, code, message }
        : { type: "note", actor, code, message, data }
    void batcher.enqueue(body)
  }

  const startAsync = async <D extends AnyMachineDefinition>(
    definition: D,
    startOptions: StartOptions<D>,
  ): Promise<MachineActor<D>> => {
    const id = startOptions.actorId
    const parsedInput = definition.parseInput(startOptions.input)
    if (Result.isFailure(parsedInput)) {
      note(id, parsedInput.failure.code, parsedInput.failure.message)
      throw parsedInput.failure
    }
    const existing = running.get(id)
    if (existing !== undefined && !existing.isDone()) {
      throw new MachineRuntimeError({
        reason: "DuplicateActor",
        actor: id,
        message: `actor ${id} is already running on stream ${writer.stream}`,
      })
    }
    const input = parsedInput.success
    const waiters = new Map<EventObject, Waiter>()
    const listeners = new Set<
      (snapshot: SnapshotFrom<D["machine"]>, event: EventObject, ack: Promise<LogRecord>) => void
    >()
    let started: Promise<LogRecord> | undefined
    let stopped = false
    const contextDigest = makeContextDigester()

    const rejectWaiting = (error: (eventType: string) => SendError) => {
      for (const [event, waiter] of waiters) {
        const failure = error(event.type)
        note(id, failure.code, failure.message, { type: event.type })
        waiter.reject(failure)
      }
      waiters.clear()
    }

    const status = (): string => {
      const snapshot = ref.getSnapshot() as AnyMachineSnapshot
      if (stopped) return "stopped"
      const value = typeof snapshot.value === "string" ? snapshot.value : JSON.stringify(snapshot.value)
      return snapshot.status === "active" ? `in state ${value}` : `over (final state ${value})`
    }

    const actorDone = (eventType: string) =>
      new MachineRuntimeError({
        reason: "ActorDone",
        actor: id,
        eventType,
        message: `actor ${id} (${definition.name}) is ${status()}: event ${JSON.stringify(eventType)} was not processed`,
      })

    const sendAsync = (raw: unknown): Promise<LogRecord<EventBody>> => {
      const parsed = definition.parseEvent(raw)
      if (Result.isFailure(parsed)) {
        const error = parsed.failure
        note(id, error.code, error.message, { type: error.eventType ?? null })
        return Promise.reject(error)
      }
      const event = parsed.success
      if (stopped || (ref.getSnapshot() as AnyMachineSnapshot).status !== "active") {
        const error = actorDone(event.type)
        note(id, error.code, error.message, { type: event.type })
        return Promise.reject(error)
      }
      const promise = new Promise<LogRecord>((resolve, reject) => waiters.set(event, { resolve, reject }))
      ref.send(event)
      return promise as Promise<LogRecord<EventBody>>
    }

    const handle: MachineActor<D> = {
      id,
      definition,
      sendAsync,
      send: (event) =>
        Effect.tryPromise({ try: () => sendAsync(event), catch: (error) => error as SendError }),
      post: (event) => {
        sendAsync(event).catch(() => {})
      },
      getSnapshot: () => ref.getSnapshot() as SnapshotFrom<D["machine"]>,
      subscribe: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
      isDone: () => stopped || (ref.getSnapshot() as AnyMachineSnapshot).status !== "active",
      stop: () => {
        if (stopped) return
        stopped = true
        running.delete(id)
        ref.stop()
        rejectWaiting(actorDone)
      },
    }

    const effectImpls = (startOptions.effects ?? NO_EFFECTS) as Readonly<
      Record<string, EffectImpl | undefined>
    >
    const machine = providedMachine(definition, effectImpls)

    const onInspect = (inspection: InspectionEvent) => {
      if (inspection.type !== "@xstate.snapshot" || inspection.actorRef !== ref) return
      const event = inspection.event
      if (event.type === "xstate.stop") return
      const snapshot = inspection.snapshot as AnyMachineSnapshot
      const digest = digestHex(contextDigest(snapshot.context))
      const body: RecordBody =
        event.type === "xstate.init"
          ? {
              type: "actor.started",
              actor: id,
              machine: definition.name,
              machineVersion: definition.version,
              input,
              state: snapshot.value,
              digest,
            }
          : { type: "event", actor: id, event: event as LoggedEvent, state: snapshot.value, digest }
      const ack = batcher.enqueue(body)
      if (event.type === "xstate.init") started = ack
      const waiter = waiters.get(event)
      if (waiter !== undefined) {
        waiters.delete(event)
        waiter.resolve(ack)
      }
      for (const listener of listeners) {
        try {
          listener(snapshot as SnapshotFrom<D["machine"]>, event, ack)
        } catch (error) {
          note(id, EFFECT_FAILED_CODE, `a listener of actor ${id} failed: ${messageOf(error)}`)
        }
      }
      // Reaching a final state clears xstate's mailbox: events queued behind this one will never run.
      if (snapshot.status !== "active") {
        running.delete(id)
        rejectWaiting(actorDone)
      }
    }

    const ref = createActor(machine, { input, clock: xstateClock, inspect: onInspect })
    bindings.set(ref, {
      handle,
      failed: (effect, error) =>
        note(id, EFFECT_FAILED_CODE, `effect ${effect} of actor ${id} failed: ${messageOf(error)}`),
    })
    // Without an error observer xstate rethrows asynchronously and takes the process down.
    ref.subscribe({
      error: (error) => {
        const failure = (eventType: string) =>
          new MachineRuntimeError({
            reason: "ActorFailed",
            actor: id,
            eventType,
            message: `actor ${id} (${definition.name}) failed while processing ${JSON.stringify(eventType)}: ${messageOf(error)}`,
            cause: error,
          })
        const unknown = failure("?")
        note(id, unknown.code, unknown.message)
        running.delete(id)
        stopped = true
        rejectWaiting(failure)
      },
    })
    running.set(id, handle as unknown as MachineActor<AnyMachineDefinition>)
    ref.start()
    if (started === undefined) {
      throw new MachineRuntimeError({
        reason: "ActorFailed",
        actor: id,
        message: `actor ${id} (${definition.name}) failed to start: ${messageOf((ref.getSnapshot() as { error?: unknown }).error)}`,
      })
    }
    await started
    return handle
  }

  return {
    stream: writer.stream,
    startAsync,
    start: (definition, startOptions) =>
      Effect.tryPromise({
        try: () => startAsync(definition, startOptions),
        catch: (error) => error as SendError,
      }),
    flushAsync: () => batcher.flush(),
    flush: Effect.tryPromise({ try: () => batcher.flush(), catch: (error) => error as EventLogError }),
    stopAll: () => {
      for (const actor of running.values()) actor.stop()
    },
    note: (code, message, noteOptions) => {
      const body: RecordBody = {
        type: "note",
        code,
        message,
        ...(noteOptions?.actor === undefined ? {} : { actor: noteOptions.actor }),
        ...(noteOptions?.data === undefined ? {} : { data: noteOptions.data }),
      }
      void batcher.enqueue(body)
    },
  }
}
