import type * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import type { ClockShape } from "../adapters/clock.js"
import type { IdsShape } from "../adapters/ids.js"
import { parseCronExpression } from "./cronExpression.js"
import { jitteredNextCronRunMs, oneShotJitteredNextCronRunMs } from "./jitter.js"
import { type CronJitterConfig, DEFAULT_CRON_JITTER_CONFIG } from "./jitterConfig.js"
import { type ScheduledTask, TASK_ID_PATTERN } from "./taskFile.js"
import { TaskStoreError } from "./taskStoreError.js"

/** What a caller gives to create a task; the store adds the id (unless given) and `createdAt`. */
export interface NewTask {
  readonly cron: string
  readonly prompt: string
  /** Explicit on purpose: in the file an absent `recurring` means one-shot. */
  readonly recurring: boolean
  /** Only meaningful for recurring tasks: never expires. */
  readonly permanent?: boolean
  /** Session-only tasks: the agent that created the task. The durable store does not keep it. */
  readonly agentId?: string
  /** A chosen id (8 lowercase hex, not taken); default a fresh one from the ids port. */
  readonly id?: string
  /** Default the store clock's now. */
  readonly createdAt?: number
}

/** The tasks of a store at one moment. */
export interface TaskListing {
  /** The tasks to schedule, in file (or creation) order. */
  readonly tasks: ReadonlyArray<ScheduledTask>
  /** Entries kept in the file but not scheduled (`AGH_TASKS_CORRUPT`, reason `InvalidTask`). */
  readonly invalid: ReadonlyArray<TaskStoreError>
  /**
   * Set when the file cannot be read as tasks — corrupt (`AGH_TASKS_CORRUPT`, reason `CorruptFile`; writes
   * are refused until it is fixed) or, seen by a watch, unreadable (`AGH_TASKS_IO`). `tasks` and `invalid`
   * are then the store's last good view (empty if it never had one).
   */
  readonly error?: TaskStoreError
}

/**
 * Where scheduled tasks live (SPEC §7): the durable tasks file of a project (`makeFileTaskStore`) or one
 * session's in-memory tasks (`SessionTaskStore.forSession`). Both pass test/cron/taskStoreContract.ts.
 * Every write is a read-modify-write of the current state, so concurrent writers' changes are kept.
 */
export interface TaskStore {
  /** The tasks file's path, or `session:<id>`; named in every error. */
  readonly location: string
  /** The current tasks. Fails only when the store cannot be read at all (`AGH_TASKS_IO`). */
  readonly list: () => Effect.Effect<TaskListing, TaskStoreError>
  /**
   * Creates a task: `AGH_CRON_INVALID` for a bad expression, `AGH_TASK_INVALID` for a blank prompt or a bad
   * or taken id, `AGH_TASKS_CORRUPT` when the file is corrupt (nothing is written).
   */
  readonly add: (task: NewTask) => Effect.Effect<ScheduledTask, TaskStoreError>
  /** Removes the task (one-shot fired, expired, deleted by the user); false when there was none. */
  readonly remove: (id: string) => Effect.Effect<boolean, TaskStoreError>
  /**
   * Records that a recurring task fired: `lastFiredAt` becomes `firedAt` (never earlier than what is
   * stored). Undefined when the task is gone — removed by someone else meanwhile, not an error.
   */
  readonly markFired: (
    id: string,
    firedAt: number,
  ) => Effect.Effect<ScheduledTask | undefined, TaskStoreError>
  /**
   * Calls `onChange` with the current listing, then after every change (by this store or, for the file,
   * by any other writer) until the scope closes.
   */
  readonly watch: (onChange: (listing: TaskListing) => void) => Effect.Effect<void, never, Scope.Scope>
}

/** What {@link prepareNewTask} needs from its store. */
export interface NewTaskContext {
  readonly location: string
  readonly clock: ClockShape
  readonly ids: IdsShape
  /** Whether an id is in use already (a fresh id is drawn again; a chosen one is refused). */
  readonly taken: (id: string) => boolean
  readonly durable: boolean
}

function invalidInput(location: string, field: string, message: string, taskId?: string): TaskStoreError {
  return new TaskStoreError({
    reason: "InvalidInput",
    location,
    field,
    message: `${location}: ${message}`,
    ...(taskId === undefined ? {} : { taskId }),
  })
}

/** Ids are 32 bits: after this many collisions in a row something else is wrong (a constant ids port). */
const MAX_ID_DRAWS = 100

/** Validates a new task and completes it with an id and `createdAt`; shared by every store. */
export function prepareNewTask(
  input: NewTask,
  ctx: NewTaskContext,
): Result.Result<ScheduledTask, TaskStoreError> {
  const { location } = ctx
  const parsed = parseCronExpression(input.cron)
  if (Result.isFailure(parsed)) {
    return Result.fail(
      new TaskStoreError({
        reason: "InvalidCron",
        location,
        field: "cron",
        message: parsed.failure.message,
        cause: parsed.failure,
      }),
    )
  }
  if (typeof input.prompt !== "string" || input.prompt.trim() === "") {
    return Result.fail(invalidInput(location, "prompt", "a task's prompt must not be blank"))
  }
  const createdAt = input.createdAt ?? ctx.clock.now()
  if (!Number.isFinite(createdAt)) {
    return Result.fail(invalidInput(location, "createdAt", `createdAt ${createdAt} is not a finite epoch ms`))
  }
  let id = input.id
  if (id !== undefined) {
    if (!TASK_ID_PATTERN.test(id)) {
      return Result.fail(
        invalidInput(location, "id", `task id ${JSON.stringify(id)} is not 8 lowercase hex characters`, id),
      )
    }
    if (ctx.taken(id)) {
      return Result.fail(
        invalidInput(location, "id", `a task with id ${JSON.stringify(id)} already exists`, id),
      )
    }
  } else {
    for (let draw = 0; id === undefined || ctx.taken(id); draw++) {
      if (draw >= MAX_ID_DRAWS) {
        return Result.fail(invalidInput(location, "id", `no free task id after ${MAX_ID_DRAWS} draws`))
      }
      id = ctx.ids.taskId()
    }
  }
  return Result.succeed({
    id,
    cron: input.cron,
    prompt: input.prompt,
    createdAt,
    recurring: input.recurring,
    ...(input.permanent === true ? { permanent: true } : {}),
    durable: ctx.durable,
    ...(ctx.durable || input.agentId === undefined ? {} : { agentId: input.agentId }),
  })
}

/**
 * When `task` fires next, after jitter (SPEC §7): recurring tasks from `lastFiredAt ?? createdAt` with
 * `jitteredNextCronRunMs`, one-shot tasks with `oneShotJitteredNextCronRunMs`. The result may lie in the
 * past when no scheduler ran at that time (the scheduler then fires once and records a miss). Null when the
 * schedule never fires again.
 */
export function taskNextFireMs(
  task: ScheduledTask,
  cfg: CronJitterConfig = DEFAULT_CRON_JITTER_CONFIG,
  tz?: string,
): number | null {
  const from = task.lastFiredAt ?? task.createdAt
  return task.recurring === true
    ? jitteredNextCronRunMs(task.cron, from, task.id, cfg, tz)
    : oneShotJitteredNextCronRunMs(task.cron, from, task.id, cfg, tz)
}

/** When a recurring task stops firing (`createdAt + recurringMaxAgeMs`); null for one-shot and permanent tasks. */
export function taskExpiresAtMs(
  task: ScheduledTask,
  cfg: CronJitterConfig = DEFAULT_CRON_JITTER_CONFIG,
): number | null {
  return task.recurring === true && task.permanent !== true ? task.createdAt + cfg.recurringMaxAgeMs : null
}
