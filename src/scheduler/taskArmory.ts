import type { ClockShape } from "../adapters/clock.js"
import type { CronJitterConfig } from "../cron/jitterConfig.js"
import type { ScheduledTask } from "../cron/taskFile.js"
import type { ActorHandle, EffectImpls, MachineActor, MachineRuntime } from "../effects/machineRuntime.js"
import { messageOf } from "../errors/messageOf.js"
import {
  CRON_TASK_EVENT,
  type CronTaskEffects,
  type CronTaskEndKind,
  type CronTaskRecord,
  type FirePromptParams,
} from "../machines/cronTaskTypes.js"
import { cronTaskMachineDefinition } from "../machines/machineRegistry.js"
import { planNextFire } from "./planNextFire.js"
import { type FireNoteData, SCHEDULER_NOTE } from "./schedulerNotes.js"
import type { ClaimOutcome, ClaimRequest } from "./taskFileEditor.js"

type CronTaskActor = MachineActor<typeof cronTaskMachineDefinition>

/**
 * A task as an armory takes it: a {@link ScheduledTask}, optionally with its own zone (a trigger's `tz`);
 * without one the armory's zone applies.
 */
export interface ArmoryTask extends ScheduledTask {
  readonly zone?: string
}

/** Where an armory's tasks live and where their prompts go. */
export interface ArmoryBackend {
  /** Records the fire before anything is handed over (a compare-and-set for durable tasks). */
  readonly claim: (request: ClaimRequest) => Promise<ClaimOutcome>
  /** Hands the prompt over; resolves with the session it went to. */
  readonly deliver: (task: ArmoryTask, fire: FirePromptParams) => Promise<string>
  /** Removes the task for good; false when it was gone already. */
  readonly remove: (taskId: string, reason: CronTaskEndKind) => Promise<boolean>
}

/** Options of {@link makeTaskArmory}. */
export interface TaskArmoryOptions {
  /** The machines run here, on the scheduler's stream and heap clock. */
  readonly runtime: MachineRuntime
  /** Time of the answers to `computeNextFire`. */
  readonly clock: ClockShape
  /** Zone of the tasks' cron expressions, unless a task names its own. */
  readonly zone: string
  readonly jitter: () => CronJitterConfig
  readonly backend: ArmoryBackend
  /** Actor id of a task within the stream, e.g. `cronTask:<id>`. */
  readonly actorId: (taskId: string) => string
  /** Every piece of asynchronous work (starts, fires, removals), so the owner can wait for them. */
  readonly track: (work: Promise<unknown>) => void
  /** Diagnostics the log cannot take (an actor that would not start). */
  readonly onDiagnostic?: (line: string) => void
}

/** The machines of a set of tasks. */
export interface TaskArmory {
  /**
   * Makes the armed set match `tasks`: new ones get a machine, removed ones `cronTask.deleted`, changed
   * ones (cron, prompt, flags, createdAt) a fresh machine. A `lastFiredAt` that moved is not a change.
   */
  readonly sync: (tasks: ReadonlyArray<ArmoryTask>) => void
  /** Stops every machine (no event: the tasks are not over, this scheduler just stops driving them). */
  readonly disarm: () => number
  /** Sends `cronTask.configChanged` to every running machine. */
  readonly reconfigure: (jitter: CronJitterConfig) => void
  /** Machines still running. */
  readonly running: () => number
  /** The armed fire time of a task, when its machine is waiting for one. */
  readonly fireAtOf: (taskId: string) => number | null | undefined
}

interface PendingFire {
  readonly params: FirePromptParams
  /** `fromMs` of the computation that produced this fire: the compare-and-set's expected value. */
  readonly base: number
  lastFiredAt: number | undefined
}

interface Armed {
  readonly task: ArmoryTask
  readonly actorId: string
  actor: CronTaskActor | undefined
  /** Removed (or replaced) before its machine finished starting: stop it once it has. */
  retired: "deleted" | "stopped" | undefined
  base: number
  /** Clock time of the machine's latest fire: a computation at that same instant follows a late fire. */
  firedAt: number | undefined
  pending: PendingFire | undefined
  chain: Promise<void>
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * Machines started per event-loop turn when many tasks arm at once. Each costs ~0.3 ms (two cron runs and an
 * actor), so 100k tasks arm over ~30 s in slices of ~75 ms, and the host keeps answering meanwhile.
 */
export const ARM_SLICE = 256

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === "string" ? code : undefined
}

/** Same task for scheduling purposes: everything but `lastFiredAt`. */
function sameDefinition(a: ArmoryTask, b: ArmoryTask): boolean {
  return (
    a.cron === b.cron &&
    a.zone === b.zone &&
    a.prompt === b.prompt &&
    a.createdAt === b.createdAt &&
    (a.recurring === true) === (b.recurring === true) &&
    (a.permanent === true) === (b.permanent === true) &&
    (a.agentId ?? null) === (b.agentId ?? null)
  )
}

function machineInput(task: ScheduledTask): CronTaskRecord {
  return {
    id: task.id,
    cron: task.cron,
    prompt: task.prompt,
    createdAt: task.createdAt,
    ...(task.lastFiredAt === undefined ? {} : { lastFiredAt: task.lastFiredAt }),
    recurring: task.recurring === true,
    ...(task.permanent === true ? { permanent: true } : {}),
    durable: task.durable === true,
    ...(task.agentId === undefined ? {} : { agentId: task.agentId }),
  }
}

/**
 * One cronTaskMachine per task, on a shared {@link MachineRuntime}, with the machine's effects implemented
 * here: `computeNextFire` answers with {@link planNextFire}; `firePrompt` + `saveLastFiredAt` become one
 * job — claim the fire in the store (lastFiredAt written first), then hand the prompt over — and
 * `removeTask` removes it. Jobs of one task run in order, after the transition that asked for them; what
 * became of each fire is noted in the log (`scheduler.handedOver`, `fireSkipped`, `fireFailed`).
 *
 * One effects object serves every machine (the runtime then builds the machine once, not per task); each
 * call finds its task through the actor handle it comes with.
 */
export function makeTaskArmory(options: TaskArmoryOptions): TaskArmory {
  const { runtime, clock, backend } = options
  const entries = new Map<string, Armed>()
  /** Tasks waiting for their machine, armed a slice per event-loop turn. */
  const queued = new Map<string, ArmoryTask>()
  let draining = false
  /** Entries whose machine is starting, by actor id: their first effect binds the handle. */
  const starting = new Map<string, Armed>()
  const byHandle = new WeakMap<ActorHandle, Armed>()

  const entryOf = (actor: ActorHandle): Armed | undefined => {
    const known = byHandle.get(actor)
    if (known !== undefined) return known
    const entry = starting.get(actor.id)
    if (entry === undefined) return undefined
    // Effects run inside `startAsync`, before it resolves: this is the first sight of the handle.
    byHandle.set(actor, entry)
    entry.actor = actor as CronTaskActor
    return entry
  }

  const note = (code: string, message: string, entry: Armed, data: FireNoteData) =>
    runtime.note(code, message, { actor: entry.actorId, data: { ...data, at: clock.now() } })

  const enqueue = (entry: Armed, job: () => Promise<void>) => {
    entry.chain = entry.chain.then(job, job)
    options.track(entry.chain)
  }

  const fire = async (entry: Armed, pending: PendingFire): Promise<void> => {
    const { params } = pending
    const data: FireNoteData = {
      taskId: params.taskId,
      fireAt: params.fireAt,
      missed: params.missed,
      durable: params.durable,
    }
    const what = `task ${params.taskId} (due ${iso(params.fireAt)}${params.missed ? ", missed during downtime" : ""})`
    let outcome: ClaimOutcome
    try {
      outcome = await backend.claim({
        taskId: params.taskId,
        base: pending.base,
        lastFiredAt: pending.lastFiredAt ?? params.fireAt,
        oneShot: entry.task.recurring !== true,
        fireAt: params.fireAt,
      })
    } catch (error) {
      const code = codeOf(error)
      note(
        SCHEDULER_NOTE.fireFailed,
        `${what} not fired: its fire could not be recorded: ${messageOf(error)}`,
        entry,
        code === undefined ? data : { ...data, code },
      )
      return
    }
    if (outcome.kind === "gone") {
      note(SCHEDULER_NOTE.fireSkipped, `${what} skipped: the task was removed meanwhile`, entry, data)
      return
    }
    if (outcome.kind === "alreadyFired") {
      note(
        SCHEDULER_NOTE.fireSkipped,
        `${what} skipped: another scheduler fired it already (lastFiredAt ${iso(outcome.lastFiredAt)}, ` +
          `after ${iso(pending.base)} this schedule was computed from)`,
        entry,
        data,
      )
      return
    }
    try {
      const sessionId = await backend.deliver(entry.task, params)
      note(SCHEDULER_NOTE.handedOver, `${what} fired into session ${sessionId}`, entry, {
        ...data,
        sessionId,
      })
    } catch (error) {
      const code = codeOf(error)
      note(
        SCHEDULER_NOTE.fireFailed,
        `${what} recorded as fired, but its prompt was not delivered: ${messageOf(error)}`,
        entry,
        code === undefined ? data : { ...data, code },
      )
    }
  }

  const effects: EffectImpls<CronTaskEffects> = {
    computeNextFire: (params, actor) => {
      const entry = entryOf(actor)
      if (entry === undefined) return
      entry.base = params.fromMs
      const now = clock.now()
      actor.post(
        planNextFire({
          params,
          now,
          zone: entry.task.zone ?? options.zone,
          createdAt: entry.task.createdAt,
          permanent: entry.task.permanent === true,
          ...(entry.task.lastFiredAt === undefined ? {} : { lastFiredAt: entry.task.lastFiredAt }),
          justFired: entry.firedAt === now,
        }),
      )
    },
    firePrompt: (params, actor) => {
      const entry = entryOf(actor)
      if (entry === undefined) return
      entry.firedAt = clock.now()
      const pending: PendingFire = { params, base: entry.base, lastFiredAt: undefined }
      entry.pending = pending
      enqueue(entry, () => fire(entry, pending))
    },
    // Always right after firePrompt, in the same transition: it says what the fire records.
    saveLastFiredAt: (params, actor) => {
      const entry = entryOf(actor)
      if (entry?.pending === undefined) return
      entry.pending.lastFiredAt = params.lastFiredAt
      entry.pending = undefined
    },
    removeTask: (params, actor) => {
      const entry = entryOf(actor)
      if (entry === undefined) return
      enqueue(entry, async () => {
        try {
          await backend.remove(params.taskId, params.reason)
        } catch (error) {
          runtime.note(
            SCHEDULER_NOTE.removeFailed,
            `task ${params.taskId} (${params.reason}) could not be removed: ${messageOf(error)}`,
            { actor: entry.actorId, data: { taskId: params.taskId, reason: params.reason, at: clock.now() } },
          )
        }
      })
    },
  }

  const start = (task: ArmoryTask) => {
    const actorId = options.actorId(task.id)
    const entry: Armed = {
      task,
      actorId,
      actor: undefined,
      retired: undefined,
      base: task.lastFiredAt ?? task.createdAt,
      firedAt: undefined,
      pending: undefined,
      chain: Promise.resolve(),
    }
    entries.set(task.id, entry)
    starting.set(actorId, entry)
    const started = runtime
      .startAsync(cronTaskMachineDefinition, {
        actorId,
        input: { task: machineInput(task), jitter: options.jitter() },
        effects,
      })
      .then(
        (actor) => {
          entry.actor ??= actor
          byHandle.set(actor, entry)
          if (entry.retired !== undefined) retire(entry, entry.retired)
        },
        (error: unknown) => {
          // The runtime has noted why (an input the machine refuses, say); the task stays unarmed.
          options.onDiagnostic?.(`task ${task.id} could not be armed: ${messageOf(error)}`)
        },
      )
      .finally(() => {
        if (starting.get(actorId) === entry) starting.delete(actorId)
      })
    options.track(started)
  }

  const startSlice = () => {
    let n = 0
    for (const [id, task] of queued) {
      queued.delete(id)
      start(task)
      if (++n >= ARM_SLICE) return
    }
  }

  /** The first slice now, the rest on later turns of the event loop. */
  const kick = () => {
    if (draining || queued.size === 0) return
    startSlice()
    if (queued.size === 0) return
    draining = true
    const rest = (async () => {
      while (queued.size > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        startSlice()
      }
    })().finally(() => {
      draining = false
    })
    options.track(rest)
  }

  const retire = (entry: Armed, how: "deleted" | "stopped") => {
    entry.retired = how
    const actor = entry.actor
    if (actor === undefined || actor.isDone()) return
    if (how === "stopped") actor.stop()
    else actor.post({ type: CRON_TASK_EVENT.deleted, at: clock.now() })
  }

  return {
    sync: (tasks) => {
      const seen = new Set<string>()
      for (const task of tasks) {
        seen.add(task.id)
        const entry = entries.get(task.id)
        if (entry === undefined) {
          queued.set(task.id, task)
        } else if (!sameDefinition(entry.task, task)) {
          retire(entry, "stopped")
          entries.delete(task.id)
          runtime.note(
            SCHEDULER_NOTE.taskChanged,
            `task ${task.id} changed (cron ${JSON.stringify(task.cron)}): its machine was restarted`,
            { actor: entry.actorId, data: { taskId: task.id, at: clock.now() } },
          )
          queued.set(task.id, task)
        }
      }
      for (const [id, entry] of entries) {
        if (seen.has(id)) continue
        entries.delete(id)
        retire(entry, "deleted")
      }
      for (const id of queued.keys()) if (!seen.has(id)) queued.delete(id)
      kick()
    },
    disarm: () => {
      queued.clear()
      let count = 0
      for (const entry of entries.values()) {
        if (entry.actor !== undefined && !entry.actor.isDone()) count++
        retire(entry, "stopped")
      }
      entries.clear()
      return count
    },
    reconfigure: (jitter) => {
      const at = clock.now()
      for (const entry of entries.values()) {
        if (entry.actor !== undefined && !entry.actor.isDone()) {
          entry.actor.post({ type: CRON_TASK_EVENT.configChanged, at, jitter })
        }
      }
    },
    running: () => {
      let count = 0
      for (const entry of entries.values()) if (entry.actor !== undefined && !entry.actor.isDone()) count++
      return count
    },
    fireAtOf: (taskId) => {
      const actor = entries.get(taskId)?.actor
      if (actor === undefined || actor.isDone()) return undefined
      return actor.getSnapshot().context.fireAt
    },
  }
}
