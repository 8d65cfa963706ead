import type { RunReason, Trigger } from "./triggerTypes.js"

/** What the store asks a launcher to start. */
export interface TriggerRunRequest {
  readonly trigger: Trigger
  readonly runId: string
  readonly reason: RunReason
}

/** How a session the launcher started ended. */
export interface LaunchOutcome {
  /** The session's final status (`completed`, `failed`, `killed`); anything else is recorded as `failed`. */
  readonly status: string
  /** Why it ended (the session's `end_reason`). */
  readonly detail?: string
}

/** A session a launcher started for a run. */
export interface TriggerLaunch {
  readonly sessionId: string
  /** Resolves when the session ends; the store records it as the run's final status. */
  readonly done?: Promise<LaunchOutcome>
}

/**
 * Starts the session of a run. The server's launcher creates it through the session gate (policy, work
 * roots, live-session cap); embedders supply their own. Rejections should be coded errors (`code` and
 * `message`): they are recorded in the run's history as `start_failed`.
 */
export type TriggerLauncher = (request: TriggerRunRequest) => Promise<TriggerLaunch>
