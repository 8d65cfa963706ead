import { type CronJitterConfig, DEFAULT_CRON_JITTER_CONFIG } from "../cron/jitterConfig.js"
import { nextTriggerFireMs } from "./triggerNextFire.js"
import type { Trigger, TriggerRun } from "./triggerTypes.js"

const iso = (ms: number) => new Date(ms).toISOString()

/** A run as the API shows it: times as ISO-8601. */
export function runView(run: TriggerRun): Record<string, unknown> {
  return {
    run_id: run.run_id,
    session_id: run.session_id,
    started_at: iso(run.started_at),
    reason: run.reason,
    status: run.status,
    ...(run.finished_at === undefined ? {} : { finished_at: iso(run.finished_at) }),
    ...(run.detail === undefined ? {} : { detail: run.detail }),
    ...(run.error === undefined ? {} : { error: run.error }),
  }
}

/**
 * A trigger as `GET /v1/code/triggers/:id` shows it (schema `TriggerDoc`): times as ISO-8601 and the next
 * scheduled fire after jitter; the store's bookkeeping (`schedule_from`) stays inside.
 */
export function triggerView(
  trigger: Trigger,
  cfg: CronJitterConfig = DEFAULT_CRON_JITTER_CONFIG,
): Record<string, unknown> {
  const next = nextTriggerFireMs(trigger, trigger.schedule_from, cfg)
  return {
    id: trigger.id,
    name: trigger.name,
    prompt: trigger.prompt,
    project: trigger.project,
    agent: trigger.agent,
    schedule: trigger.schedule,
    enabled: trigger.enabled,
    created_at: iso(trigger.created_at),
    updated_at: iso(trigger.updated_at),
    next_run_at: next === null ? null : iso(next),
    run_count: trigger.run_count,
    history: trigger.history.map(runView),
  }
}
