import type * as Layer from "effect/Layer"
import type { Clock, ClockShape } from "../adapters/clock.js"
import type { CronJitterConfig } from "../cron/jitterConfig.js"
import { openMachineRuntime } from "../effects/openMachineRuntime.js"
import type { Durability, EventLog } from "../eventlog/eventLog.js"
import type { TriggerStore } from "../triggers/triggerStore.js"
import { type Trigger, triggerJitterId } from "../triggers/triggerTypes.js"
import type { HeapClock } from "./heapClock.js"
import { makeInflightWork } from "./inflightWork.js"
import { SCHEDULER_NOTE } from "./schedulerNotes.js"
import { SCHEDULER_STREAM_PREFIX } from "./schedulerStream.js"
import { type ArmoryTask, makeTaskArmory } from "./taskArmory.js"

/** The scheduler stream of the host's triggers: `sched-triggers`, beside the projects' `sched-<hash>`. */
export const TRIGGER_SCHEDULER_STREAM = `${SCHEDULER_STREAM_PREFIX}triggers`

/** Options of {@link startTriggerScheduling}. */
export interface TriggerSchedulingOptions<E = never> {
  readonly store: TriggerStore
  readonly eventLog: Layer.Layer<EventLog, E, Clock>
  readonly durability?: Durability
  /** Timestamps of notes and claims. */
  readonly clock: ClockShape
  /** The scheduler's shared timer heap: the machines' delays run on it. */
  readonly timers: HeapClock
  /** Zone of a schedule without its own `tz` (the host's). */
  readonly zone: string
  readonly jitter: () => CronJitterConfig
  readonly onDiagnostic?: (line: string) => void
}

/** The scheduled triggers, armed as cron tasks on the scheduler's machinery. */
export interface TriggerScheduling {
  readonly stream: string
  /** Triggers whose machine is running. */
  readonly armed: () => number
  /** The armed fire time of a trigger, when its machine waits for one. */
  readonly armedFireAt: (triggerId: string) => number | null | undefined
  /** Reschedules every trigger with a new jitter configuration. */
  readonly reconfigure: (jitter: CronJitterConfig) => void
  /** Resolves once the work started so far (machine starts, fires, appends) is done. */
  readonly settle: () => Promise<void>
  /** Disarms, waits for fires in flight, closes the stream. Idempotent. */
  readonly close: () => Promise<void>
}

/**
 * The cron task a scheduled, enabled trigger is armed as: its jitter id (the first 8 hex characters of the
 * trigger id, so it spreads exactly as a task of that id would), its schedule and zone, recurring and
 * permanent (triggers do not expire), counted from `schedule_from` — creation, the last change of schedule
 * or re-enable, or the last scheduled fire.
 */
export function triggerTask(trigger: Trigger): ArmoryTask | undefined {
  if (!trigger.enabled || trigger.schedule === null) return undefined
  return {
    id: triggerJitterId(trigger.id),
    cron: trigger.schedule.cron,
    prompt: trigger.prompt,
    createdAt: trigger.created_at,
    ...(trigger.schedule_from > trigger.created_at ? { lastFiredAt: trigger.schedule_from } : {}),
    recurring: true,
    permanent: true,
    durable: true,
    ...(trigger.schedule.tz === undefined ? {} : { zone: trigger.schedule.tz }),
  }
}

/**
 * Schedules the host's triggers through the scheduler of "Scheduled tasks" (docs/triggers.md): each
 * scheduled, enabled trigger is a cronTaskMachine on the `sched-triggers` stream, its delays on the
 * scheduler's heap clock, its fire times from the same jitter. A fire first claims the slot in the trigger
 * store (`trigger.slotClaimed`, the compare-and-set of `schedule_from`), then runs the trigger
 * (`fireTrigger(id, firedAt, "schedule")`, recorded in its run history); every fire, skip and failure is a
 * note in the stream, so `agenthost cron history --triggers` shows them like a project's. Downtime collapses
 * into one late fire, recorded as missed. Store changes re-arm: a new schedule or zone restarts the
 * trigger's machine, pausing or deleting ends it.
 */
export async function startTriggerScheduling<E>(
  options: TriggerSchedulingOptions<E>,
): Promise<TriggerScheduling> {
  const { store, clock } = options
  const { runtime, close: closeRuntime } = await openMachineRuntime({
    eventLog: options.eventLog,
    clock: options.timers,
    stream: TRIGGER_SCHEDULER_STREAM,
    open: {
      meta: { kind: "scheduler", source: "triggers" },
      ...(options.durability === undefined ? {} : { durability: options.durability }),
    },
  })
  const { track, drain } = makeInflightWork()
  /** Jitter id → trigger id, for the triggers armed now. */
  let byJitterId = new Map<string, string>()
  /** The fire time each trigger's latest claim recorded: its run starts at the same instant. */
  const claimedAt = new Map<string, number>()
  const reported = new Set<string>()

  const triggerIdOf = (jitterId: string): string => byJitterId.get(jitterId) ?? jitterId

  const armory = makeTaskArmory({
    runtime,
    clock,
    zone: options.zone,
    jitter: options.jitter,
    actorId: (jitterId) => `trigger:${triggerIdOf(jitterId)}`,
    track,
    ...(options.onDiagnostic === undefined ? {} : { onDiagnostic: options.onDiagnostic }),
    backend: {
      claim: async (request) => {
        const triggerId = byJitterId.get(request.taskId)
        if (triggerId === undefined) return { kind: "gone" }
        const claim = await store.claimScheduledSlot(triggerId, {
          base: request.base,
          firedAt: request.lastFiredAt,
          dueAt: request.fireAt ?? request.lastFiredAt,
        })
        if (claim.kind === "gone") return claim
        if (claim.kind === "alreadyFired") return { kind: "alreadyFired", lastFiredAt: claim.scheduleFrom }
        claimedAt.set(triggerId, request.lastFiredAt)
        const task = triggerTask(claim.trigger)
        return task === undefined ? { kind: "gone" } : { kind: "claimed", task }
      },
      deliver: async (task) => {
        const triggerId = triggerIdOf(task.id)
        const run = await store.fireTrigger(triggerId, claimedAt.get(triggerId) ?? clock.now(), "schedule")
        if (run.session_id !== null) return run.session_id
        // The run's own error (policy, session cap, clone) is already in the trigger's history; its code
        // goes into the scheduler's fireFailed note too.
        throw Object.assign(
          new Error(`run ${run.run_id} ${run.status}: ${run.error?.message ?? "no session was started"}`),
          { code: run.error?.code ?? "AGH_TRIGGER_NO_LAUNCHER" },
        )
      },
      // A trigger is removed by its owner, never by the scheduler (a schedule that never fires again just
      // stays unarmed).
      remove: async () => false,
    },
  })

  const sync = () => {
    const tasks: ArmoryTask[] = []
    const armedNow = new Map<string, string>()
    for (const trigger of store.list()) {
      const task = triggerTask(trigger)
      if (task === undefined) continue
      const other = armedNow.get(task.id)
      if (other !== undefined) {
        // Ids the store makes never share a jitter id; a log written elsewhere might.
        if (!reported.has(trigger.id)) {
          reported.add(trigger.id)
          runtime.note(
            SCHEDULER_NOTE.fireFailed,
            `trigger ${trigger.id} is not scheduled: trigger ${other} has the same jitter id ${task.id}`,
            { data: { triggerId: trigger.id, at: clock.now() } },
          )
        }
        continue
      }
      armedNow.set(task.id, trigger.id)
      tasks.push(task)
    }
    byJitterId = armedNow
    armory.sync(tasks)
  }

  const unsubscribe = store.subscribe(() => sync())
  sync()

  const settle = async () => {
    await drain()
    await runtime.flushAsync().catch((error: unknown) => options.onDiagnostic?.(String(error)))
  }

  let closing: Promise<void> | undefined
  return {
    stream: TRIGGER_SCHEDULER_STREAM,
    armed: () => armory.running(),
    armedFireAt: (triggerId) => armory.fireAtOf(triggerJitterId(triggerId)),
    reconfigure: (jitter) => {
      runtime.note(SCHEDULER_NOTE.configChanged, "jitter configuration changed; every trigger rescheduled", {
        data: { jitter, at: clock.now() },
      })
      armory.reconfigure(jitter)
    },
    settle,
    close: () => {
      closing ??= (async () => {
        unsubscribe()
        const count = armory.disarm()
        runtime.note(
          SCHEDULER_NOTE.disarmed,
          `disarmed ${count} trigger(s): the scheduler is shutting down`,
          {
            data: { tasks: count, reason: "shutdown", at: clock.now() },
          },
        )
        await settle()
        await closeRuntime()
      })()
      return closing
    },
  }
}
