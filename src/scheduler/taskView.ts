import type { CronJitterConfig } from "../cron/jitterConfig.js"
import type { ScheduledTask } from "../cron/taskFile.js"
import { taskExpiresAtMs, taskNextFireMs } from "../cron/taskStore.js"
import { formatIsoInZone } from "../cron/zonedIso.js"

/** A task as `GET /cron` shows it: times as ISO-8601 with the zone's offset and as epoch ms. */
export interface TaskView {
  readonly id: string
  readonly cron: string
  readonly prompt: string
  readonly recurring: boolean
  readonly permanent: boolean
  readonly durable: boolean
  readonly created_at: string
  readonly last_fired_at: string | null
  /** When it fires next, after jitter; null when it never will (expired, no next run). */
  readonly next_fire_at: string | null
  readonly next_fire_at_ms: number | null
  /** When a recurring task that is not permanent stops firing. */
  readonly expires_at: string | null
  /** True when this host's machine for the task is waiting for `next_fire_at` (it holds the lock). */
  readonly armed: boolean
}

/** What {@link taskView} needs besides the task. */
export interface TaskViewContext {
  readonly jitter: CronJitterConfig
  readonly zone: string
  /**
   * The armed fire time when this host runs the task's machine: exact even when it differs from the
   * formula (a late, missed fire). Undefined when it does not.
   */
  readonly armedFireAt?: number | null | undefined
}

/**
 * The view of a task: its next fire time is the armed machine's when there is one, else computed from the
 * task with the jitter in force (SPEC §7) — null when that falls at or after its expiry.
 */
export function taskView(task: ScheduledTask, context: TaskViewContext): TaskView {
  const { zone, jitter } = context
  const expires = taskExpiresAtMs(task, jitter)
  const computed = context.armedFireAt ?? taskNextFireMs(task, jitter, zone)
  const next = computed !== null && expires !== null && computed >= expires ? null : computed
  return {
    id: task.id,
    cron: task.cron,
    prompt: task.prompt,
    recurring: task.recurring === true,
    permanent: task.permanent === true,
    durable: task.durable !== false,
    created_at: formatIsoInZone(task.createdAt, zone),
    last_fired_at: task.lastFiredAt === undefined ? null : formatIsoInZone(task.lastFiredAt, zone),
    next_fire_at: next === null ? null : formatIsoInZone(next, zone),
    next_fire_at_ms: next,
    expires_at: expires === null ? null : formatIsoInZone(expires, zone),
    armed: context.armedFireAt !== undefined && context.armedFireAt !== null,
  }
}
