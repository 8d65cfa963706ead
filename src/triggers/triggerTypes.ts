/**
 * The remote-trigger data model (SPEC §4 `/v1/code/triggers`, docs/triggers.md). Field names are the API's
 * snake_case so the store, the log and the wire agree; times here are epoch ms (the API renders ISO-8601).
 */

/** Where a trigger's session runs: an existing directory on the host, or a repository to clone. */
export type TriggerProject =
  | { readonly work_dir: string }
  | { readonly repository: { readonly url: string; readonly ref?: string } }

/** A 5-field cron expression, in `tz` (an IANA zone) or the host's zone. */
export interface TriggerSchedule {
  readonly cron: string
  readonly tz?: string
}

/** Who may start a run: the values of {@link RunReason}, for schemas. */
export const RUN_REASONS = ["manual", "schedule"] as const

/** Who started a run. */
export type RunReason = (typeof RUN_REASONS)[number]

/**
 * What may become of a run (the values of {@link RunStatus}, for schemas):
 * - `running`: its session was created and has not ended;
 * - `completed` / `failed` / `killed`: its session ended so;
 * - `interrupted`: the host stopped before the session ended (the store settles these when it reopens);
 * - `start_failed`: no session could be created (policy, unsupported project, ...; see `error`);
 * - `skipped`: a scheduled fire of a paused trigger.
 */
export const RUN_STATUSES = [
  "running",
  "completed",
  "failed",
  "killed",
  "interrupted",
  "start_failed",
  "skipped",
] as const

/** Where a run stands; see {@link RUN_STATUSES}. */
export type RunStatus = (typeof RUN_STATUSES)[number]

/** Statuses a run never leaves. */
export const FINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  "completed",
  "failed",
  "killed",
  "interrupted",
  "start_failed",
  "skipped",
])

/** A coded failure, as kept in a run's history. */
export interface RunError {
  readonly code: string
  readonly message: string
}

/** One entry of a trigger's history. */
export interface TriggerRun {
  readonly run_id: string
  /** Null when no session was created (`start_failed`, `skipped`). */
  readonly session_id: string | null
  readonly started_at: number
  readonly reason: RunReason
  readonly status: RunStatus
  readonly finished_at?: number
  /** Why the session ended (its `end_reason`), when known. */
  readonly detail?: string
  readonly error?: RunError
}

/** What a trigger is, as created and updated. */
export interface TriggerDefinition {
  readonly id: string
  readonly name: string
  readonly prompt: string
  readonly project: TriggerProject
  readonly agent: string
  readonly schedule: TriggerSchedule | null
  /** False: paused — scheduled fires are skipped, manual runs need `force`. */
  readonly enabled: boolean
  readonly created_at: number
}

/** A trigger as the store holds it: its definition plus what its events left behind. */
export interface Trigger extends TriggerDefinition {
  readonly updated_at: number
  /**
   * Where the next scheduled fire is counted from: the latest of creation, the last change of schedule or
   * of `enabled`, and the last scheduled fire. Re-enabling a trigger therefore never fires the slots it
   * slept through.
   */
  readonly schedule_from: number
  /** Runs ever recorded, including those that fell out of `history`. */
  readonly run_count: number
  /** The last {@link DEFAULT_HISTORY_LIMIT} runs (or the store's limit), oldest first. */
  readonly history: ReadonlyArray<TriggerRun>
}

/** What creating a trigger takes; the store assigns `id` and `created_at`. */
export interface NewTrigger {
  readonly name: string
  readonly prompt: string
  readonly project: TriggerProject
  readonly agent: string
  readonly schedule?: TriggerSchedule | null
  readonly enabled?: boolean
}

/** A partial update: absent fields stay; `schedule: null` removes the schedule. */
export interface TriggerChanges {
  readonly name?: string
  readonly prompt?: string
  readonly project?: TriggerProject
  readonly agent?: string
  readonly schedule?: TriggerSchedule | null
  readonly enabled?: boolean
}

/** The event-log stream holding every trigger's events. */
export const TRIGGERS_STREAM = "triggers"

/** Runs kept per trigger in memory and in the API (the log keeps them all). */
export const DEFAULT_HISTORY_LIMIT = 20

/** Longest trigger name, in characters. */
export const MAX_TRIGGER_NAME_LENGTH = 200

/**
 * `trg_` + 16 lowercase hex characters. The first 8 hex characters are the trigger's jitter id, so a
 * trigger's scheduled fires spread exactly as a scheduled task with that id would (SPEC §7).
 */
export const TRIGGER_ID_PATTERN = /^trg_[0-9a-f]{16}$/

/** The 8 hex characters that place a trigger in its jitter window (`jitterFrac`). */
export function triggerJitterId(triggerId: string): string {
  return triggerId.startsWith("trg_") ? triggerId.slice(4, 12) : triggerId.slice(0, 8)
}

/** The work directory of a `work_dir` project, or undefined for a repository. */
export function projectWorkDir(project: TriggerProject): string | undefined {
  return "work_dir" in project ? project.work_dir : undefined
}
