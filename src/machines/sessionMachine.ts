import { assign, cancel, enqueueActions, not, setup } from "xstate"
import {
  addPending,
  answerOf,
  bumpStats,
  countMessage,
  describeExit,
  endReason,
  finishTurn,
  ignoreAnswer,
  initialSessionContext,
  isPending,
  pendingCount,
  permissionTimerId,
  recordProtocolError,
  resolvePermission,
  takeNext,
  todoListOf,
  turnResultOf,
} from "./sessionContext.js"
import {
  type AnswerPermissionParams,
  DUPLICATE_PERMISSION_REQUEST_CODE,
  type InterruptAgentParams,
  type KillAgentParams,
  type RejectUserMessageParams,
  SESSION_EVENT,
  type SendToAgentParams,
  type SessionContext,
  type SessionEvent,
  type SessionInput,
  type SpawnAgentParams,
  type WithdrawPermissionPromptParams,
} from "./sessionTypes.js"

export * from "./sessionTypes.js"

const START_TIMER_ID = "startTimeout"

/**
 * A session owning one agent process (SPEC §2, §6).
 *
 * `starting` (agent spawned, waiting for its `initialize` answer) → `running` with `idle` / `busy` /
 * `awaiting_permission` / `closing` → `completed` (closed on request and the agent exited), `failed` (the
 * agent could not start, timed out, or exited on its own) or `killed`. User messages that arrive while the
 * agent is busy wait in a FIFO and go out one per turn. Permission requests are kept by id; the first answer
 * wins, later ones are counted as ignored; an unanswered request is denied after `permissionTimeoutMs` on the
 * injected clock.
 *
 * Pure: every effect is a named action ({@link SessionEffects}) whose default does nothing; time arrives in
 * events' `at` fields or as delayed events raised on the actor's clock.
 *
 * @example
 * const actor = createActor(sessionMachine.provide({ actions: { sendToAgent: (_, p) => write(p) } }), {
 *   input: { sessionId: "s_1", agent: "builtin", workDir: "/tmp/w", createdAt: Date.now() },
 *   clock,
 * }).start()
 */
export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
  },
  actions: {
    spawnAgent: (_args, _params: SpawnAgentParams) => {},
    sendToAgent: (_args, _params: SendToAgentParams) => {},
    answerPermission: (_args, _params: AnswerPermissionParams) => {},
    withdrawPermissionPrompt: (_args, _params: WithdrawPermissionPromptParams) => {},
    interruptAgent: (_args, _params: InterruptAgentParams) => {},
    rejectUserMessage: (_args, _params: RejectUserMessageParams) => {},
    closeAgentInput: () => {},
    killAgent: (_args, _params: KillAgentParams) => {},
  },
  delays: {
    startTimeout: ({ context }) => context.timeouts.startMs,
    permissionTimeout: ({ context }) => context.timeouts.permissionMs,
  },
  guards: {
    hasQueue: ({ context }) => context.queue.length > 0,
    closeRequested: ({ context }) => context.closeRequested,
    inTurn: ({ context }) => context.currentMessageId !== null,
  },
}).createMachine({
  id: "session",
  context: ({ input }) => initialSessionContext(input),
  initial: "starting",
  // Root handlers cover `starting` and `running`; final states stop the actor, so nothing reaches them.
  on: {
    [SESSION_EVENT.agentMessage]: {
      actions: assign(({ context, event }) => {
        const todos = todoListOf(event.message)
        const messageCounts = countMessage(context, event.message)
        return todos === undefined ? { messageCounts } : { messageCounts, todoList: todos }
      }),
    },
    [SESSION_EVENT.protocolError]: {
      actions: assign(({ context, event }) =>
        recordProtocolError(context, event.code, event.message, event.at),
      ),
    },
    [SESSION_EVENT.userMessage]: [
      {
        guard: "closeRequested",
        actions: [
          assign(({ context }) => ({
            droppedMessages: context.droppedMessages + 1,
          })),
          {
            type: "rejectUserMessage",
            params: ({ event }) => ({ messageId: event.messageId, reason: "the session is closing" }),
          },
        ],
      },
      {
        actions: assign(({ context, event }) => ({
          queue: [...context.queue, { messageId: event.messageId, content: event.content, at: event.at }],
        })),
      },
    ],
    [SESSION_EVENT.permissionAnswered]: {
      actions: assign(({ context, event }) =>
        ignoreAnswer(context, event.requestId, event.clientId ?? null, event.at),
      ),
    },
    [SESSION_EVENT.closeRequested]: { actions: assign({ closeRequested: true }) },
    [SESSION_EVENT.killRequested]: {
      target: ".killed",
      actions: [
        assign(({ event }) => ({
          endReason: endReason("killed", event.reason ?? "killed on request", null, null, event.at),
        })),
        { type: "killAgent", params: ({ event }) => ({ reason: event.reason ?? "killed on request" }) },
      ],
    },
  },
  states: {
    starting: {
      entry: [
        {
          type: "spawnAgent",
          params: ({ context }) => ({
            sessionId: context.sessionId,
            agent: context.agent,
            workDir: context.workDir,
            skipPermissions: context.skipPermissions,
            title: context.title,
          }),
        },
        enqueueActions(({ context, enqueue }) => {
          if (context.timeouts.startMs > 0) {
            enqueue.raise(
              { type: SESSION_EVENT.startTimedOut },
              { delay: "startTimeout", id: START_TIMER_ID },
            )
          }
        }),
      ],
      exit: cancel(START_TIMER_ID),
      on: {
        [SESSION_EVENT.agentReady]: {
          target: "running.dispatching",
          actions: assign(({ event }) => ({ agentProcess: { readyAt: event.at, pid: event.pid ?? null } })),
        },
        [SESSION_EVENT.agentFailedToStart]: {
          target: "failed",
          actions: assign(({ event }) => ({
            endReason: endReason(
              "startFailed",
              event.code === undefined ? event.message : `${event.code}: ${event.message}`,
              null,
              null,
              event.at,
            ),
          })),
        },
        [SESSION_EVENT.startTimedOut]: {
          target: "failed",
          actions: [
            assign(({ context }) => ({
              endReason: endReason(
                "startTimedOut",
                `agent ${context.agent} did not answer initialize within ${context.timeouts.startMs} ms`,
                null,
                null,
                context.createdAt + context.timeouts.startMs,
              ),
            })),
            { type: "killAgent", params: { reason: "start timed out" } },
          ],
        },
        [SESSION_EVENT.agentExited]: {
          target: "failed",
          actions: assign(({ event }) => ({
            endReason: endReason(
              "startFailed",
              `agent exited with ${describeExit(event.code, event.signal)} before it was ready`,
              event.code,
              event.signal,
              event.at,
            ),
          })),
        },
      },
    },
    running: {
      initial: "idle",
      on: {
        [SESSION_EVENT.permissionRequested]: [
          {
            guard: ({ context }) => context.skipPermissions,
            actions: [
              {
                type: "answerPermission",
                params: ({ event }) => ({ requestId: event.requestId, behavior: "allow" }),
              },
              assign(({ context, event }) =>
                resolvePermission(context, event.requestId, "autoAllowed", null),
              ),
            ],
          },
          {
            guard: ({ context, event }) => isPending(context, event.requestId),
            actions: assign(({ context, event }) =>
              recordProtocolError(
                context,
                DUPLICATE_PERMISSION_REQUEST_CODE,
                `permission request ${event.requestId} was asked again while pending`,
                event.at,
              ),
            ),
          },
          {
            target: ".awaiting_permission",
            actions: enqueueActions(({ context, event, enqueue }) => {
              enqueue.assign(
                addPending(context, {
                  requestId: event.requestId,
                  toolName: event.toolName,
                  toolUseId: event.toolUseId ?? null,
                  requestedAt: event.at,
                }),
              )
              if (context.timeouts.permissionMs > 0) {
                enqueue.raise(
                  { type: SESSION_EVENT.permissionTimedOut, requestId: event.requestId },
                  { delay: "permissionTimeout", id: permissionTimerId(event.requestId) },
                )
              }
            }),
          },
        ],
        [SESSION_EVENT.interruptRequested]: [
          {
            guard: "inTurn",
            actions: enqueueActions(({ context, event, enqueue }) => {
              enqueue({ type: "interruptAgent", params: { messageId: context.currentMessageId } })
              const dropped = event.cancelQueued === true ? context.queue : []
              for (const queued of dropped) {
                enqueue({
                  type: "rejectUserMessage",
                  params: { messageId: queued.messageId, reason: "cancelled by an interrupt" },
                })
              }
              enqueue.assign({
                queue: event.cancelQueued === true ? [] : context.queue,
                droppedMessages: context.droppedMessages + dropped.length,
                ...bumpStats(context, { interrupts: context.stats.interrupts + 1 }),
              })
            }),
          },
          // Nothing runs: counted, not forwarded.
          {
            actions: assign(({ context }) =>
              bumpStats(context, { interrupts: context.stats.interrupts + 1 }),
            ),
          },
        ],
        [SESSION_EVENT.turnCompleted]: {
          target: ".dispatching",
          actions: enqueueActions(({ context, event, enqueue }) => {
            const finished = finishTurn(context, event)
            for (const w of finished.withdrawn) {
              enqueue.cancel(permissionTimerId(w.requestId))
              enqueue({ type: "withdrawPermissionPrompt", params: w })
            }
            enqueue.assign(finished.patch)
          }),
        },
        [SESSION_EVENT.agentExited]: {
          target: "failed",
          actions: assign(({ event }) => ({
            endReason: endReason(
              "agentExited",
              event.reason === undefined
                ? `agent exited unexpectedly with ${describeExit(event.code, event.signal)}`
                : `${event.reason}: agent exited with ${describeExit(event.code, event.signal)}`,
              event.code,
              event.signal,
              event.at,
            ),
          })),
        },
      },
      states: {
        // Passed through, never rested in: where a ready agent or a finished turn goes next.
        dispatching: {
          always: [
            {
              guard: "hasQueue",
              target: "busy",
              actions: enqueueActions(({ context, enqueue }) => {
                const next = takeNext(context)
                if (next === undefined) return
                enqueue.assign(next.patch)
                enqueue({ type: "sendToAgent", params: next.send })
              }),
            },
            { guard: "closeRequested", target: "closing", actions: "closeAgentInput" },
            { target: "idle" },
          ],
        },
        idle: {
          on: {
            // While closing this is not enabled, and the root handler rejects the message.
            [SESSION_EVENT.userMessage]: {
              guard: not("closeRequested"),
              target: "busy",
              actions: [
                assign(({ event }) => ({ currentMessageId: event.messageId })),
                {
                  type: "sendToAgent",
                  params: ({ event }) => ({ messageId: event.messageId, content: event.content }),
                },
              ],
            },
            [SESSION_EVENT.closeRequested]: {
              target: "closing",
              actions: [assign({ closeRequested: true }), "closeAgentInput"],
            },
          },
        },
        busy: {},
        awaiting_permission: {
          on: {
            [SESSION_EVENT.permissionAnswered]: {
              guard: ({ context, event }) => isPending(context, event.requestId),
              actions: enqueueActions(({ context, event, enqueue }) => {
                const by = event.clientId ?? null
                enqueue.cancel(permissionTimerId(event.requestId))
                enqueue({ type: "answerPermission", params: answerOf(event) })
                enqueue({
                  type: "withdrawPermissionPrompt",
                  params: { requestId: event.requestId, reason: "answered", answeredBy: by },
                })
                enqueue.assign(
                  resolvePermission(
                    context,
                    event.requestId,
                    event.behavior === "allow" ? "allowed" : "denied",
                    by,
                  ),
                )
              }),
            },
            [SESSION_EVENT.permissionCancelled]: {
              guard: ({ context, event }) => isPending(context, event.requestId),
              actions: enqueueActions(({ context, event, enqueue }) => {
                enqueue.cancel(permissionTimerId(event.requestId))
                enqueue({
                  type: "withdrawPermissionPrompt",
                  params: { requestId: event.requestId, reason: "cancelled", answeredBy: null },
                })
                enqueue.assign(resolvePermission(context, event.requestId, "cancelled", null))
              }),
            },
            [SESSION_EVENT.permissionTimedOut]: {
              guard: ({ context, event }) => isPending(context, event.requestId),
              actions: enqueueActions(({ context, event, enqueue }) => {
                enqueue({
                  type: "answerPermission",
                  params: {
                    requestId: event.requestId,
                    behavior: "deny",
                    message: `permission request ${event.requestId} timed out after ${context.timeouts.permissionMs} ms`,
                  },
                })
                enqueue({
                  type: "withdrawPermissionPrompt",
                  params: { requestId: event.requestId, reason: "timedOut", answeredBy: null },
                })
                enqueue.assign(resolvePermission(context, event.requestId, "timedOut", null))
              }),
            },
          },
          // Leave once the last pending request is resolved: back to the turn, or to idle if none runs.
          always: [
            {
              guard: ({ context }) => pendingCount(context) === 0 && context.currentMessageId !== null,
              target: "busy",
            },
            { guard: ({ context }) => pendingCount(context) === 0, target: "idle" },
          ],
        },
        closing: {
          on: {
            // Stdin is closed: nobody can answer; the agent's exit settles the request.
            [SESSION_EVENT.permissionRequested]: {},
            [SESSION_EVENT.turnCompleted]: {
              actions: assign(({ event }) => ({ lastResult: turnResultOf(event.result, event.at) })),
            },
            [SESSION_EVENT.agentExited]: {
              target: "#session.completed",
              actions: assign(({ event }) => ({
                endReason: endReason(
                  "closed",
                  `agent exited with ${describeExit(event.code, event.signal)} after its input was closed`,
                  event.code,
                  event.signal,
                  event.at,
                ),
              })),
            },
          },
        },
      },
    },
    completed: { type: "final" },
    failed: { type: "final" },
    killed: { type: "final" },
  },
})
