/**
 * The notes a project scheduler writes into its event-log stream beside its cronTaskMachines' events: what
 * became of each fire after the machine raised it, the scheduler lock's decisions, arming and configuration.
 * Codes are protocol (docs/scheduler.md): `agenthost cron history` folds them with the machine events.
 */
export const SCHEDULER_NOTE = {
  /** The scheduler holds the lock and its tasks' machines are started. */
  armed: "scheduler.armed",
  /** Its machines were stopped: lock lost, no tasks left, or shutdown. */
  disarmed: "scheduler.disarmed",
  /** A fire was recorded in the task file and its prompt handed to a session. */
  handedOver: "scheduler.handedOver",
  /** A fire was not handed over: another scheduler fired that occurrence, or the task is gone. */
  fireSkipped: "scheduler.fireSkipped",
  /** A fire could not be recorded or handed over (file corrupt or locked, session refused). */
  fireFailed: "scheduler.fireFailed",
  /** A task to remove (one-shot fired, expired) could not be removed from the file. */
  removeFailed: "scheduler.removeFailed",
  /** A task's definition changed in the file: its machine was restarted with the new one. */
  taskChanged: "scheduler.taskChanged",
  /** The task file cannot be read (corrupt, I/O): the last good tasks stay armed. */
  tasksUnreadable: "scheduler.tasksUnreadable",
  /** A scheduler-lock decision (`acquired`, `blocked`, `lost`, ...), as the lock reported it. */
  lock: "scheduler.lock",
  /** The jitter configuration changed; every task was rescheduled with it. */
  configChanged: "scheduler.configChanged",
} as const

export type SchedulerNoteCode = (typeof SCHEDULER_NOTE)[keyof typeof SCHEDULER_NOTE]

/**
 * `data` of fire notes (`handedOver`, `fireSkipped`, `fireFailed`). Every scheduler note's `data` also has
 * `at`: the clock's time when it was decided (the record's own `at` is when the log took it).
 */
export interface FireNoteData {
  readonly taskId: string
  /** The occurrence's fire time (for a missed fire: when it fell due). */
  readonly fireAt: number
  readonly missed: boolean
  readonly durable: boolean
  /** The session the prompt went to (`handedOver`). */
  readonly sessionId?: string
  /** The error's code (`fireFailed`). */
  readonly code?: string
  readonly at?: number
}

/** `data` of `armed` / `disarmed`. */
export interface ArmNoteData {
  readonly tasks: number
  readonly reason?: string
}
