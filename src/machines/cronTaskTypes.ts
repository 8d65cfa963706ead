/**
 * The cron task machine's protocol: event type strings, event union, input, context and effect parameters.
 * Logged events use exactly these shapes; changing one is a change of {@link CRON_TASK_MACHINE_VERSION}.
 */

import type { CronJitterConfig } from "../cron/jitterConfig.js"
import type { ScheduledTask } from "../cron/taskFile.js"

export const CRON_TASK_MACHINE_NAME = "cronTask"

/** Bump whenever the same logged events would lead to different states or context. */
export const CRON_TASK_MACHINE_VERSION = 1

/** Every event type the cron task machine accepts. */
export const CRON_TASK_EVENT = {
  scheduled: "cronTask.scheduled",
  fired: "cronTask.fired",
  missed: "cronTask.missed",
  skipped: "cronTask.skipped",
  expired: "cronTask.expired",
  deleted: "cronTask.deleted",
  invalid: "cronTask.invalid",
  configChanged: "cronTask.configChanged",
} as const

/** A scheduled task as SPEC §7 stores it (runtime-only `durable` and `agentId` included). */
export type CronTaskRecord = ScheduledTask

/**
 * The jitter configuration (SPEC §7). The machine itself only reads `recurringMaxAgeMs`; the rest travels to
 * the `computeNextFire` effect, and is in the log so a reader sees what the schedule was computed with.
 */
export type CronTaskJitterConfig = CronJitterConfig

/** Input of the cron task machine. */
export interface CronTaskInput {
  readonly task: CronTaskRecord
  readonly jitter: CronTaskJitterConfig
}

/** The runtime computed the next fire time (after jitter); null when the expression never fires again. */
export interface ScheduledEvent {
  readonly type: typeof CRON_TASK_EVENT.scheduled
  readonly at: number
  readonly fireAt: number | null
}
/** Raised by the machine itself at `fireAt` on the injected clock. */
export interface FiredEvent {
  readonly type: typeof CRON_TASK_EVENT.fired
  readonly fireAt: number
}
/** The fire time passed while nobody was running the task (downtime): fire once now, record the miss. */
export interface MissedEvent {
  readonly type: typeof CRON_TASK_EVENT.missed
  readonly at: number
  readonly fireAt: number
}
/** The runtime decided not to fire this occurrence. */
export interface SkippedEvent {
  readonly type: typeof CRON_TASK_EVENT.skipped
  readonly at: number
  readonly fireAt: number
  readonly reason: string
}
/** The recurring task reached `createdAt + recurringMaxAgeMs` (raised by the machine, or sent). */
export interface ExpiredEvent {
  readonly type: typeof CRON_TASK_EVENT.expired
  readonly at: number
}
/** The task was deleted (by the user, or with its session). */
export interface DeletedEvent {
  readonly type: typeof CRON_TASK_EVENT.deleted
  readonly at: number
}
/** The cron expression (or the task) cannot be scheduled. */
export interface InvalidEvent {
  readonly type: typeof CRON_TASK_EVENT.invalid
  readonly at: number
  readonly message: string
}
/** The jitter configuration was changed at run time: the next fire time is computed again. */
export interface ConfigChangedEvent {
  readonly type: typeof CRON_TASK_EVENT.configChanged
  readonly at: number
  readonly jitter: CronTaskJitterConfig
}

/** Every event of the cron task machine. */
export type CronTaskEvent =
  | ScheduledEvent
  | FiredEvent
  | MissedEvent
  | SkippedEvent
  | ExpiredEvent
  | DeletedEvent
  | InvalidEvent
  | ConfigChangedEvent

/** Why a task ended. */
export type CronTaskEndKind = "fired" | "skipped" | "expired" | "noNextRun" | "deleted" | "invalid"

/** Recorded in the context when the task reaches a final state. */
export interface CronTaskEndReason {
  readonly kind: CronTaskEndKind
  readonly message: string
  readonly at: number
}

/** The task's fixed facts, normalized (defaults applied, absent agent id as null). */
export interface CronTaskFacts {
  readonly id: string
  readonly cron: string
  readonly prompt: string
  readonly createdAt: number
  readonly recurring: boolean
  readonly permanent: boolean
  readonly durable: boolean
  readonly agentId: string | null
}

/** What the cron task machine remembers. */
export interface CronTaskContext {
  readonly task: CronTaskFacts
  readonly jitter: CronTaskJitterConfig
  readonly lastFiredAt: number | null
  /** Base time of the next computation: `lastFiredAt ?? createdAt`, moved on by skips and misses too. */
  readonly scheduleFromMs: number
  /** The armed fire time. */
  readonly fireAt: number | null
  /** Latest time the machine has heard of (event `at`s, fire times): delays are measured from it. */
  readonly now: number
  readonly fires: number
  readonly misses: number
  readonly skips: number
  readonly lastMiss: { readonly fireAt: number; readonly at: number } | null
  readonly lastSkip: { readonly fireAt: number; readonly reason: string; readonly at: number } | null
  readonly endReason: CronTaskEndReason | null
}

/** Params of the `computeNextFire` effect. */
export interface ComputeNextFireParams {
  readonly taskId: string
  readonly cron: string
  readonly recurring: boolean
  /** `lastFiredAt ?? createdAt`, or later after skips/misses. */
  readonly fromMs: number
  readonly jitter: CronTaskJitterConfig
}
/** Params of the `firePrompt` effect. */
export interface FirePromptParams {
  readonly taskId: string
  readonly prompt: string
  readonly fireAt: number
  /** True when this fire makes up for a time missed during downtime. */
  readonly missed: boolean
  readonly durable: boolean
  readonly agentId: string | null
}
/** Params of the `saveLastFiredAt` effect. */
export interface SaveLastFiredAtParams {
  readonly taskId: string
  readonly lastFiredAt: number
}
/** Params of the `removeTask` effect. */
export interface RemoveTaskParams {
  readonly taskId: string
  readonly reason: CronTaskEndKind
}

/** The effects a cron task asks for. */
export interface CronTaskEffects {
  /**
   * Compute the next fire time (cron + jitter, e.g. `jitteredNextCronRunMs(cron, fromMs, taskId, jitter)`) and
   * send `cronTask.scheduled { at, fireAt }` — or `cronTask.missed` if that time already passed while the
   * scheduler was down, or `cronTask.invalid` if the expression is bad.
   */
  readonly computeNextFire: (params: ComputeNextFireParams) => void
  /** Enqueue the prompt (into its session, or a new one for durable tasks). */
  readonly firePrompt: (params: FirePromptParams) => void
  /** Persist `lastFiredAt` (durable tasks live in scheduled_tasks.json). */
  readonly saveLastFiredAt: (params: SaveLastFiredAtParams) => void
  /** Remove the task for good: one-shot fired, expired, never fires again. */
  readonly removeTask: (params: RemoveTaskParams) => void
}
