import { assign, cancel, enqueueActions, setup } from "xstate"
import {
  type ComputeNextFireParams,
  CRON_TASK_EVENT,
  type CronTaskContext,
  type CronTaskEndKind,
  type CronTaskEndReason,
  type CronTaskEvent,
  type CronTaskInput,
  type FirePromptParams,
  type RemoveTaskParams,
  type SaveLastFiredAtParams,
  type SkippedEvent,
} from "./cronTaskTypes.js"

export * from "./cronTaskTypes.js"

const DUE_TIMER_ID = "due"

function initialCronTaskContext(input: CronTaskInput): CronTaskContext {
  const { task } = input
  return {
    task: {
      id: task.id,
      cron: task.cron,
      prompt: task.prompt,
      createdAt: task.createdAt,
      recurring: task.recurring ?? false,
      permanent: task.permanent ?? false,
      durable: task.durable ?? false,
      agentId: task.agentId ?? null,
    },
    jitter: input.jitter,
    lastFiredAt: task.lastFiredAt ?? null,
    scheduleFromMs: task.lastFiredAt ?? task.createdAt,
    fireAt: null,
    now: task.lastFiredAt ?? task.createdAt,
    fires: 0,
    misses: 0,
    skips: 0,
    lastMiss: null,
    lastSkip: null,
    endReason: null,
  }
}

/** When a recurring, non-permanent task stops firing; null for one-shot and permanent tasks. */
export function expiresAt(context: CronTaskContext): number | null {
  return context.task.recurring && !context.task.permanent
    ? context.task.createdAt + context.jitter.recurringMaxAgeMs
    : null
}

/** Whether the armed fire time falls at or after expiry, so the task expires instead of firing. */
function expiresFirst(context: CronTaskContext): boolean {
  const expiry = expiresAt(context)
  return expiry !== null && (context.fireAt === null || context.fireAt >= expiry)
}

const end = (kind: CronTaskEndKind, message: string, at: number): CronTaskEndReason => ({ kind, message, at })

const computeParams = (context: CronTaskContext): ComputeNextFireParams => ({
  taskId: context.task.id,
  cron: context.task.cron,
  recurring: context.task.recurring,
  fromMs: context.scheduleFromMs,
  jitter: context.jitter,
})

/** A skipped occurrence: counted, and the next fire time is computed from after it. */
const skipPatch = (context: CronTaskContext, event: SkippedEvent): Partial<CronTaskContext> => ({
  skips: context.skips + 1,
  lastSkip: { fireAt: event.fireAt, reason: event.reason, at: event.at },
  scheduleFromMs: Math.max(context.scheduleFromMs, event.fireAt),
  fireAt: null,
  now: Math.max(context.now, event.at),
})

const cronTaskSetup = setup({
  types: {
    context: {} as CronTaskContext,
    events: {} as CronTaskEvent,
    input: {} as CronTaskInput,
  },
  actions: {
    computeNextFire: (_args, _params: ComputeNextFireParams) => {},
    firePrompt: (_args, _params: FirePromptParams) => {},
    saveLastFiredAt: (_args, _params: SaveLastFiredAtParams) => {},
    removeTask: (_args, _params: RemoveTaskParams) => {},
  },
  delays: {
    untilDue: ({ context }) => {
      const expiry = expiresAt(context)
      const due = expiresFirst(context) && expiry !== null ? expiry : (context.fireAt ?? context.now)
      return Math.max(0, due - context.now)
    },
  },
  guards: {
    isRecurring: ({ context }) => context.task.recurring,
  },
})

/**
 * Fires the occurrence a `cronTask.fired` or `cronTask.missed` names: enqueues the prompt, persists
 * `lastFiredAt` and moves the context on. An on-time fire happens at its `fireAt`; a missed one at the `at`
 * it was noticed.
 */
const fireOccurrence = cronTaskSetup.enqueueActions(({ context, event, enqueue }) => {
  // Wired to those two events only; the check narrows the event type.
  if (event.type !== CRON_TASK_EVENT.fired && event.type !== CRON_TASK_EVENT.missed) return
  const missed = event.type === CRON_TASK_EVENT.missed
  const { fireAt } = event
  const at = missed ? event.at : fireAt
  const { task } = context
  enqueue({
    type: "firePrompt",
    params: {
      taskId: task.id,
      prompt: task.prompt,
      fireAt,
      missed,
      durable: task.durable,
      agentId: task.agentId,
    },
  })
  enqueue({ type: "saveLastFiredAt", params: { taskId: task.id, lastFiredAt: at } })
  enqueue.assign({
    lastFiredAt: at,
    scheduleFromMs: at,
    fireAt: null,
    now: Math.max(context.now, at),
    fires: context.fires + 1,
    ...(missed ? { misses: context.misses + 1, lastMiss: { fireAt, at } } : {}),
  })
})

/**
 * One scheduled task (SPEC §7). `starting` asks the runtime for the next fire time (`computeNextFire`; the
 * answer comes back as `cronTask.scheduled { fireAt }`), `running.armed` waits for it on the injected clock
 * and raises `cronTask.fired` itself; a recurring task then goes to `running.scheduling` for the next one, a
 * one-shot task completes. Recurring, non-permanent tasks expire `recurringMaxAgeMs` after `createdAt`
 * (`cronTask.expired`, raised at that instant). `cronTask.deleted` → `killed`, `cronTask.invalid` → `failed`.
 *
 * Why the fire time enters as an event rather than as a function in the input: the computed time is then in
 * the log, so replay is exact even if the cron library, the zone database or the jitter formula change later.
 */
export const cronTaskMachine = cronTaskSetup.createMachine({
  id: "cronTask",
  context: ({ input }) => initialCronTaskContext(input),
  initial: "starting",
  on: {
    [CRON_TASK_EVENT.scheduled]: [
      {
        guard: ({ event }) => event.fireAt === null,
        target: ".completed",
        actions: [
          assign(({ context, event }) => ({
            now: Math.max(context.now, event.at),
            endReason: end(
              "noNextRun",
              `cron expression ${JSON.stringify(context.task.cron)} never fires again`,
              event.at,
            ),
          })),
          { type: "removeTask", params: ({ context }) => ({ taskId: context.task.id, reason: "noNextRun" }) },
        ],
      },
      {
        target: ".running.armed",
        reenter: true,
        actions: assign(({ context, event }) => ({
          fireAt: event.fireAt,
          now: Math.max(context.now, event.at),
        })),
      },
    ],
    [CRON_TASK_EVENT.missed]: [
      {
        guard: "isRecurring",
        target: ".running.scheduling",
        reenter: true,
        actions: fireOccurrence,
      },
      {
        target: ".completed",
        actions: [
          fireOccurrence,
          assign(({ event }) => ({
            endReason: end("fired", "one-shot task fired (late, after downtime)", event.at),
          })),
          { type: "removeTask", params: ({ context }) => ({ taskId: context.task.id, reason: "fired" }) },
        ],
      },
    ],
    [CRON_TASK_EVENT.expired]: {
      target: ".completed",
      actions: [
        assign(({ context, event }) => ({
          now: Math.max(context.now, event.at),
          endReason: end(
            "expired",
            `recurring task expired ${context.jitter.recurringMaxAgeMs} ms after its creation`,
            event.at,
          ),
        })),
        { type: "removeTask", params: ({ context }) => ({ taskId: context.task.id, reason: "expired" }) },
      ],
    },
    [CRON_TASK_EVENT.deleted]: {
      target: ".killed",
      actions: assign(({ context, event }) => ({
        now: Math.max(context.now, event.at),
        endReason: end("deleted", "task deleted", event.at),
      })),
    },
    [CRON_TASK_EVENT.invalid]: {
      target: ".failed",
      actions: assign(({ context, event }) => ({
        now: Math.max(context.now, event.at),
        endReason: end("invalid", event.message, event.at),
      })),
    },
    [CRON_TASK_EVENT.configChanged]: {
      target: ".running.scheduling",
      reenter: true,
      actions: assign(({ context, event }) => ({
        jitter: event.jitter,
        now: Math.max(context.now, event.at),
      })),
    },
    [CRON_TASK_EVENT.skipped]: [
      {
        guard: "isRecurring",
        target: ".running.scheduling",
        reenter: true,
        actions: assign(({ context, event }) => skipPatch(context, event)),
      },
      {
        target: ".completed",
        actions: [
          assign(({ context, event }) => skipPatch(context, event)),
          assign(({ event }) => ({
            endReason: end("skipped", `one-shot task skipped: ${event.reason}`, event.at),
          })),
          { type: "removeTask", params: ({ context }) => ({ taskId: context.task.id, reason: "skipped" }) },
        ],
      },
    ],
  },
  states: {
    starting: {
      entry: { type: "computeNextFire", params: ({ context }) => computeParams(context) },
    },
    running: {
      initial: "scheduling",
      states: {
        scheduling: {
          entry: { type: "computeNextFire", params: ({ context }) => computeParams(context) },
        },
        armed: {
          entry: enqueueActions(({ context, enqueue }) => {
            const expiry = expiresAt(context)
            if (expiresFirst(context) && expiry !== null) {
              enqueue.raise(
                { type: CRON_TASK_EVENT.expired, at: expiry },
                { delay: "untilDue", id: DUE_TIMER_ID },
              )
            } else if (context.fireAt !== null) {
              enqueue.raise(
                { type: CRON_TASK_EVENT.fired, fireAt: context.fireAt },
                { delay: "untilDue", id: DUE_TIMER_ID },
              )
            }
          }),
          exit: cancel(DUE_TIMER_ID),
          on: {
            [CRON_TASK_EVENT.fired]: [
              {
                guard: "isRecurring",
                target: "scheduling",
                actions: fireOccurrence,
              },
              {
                target: "#cronTask.completed",
                actions: [
                  fireOccurrence,
                  assign(({ event }) => ({ endReason: end("fired", "one-shot task fired", event.fireAt) })),
                  {
                    type: "removeTask",
                    params: ({ context }) => ({ taskId: context.task.id, reason: "fired" }),
                  },
                ],
              },
            ],
          },
        },
      },
    },
    completed: { type: "final" },
    failed: { type: "final" },
    killed: { type: "final" },
  },
})
