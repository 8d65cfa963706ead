import * as Result from "effect/Result"
import { parseCronExpression } from "../cron/cronExpression.js"
import { jitteredNextCronRunMs, oneShotJitteredNextCronRunMs } from "../cron/jitter.js"
import {
  type ComputeNextFireParams,
  CRON_TASK_EVENT,
  type InvalidEvent,
  type MissedEvent,
  type ScheduledEvent,
  type SkippedEvent,
} from "../machines/cronTaskTypes.js"

/** The answer to a cronTaskMachine's `computeNextFire`. */
export type NextFireEvent = ScheduledEvent | MissedEvent | SkippedEvent | InvalidEvent

/** What {@link planNextFire} decides from. */
export interface PlanNextFireInput {
  readonly params: ComputeNextFireParams
  /** The clock's now. */
  readonly now: number
  /** The zone cron times are read in. */
  readonly zone: string
  /** `createdAt` and `permanent` of the task: recurring tasks expire. */
  readonly createdAt: number
  readonly permanent: boolean
  /** The task's `lastFiredAt` as armed; a one-shot task that has one fired already (see below). */
  readonly lastFiredAt?: number
  /** The actor fired at this very instant: its timer ran late (a suspended or blocked host). */
  readonly justFired: boolean
}

/** A late timer that overslept this many occurrences is skipped straight to now. */
const MAX_SKIPPED_WALK = 10_000

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * The event that answers `computeNextFire` (SPEC §7):
 * - `cronTask.scheduled { fireAt }` for a time now or later — or one at or after the task's expiry, which
 *   the machine turns into `cronTask.expired` at once — and `fireAt: null` when the schedule never fires
 *   again;
 * - `cronTask.missed` for a time already past: it fell due while no scheduler ran the task (downtime). The
 *   machine fires once, now, and computes the next time from now, so a long downtime is one fire, not a
 *   burst;
 * - `cronTask.skipped` when the time is past although the task just fired: its timer ran late (the host was
 *   suspended or blocked) and the late fire already stood for the downtime, so the overdue times are skipped
 *   up to the last one, in one event;
 * - `cronTask.skipped` for a one-shot task that carries a `lastFiredAt`: it fired, and the host stopped
 *   before it could be removed. It completes without firing again (and is removed);
 * - `cronTask.invalid` when the expression does not parse.
 */
export function planNextFire(input: PlanNextFireInput): NextFireEvent {
  const { params, now, zone } = input
  if (!params.recurring && input.lastFiredAt !== undefined) {
    return {
      type: CRON_TASK_EVENT.skipped,
      at: now,
      fireAt: input.lastFiredAt,
      reason: `a one-shot task fires once and this one fired at ${iso(input.lastFiredAt)}`,
    }
  }
  const parsed = parseCronExpression(params.cron)
  if (Result.isFailure(parsed)) {
    return {
      type: CRON_TASK_EVENT.invalid,
      at: now,
      message: `${parsed.failure.code}: ${parsed.failure.message}`,
    }
  }
  const next = (from: number) =>
    params.recurring
      ? jitteredNextCronRunMs(params.cron, from, params.taskId, params.jitter, zone)
      : oneShotJitteredNextCronRunMs(params.cron, from, params.taskId, params.jitter, zone)
  const fireAt = next(params.fromMs)
  const expiry =
    params.recurring && !input.permanent ? input.createdAt + params.jitter.recurringMaxAgeMs : null
  if (fireAt === null || fireAt >= now || (expiry !== null && fireAt >= expiry)) {
    return { type: CRON_TASK_EVENT.scheduled, at: now, fireAt }
  }
  if (!input.justFired) return { type: CRON_TASK_EVENT.missed, at: now, fireAt }
  let last = fireAt
  let count = 1
  for (; count < MAX_SKIPPED_WALK; count++) {
    const following = next(last)
    if (following === null || following > now || (expiry !== null && following >= expiry)) break
    last = following
  }
  const walked = count < MAX_SKIPPED_WALK
  return {
    type: CRON_TASK_EVENT.skipped,
    at: now,
    fireAt: walked ? last : now,
    reason:
      `${walked ? count : `more than ${MAX_SKIPPED_WALK}`} occurrence(s) from ${iso(fireAt)} to ${iso(walked ? last : now)} ` +
      `fell due while the host was suspended or busy; the late fire at ${iso(now)} stood for them`,
  }
}
