import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { Clock, type ClockShape } from "../adapters/clock.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import { openScoped } from "../effects/openScoped.js"
import { isFinalStatus } from "../effects/sessionHandle.js"
import { type Durability, EventLog, type LogWriter, type OpenReport } from "../eventlog/eventLog.js"
import type { EventLogError } from "../eventlog/eventLogError.js"
import { validateNewTrigger, validateTriggerChanges } from "./triggerChecks.js"
import { TriggerError, triggerNotFound } from "./triggerError.js"
import { TRIGGER_EVENT, type TriggerEvent, triggerEventOf, triggerEventRecord } from "./triggerEvents.js"
import { evolveTriggers, initialTriggerState, type TriggerState } from "./triggerFold.js"
import type { LaunchOutcome, TriggerLaunch, TriggerLauncher } from "./triggerLauncher.js"
import {
  DEFAULT_HISTORY_LIMIT,
  type NewTrigger,
  type RunError,
  type RunReason,
  TRIGGERS_STREAM,
  type Trigger,
  type TriggerChanges,
  type TriggerRun,
  triggerJitterId,
} from "./triggerTypes.js"

/** Options of {@link scopedTriggerStore} and {@link openTriggerStore}. */
export interface TriggerStoreOptions {
  readonly clock: ClockShape
  /** Trigger and run ids come from `taskId()` (8 hex each). Default: random. */
  readonly ids?: IdsShape
  /** Starts runs' sessions; the server binds its own with {@link TriggerStore.bindLauncher}. */
  readonly launcher?: TriggerLauncher
  /** Runs kept per trigger (default {@link DEFAULT_HISTORY_LIMIT}). */
  readonly historyLimit?: number
  /** Default {@link TRIGGERS_STREAM}. */
  readonly stream?: string
  readonly durability?: Durability
  /**
   * Records runs still `running` when the store opens as `interrupted` (default true): sessions do not
   * outlive the host that ran them, so after a restart nothing will ever report their end.
   */
  readonly settleRunning?: boolean
}

/** How {@link TriggerStore.fireTrigger} runs. */
export interface FireOptions {
  /** Overrides the store's launcher for this run (the server passes its session gate). */
  readonly launcher?: TriggerLauncher
  /** Runs a paused trigger anyway (manual runs only; a paused trigger's scheduled fires are skipped). */
  readonly force?: boolean
}

/** A scheduled slot the scheduler wants to fire (see {@link TriggerStore.claimScheduledSlot}). */
export interface ScheduledSlot {
  /** The `schedule_from` the slot was computed from. */
  readonly base: number
  /** When it fires (the clock's now); becomes `schedule_from`. */
  readonly firedAt: number
  /** The slot's jittered time. */
  readonly dueAt: number
}

/** What became of a claim. */
export type SlotClaim =
  | { readonly kind: "claimed"; readonly trigger: Trigger }
  | { readonly kind: "gone" }
  | { readonly kind: "alreadyFired"; readonly scheduleFrom: number }

/** What changed, for subscribers: the event and the trigger after it (undefined once deleted). */
export type TriggerListener = (event: TriggerEvent, trigger: Trigger | undefined) => void

/**
 * Durable remote triggers, event-sourced: every change is an event appended to the `triggers` stream of
 * the event log and then folded into memory ({@link evolveTriggers}); opening the store folds the stream
 * again. A change is applied — and visible — only once its append is acknowledged, so what readers see
 * survives a crash (as durable as the log's durability setting). Changes are serialized, so the state is
 * always the fold of the log in its order. Promise-based on purpose, like `SessionHandle`.
 */
export interface TriggerStore {
  readonly stream: string
  /** What opening the log found (a torn tail cut off, with its `warning`). */
  readonly report: OpenReport
  /** Every trigger, oldest first. */
  list(): ReadonlyArray<Trigger>
  get(id: string): Trigger | undefined
  /** Rejects with `AGH_TRIGGER_INVALID` naming the field. */
  create(input: NewTrigger): Promise<Trigger>
  /** Partial update; an update with nothing in it changes nothing. Rejects with not found / invalid. */
  update(id: string, changes: TriggerChanges): Promise<Trigger>
  /** Removes the trigger (its events stay in the log). Resolves with it as it was. */
  delete(id: string): Promise<Trigger>
  /**
   * Starts a run and records it in the trigger's history; its end is recorded when the session ends.
   * - manual run of a paused trigger without `force`: rejects `AGH_TRIGGER_DISABLED`, nothing recorded;
   * - scheduled fire of a paused trigger: recorded `skipped`;
   * - the launcher fails: recorded `start_failed` with the error's code; a manual run then rejects with that
   *   error, a scheduled one resolves with the failed run (the scheduler has no one to tell).
   */
  fireTrigger(id: string, firedAt: number, reason: RunReason, options?: FireOptions): Promise<TriggerRun>
  /**
   * Claims a scheduled slot before its run starts (the scheduler's compare-and-set): records
   * `trigger.slotClaimed`, moving `schedule_from` to `firedAt`, unless the trigger is gone, paused or
   * unscheduled (`gone`), or its `schedule_from` moved past `base` — the time the slot was computed from —
   * since (`alreadyFired`: another fire or a change of schedule took it).
   */
  claimScheduledSlot(id: string, slot: ScheduledSlot): Promise<SlotClaim>
  /** Sets the launcher used when `fireTrigger` gets none (the server's routes bind the session gate). */
  bindLauncher(launcher: TriggerLauncher): void
  /** Calls `listener` after every applied event. Returns the unsubscribe function. */
  subscribe(listener: TriggerListener): () => void
  /**
   * Resolves when every change requested so far is applied, including the recorded ends of sessions that
   * have ended (runs still running are not waited for).
   */
  settled(): Promise<void>
  /** Waits for pending changes and closes the log writer. Idempotent. */
  close(): Promise<void>
}

function runError(error: unknown): RunError {
  const e = error as { code?: unknown; message?: unknown }
  return {
    code: typeof e?.code === "string" ? e.code : "AGH_INTERNAL",
    message: typeof e?.message === "string" ? e.message : String(error),
  }
}

function definedChanges(changes: TriggerChanges): TriggerChanges {
  // A JavaScript caller's `{ name: undefined }` means "not changed", and must not reach the log.
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as TriggerChanges
}

class EventSourcedTriggerStore implements TriggerStore {
  readonly stream: string
  readonly report: OpenReport
  private readonly listeners = new Set<TriggerListener>()
  /** Records of session ends, queued but not yet applied. */
  private readonly finishing = new Set<Promise<void>>()
  private queue: Promise<unknown> = Promise.resolve()
  private launcher: TriggerLauncher | undefined
  private closed = false
  /** What `close()` does: just {@link shutdown} in someone else's scope; closing its own scope otherwise. */
  closer: () => Promise<void> = () => this.shutdown()

  constructor(
    private readonly writer: LogWriter,
    private readonly state: TriggerState,
    private readonly options: TriggerStoreOptions,
  ) {
    this.stream = writer.stream
    this.report = writer.report
    this.launcher = options.launcher
  }

  private get ids(): IdsShape {
    return this.options.ids ?? liveIds
  }

  list(): ReadonlyArray<Trigger> {
    return [...this.state.values()]
  }

  get(id: string): Trigger | undefined {
    return this.state.get(id)
  }

  bindLauncher(launcher: TriggerLauncher): void {
    this.launcher = launcher
  }

  subscribe(listener: TriggerListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  create(input: NewTrigger): Promise<Trigger> {
    return this.exclusive(async () => {
      const invalid = validateNewTrigger(input)
      if (invalid !== undefined) throw invalid
      // Unique on the jitter id too: the scheduler arms a trigger as a cron task of that id.
      const jitterIds = new Set(this.list().map((t) => triggerJitterId(t.id)))
      let id = this.newTriggerId()
      while (this.state.has(id) || jitterIds.has(triggerJitterId(id))) id = this.newTriggerId()
      await this.commit({
        type: TRIGGER_EVENT.created,
        trigger: {
          id,
          name: input.name,
          prompt: input.prompt,
          project: input.project,
          agent: input.agent,
          schedule: input.schedule ?? null,
          enabled: input.enabled ?? true,
          created_at: this.options.clock.now(),
        },
      })
      return this.state.get(id) as Trigger
    })
  }

  update(id: string, changes: TriggerChanges): Promise<Trigger> {
    return this.exclusive(async () => {
      const current = this.require(id)
      const invalid = validateTriggerChanges(id, changes)
      if (invalid !== undefined) throw invalid
      const defined = definedChanges(changes)
      if (Object.keys(defined).length === 0) return current
      await this.commit({
        type: TRIGGER_EVENT.updated,
        id,
        changes: defined,
        updated_at: this.options.clock.now(),
      })
      return this.state.get(id) as Trigger
    })
  }

  delete(id: string): Promise<Trigger> {
    return this.exclusive(async () => {
      const current = this.require(id)
      await this.commit({ type: TRIGGER_EVENT.deleted, id, deleted_at: this.options.clock.now() })
      return current
    })
  }

  claimScheduledSlot(id: string, slot: ScheduledSlot): Promise<SlotClaim> {
    return this.exclusive(async (): Promise<SlotClaim> => {
      const trigger = this.state.get(id)
      if (trigger === undefined || !trigger.enabled || trigger.schedule === null) return { kind: "gone" }
      if (trigger.schedule_from > slot.base)
        return { kind: "alreadyFired", scheduleFrom: trigger.schedule_from }
      await this.commit({ type: TRIGGER_EVENT.slotClaimed, id, fired_at: slot.firedAt, due_at: slot.dueAt })
      return { kind: "claimed", trigger: this.state.get(id) as Trigger }
    })
  }

  async fireTrigger(
    id: string,
    firedAt: number,
    reason: RunReason,
    options: FireOptions = {},
  ): Promise<TriggerRun> {
    const trigger = this.require(id)
    const runId = this.newRunId()
    const refuse = (status: "start_failed" | "skipped", error: unknown) =>
      this.exclusive(() =>
        this.commit({
          type: TRIGGER_EVENT.runNotStarted,
          id,
          run_id: runId,
          started_at: firedAt,
          reason,
          status,
          error: runError(error),
        }),
      ).then(() => this.runOf(id, runId, reason, firedAt))
    if (!trigger.enabled && !(reason === "manual" && options.force === true)) {
      const paused = new TriggerError({
        reason: "Disabled",
        triggerId: id,
        message:
          reason === "manual"
            ? `trigger ${id} (${JSON.stringify(trigger.name)}) is paused; enable it, or run it anyway with force (body {"force": true}, agenthost trigger run --force)`
            : `trigger ${id} (${JSON.stringify(trigger.name)}) is paused; its scheduled fire is skipped`,
      })
      if (reason === "manual") throw paused
      return refuse("skipped", paused)
    }
    const launcher = options.launcher ?? this.launcher
    let launch: TriggerLaunch
    try {
      if (launcher === undefined) {
        throw new TriggerError({
          reason: "NoLauncher",
          triggerId: id,
          message: `trigger ${id} cannot run: no session launcher is bound to the trigger store`,
        })
      }
      launch = await launcher({ trigger, runId, reason })
    } catch (error) {
      const run = await refuse("start_failed", error)
      if (reason === "manual") throw error
      return run
    }
    await this.exclusive(() =>
      this.commit({
        type: TRIGGER_EVENT.runStarted,
        id,
        run_id: runId,
        session_id: launch.sessionId,
        started_at: firedAt,
        reason,
      }),
    )
    if (launch.done !== undefined) this.watch(id, runId, launch.done)
    return this.runOf(id, runId, reason, firedAt, launch.sessionId)
  }

  async settled(): Promise<void> {
    // A session that just ended resolves its `done` in microtasks; one turn of the event loop lets its
    // record be queued before the wait. Not a sleep: nothing here depends on time passing.
    await new Promise<void>((resolve) => setImmediate(resolve))
    while (this.finishing.size > 0) await Promise.allSettled([...this.finishing])
    await this.queue.catch(() => undefined)
  }

  close(): Promise<void> {
    return this.closer()
  }

  /** The scope's finalizer: refuses new changes, then lets the queued ones finish. */
  async shutdown(): Promise<void> {
    this.closed = true
    await this.queue.catch(() => undefined)
  }

  /** Records every still-running run as interrupted (see `settleRunning`). */
  async settleInterrupted(): Promise<void> {
    const now = this.options.clock.now()
    for (const trigger of this.list()) {
      for (const run of trigger.history) {
        if (run.status !== "running") continue
        await this.exclusive(() =>
          this.commit({
            type: TRIGGER_EVENT.runFinished,
            id: trigger.id,
            run_id: run.run_id,
            status: "interrupted",
            finished_at: now,
            detail: "the host stopped before the session ended",
          }),
        )
      }
    }
  }

  private watch(id: string, runId: string, done: Promise<LaunchOutcome>): void {
    void done
      .then(
        (outcome) => ({
          status: isFinalStatus(outcome.status) ? outcome.status : "failed",
          detail: outcome.detail ?? (isFinalStatus(outcome.status) ? undefined : `session ${outcome.status}`),
        }),
        (error: unknown) => ({ status: "failed", detail: runError(error).message }),
      )
      .then(({ status, detail }) => {
        const recorded = this.exclusive(() =>
          this.commit({
            type: TRIGGER_EVENT.runFinished,
            id,
            run_id: runId,
            status: status as "completed" | "failed" | "killed",
            finished_at: this.options.clock.now(),
            ...(detail === undefined ? {} : { detail }),
          }),
        )
          // A session ending after the store closed is recorded at the next open (as interrupted).
          .catch(() => undefined)
          .finally(() => this.finishing.delete(recorded))
        this.finishing.add(recorded)
      })
  }

  private runOf(id: string, runId: string, reason: RunReason, at: number, sessionId?: string): TriggerRun {
    const found = this.state.get(id)?.history.find((r) => r.run_id === runId)
    // The trigger may have been deleted meanwhile; the run still happened.
    return (
      found ?? {
        run_id: runId,
        session_id: sessionId ?? null,
        started_at: at,
        reason,
        status: sessionId === undefined ? "start_failed" : "running",
      }
    )
  }

  private require(id: string): Trigger {
    const trigger = this.state.get(id)
    if (trigger === undefined) throw triggerNotFound(id)
    return trigger
  }

  private newTriggerId(): string {
    return `trg_${this.ids.taskId()}${this.ids.taskId()}`
  }

  private newRunId(): string {
    return `run_${this.ids.taskId()}${this.ids.taskId()}`
  }

  /** Runs `fn` after every change queued before it; a failure does not block later ones. */
  private exclusive<A>(fn: () => Promise<A>): Promise<A> {
    if (this.closed) {
      return Promise.reject(
        new TriggerError({ reason: "Closed", message: `the trigger store (${this.stream}) is closed` }),
      )
    }
    const result = this.queue.then(fn)
    this.queue = result.catch(() => undefined)
    return result
  }

  /** Appends the event, then applies it and tells subscribers. Call inside {@link exclusive}. */
  private async commit(event: TriggerEvent): Promise<void> {
    const exit = await Effect.runPromiseExit(this.writer.append([triggerEventRecord(event)]))
    if (Exit.isFailure(exit)) {
      const cause = Cause.squash(exit.cause) as EventLogError
      throw new TriggerError({
        reason: "StoreFailed",
        message: `cannot record ${event.type} in event log stream ${this.stream}: ${cause.code ?? ""} ${cause.message}`,
        cause,
      })
    }
    evolveTriggers(this.state, event, this.options.historyLimit ?? DEFAULT_HISTORY_LIMIT)
    const id = event.type === TRIGGER_EVENT.created ? event.trigger.id : event.id
    const after = this.state.get(id)
    for (const listener of [...this.listeners]) {
      try {
        listener(event, after)
      } catch {
        // A subscriber's bug must not undo or block a change that is already durable.
      }
    }
  }
}

/**
 * Opens the trigger store on the provided {@link EventLog} for the life of the scope: opens the stream for
 * writing (repairing a torn tail), folds every record into the state, settles runs left `running`. A
 * record that claims to be a trigger event but does not decode fails the open (`AGH_TRIGGER_BAD_EVENT`).
 */
export const scopedTriggerStore = Effect.fnUntraced(function* (options: TriggerStoreOptions) {
  const log = yield* EventLog
  const stream = options.stream ?? TRIGGERS_STREAM
  const writer = yield* log.open(stream, {
    meta: { kind: "triggers" },
    ...(options.durability === undefined ? {} : { durability: options.durability }),
  })
  const state = initialTriggerState()
  const limit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT
  yield* log.read(stream).pipe(
    Stream.runForEach((record) => {
      const event = triggerEventOf(record, stream)
      if (Result.isFailure(event)) return Effect.fail(event.failure)
      if (event.success !== undefined) evolveTriggers(state, event.success, limit)
      return Effect.void
    }),
  )
  const store = new EventSourcedTriggerStore(writer, state, options)
  // Added after the writer's open, so it runs first: queued changes finish before the writer closes.
  yield* Effect.addFinalizer(() => Effect.promise(() => store.shutdown()))
  if (options.settleRunning !== false) yield* Effect.promise(() => store.settleInterrupted())
  return store as TriggerStore
})

/** Options of {@link openTriggerStore}. */
export interface OpenTriggerStoreOptions<E> extends TriggerStoreOptions {
  /** The event-log backend, e.g. `fileEventLogLayer({ dir: "<home>/logs" })` or `memoryEventLogLayer`. */
  readonly eventLog: Layer.Layer<EventLog, E, Clock>
}

/**
 * {@link scopedTriggerStore} for code that does not use Effect; `store.close()` closes the writer.
 *
 * @example
 * const store = await openTriggerStore({ eventLog: fileEventLogLayer({ dir: join(home, "logs") }), clock: liveClock })
 * const trigger = await store.create({ name: "nightly", prompt: "run the tests", project: { work_dir }, agent: "builtin" })
 */
export async function openTriggerStore<E>(options: OpenTriggerStoreOptions<E>): Promise<TriggerStore> {
  const clock = Layer.succeed(Clock, options.clock)
  const { value: store, close } = await openScoped(
    scopedTriggerStore(options).pipe(Effect.provide(options.eventLog.pipe(Layer.provide(clock)))),
  )
  let closing: Promise<void> | undefined
  if (store instanceof EventSourcedTriggerStore) {
    store.closer = () => {
      closing ??= close()
      return closing
    }
  }
  return store
}
