/**
 * Pure functions from (context, event) to the next context fields of the session machine. Kept apart from the
 * chart so each rule reads on its own and the chart reads as a chart.
 */
import {
  type AnswerPermissionParams,
  type IgnoredAnswer,
  type PendingPermission,
  type PermissionAnsweredEvent,
  type PermissionOutcome,
  RECENT_PERMISSIONS_LIMIT,
  type SdkMessage,
  SESSION_DEFAULTS,
  type SendToAgentParams,
  type SessionContext,
  type SessionEndKind,
  type SessionEndReason,
  type SessionInput,
  type SessionStats,
  type TodoItem,
  type TurnCompletedEvent,
  type TurnResult,
  type WithdrawPermissionPromptParams,
} from "./sessionTypes.js"

/** The context a session starts with: the input, defaults applied, nothing happened yet. */
export function initialSessionContext(input: SessionInput): SessionContext {
  return {
    sessionId: input.sessionId,
    agent: input.agent,
    workDir: input.workDir,
    createdAt: input.createdAt,
    title: input.title ?? null,
    skipPermissions: input.skipPermissions ?? false,
    timeouts: {
      permissionMs: input.permissionTimeoutMs ?? SESSION_DEFAULTS.permissionTimeoutMs,
      startMs: input.startTimeoutMs ?? SESSION_DEFAULTS.startTimeoutMs,
    },
    agentProcess: null,
    queue: [],
    currentMessageId: null,
    closeRequested: false,
    pendingPermissions: {},
    recentPermissions: [],
    messageCounts: {},
    todoList: [],
    lastResult: null,
    droppedMessages: 0,
    stats: {
      turns: 0,
      interrupts: 0,
      protocolErrors: 0,
      lastProtocolError: null,
      ignoredAnswers: 0,
      lastIgnoredAnswer: null,
    },
    endReason: null,
  }
}

/** Delayed-event id of a request's permission timeout, so answering it can cancel the timer. */
export const permissionTimerId = (requestId: string): string => `permissionTimeout:${requestId}`

/** How many permission requests wait for an answer. */
export function pendingCount(context: SessionContext): number {
  return Object.keys(context.pendingPermissions).length
}

/** Whether a permission request still waits for an answer. */
export function isPending(context: SessionContext, requestId: string): boolean {
  return Object.hasOwn(context.pendingPermissions, requestId)
}

/** Adds a pending permission request. */
export function addPending(
  context: SessionContext,
  pending: PendingPermission,
): Pick<SessionContext, "pendingPermissions"> {
  return { pendingPermissions: { ...context.pendingPermissions, [pending.requestId]: pending } }
}

/** Moves a request from `pendingPermissions` to the bounded `recentPermissions` list with its outcome. */
export function resolvePermission(
  context: Pick<SessionContext, "pendingPermissions" | "recentPermissions">,
  requestId: string,
  outcome: PermissionOutcome,
  by: string | null,
): Pick<SessionContext, "pendingPermissions" | "recentPermissions"> {
  const pendingPermissions: Record<string, PendingPermission> = {}
  for (const [id, p] of Object.entries(context.pendingPermissions))
    if (id !== requestId) pendingPermissions[id] = p
  const recent = [...context.recentPermissions, { requestId, outcome, by }]
  return {
    pendingPermissions,
    recentPermissions:
      recent.length > RECENT_PERMISSIONS_LIMIT
        ? recent.slice(recent.length - RECENT_PERMISSIONS_LIMIT)
        : recent,
  }
}

/** Counts an answer that lost (already resolved) or answered nothing we know. */
export function ignoreAnswer(
  context: SessionContext,
  requestId: string,
  clientId: string | null,
  at: number,
): Pick<SessionContext, "stats"> {
  const known = context.recentPermissions.some((r) => r.requestId === requestId)
  const lastIgnoredAnswer: IgnoredAnswer = {
    requestId,
    reason: known ? "alreadyResolved" : "unknownRequest",
    clientId,
    at,
  }
  return { stats: { ...context.stats, ignoredAnswers: context.stats.ignoredAnswers + 1, lastIgnoredAnswer } }
}

/** Counts a protocol error and remembers it as the last one. */
export function recordProtocolError(
  context: SessionContext,
  code: string,
  message: string,
  at: number,
): Pick<SessionContext, "stats"> {
  return bumpStats(context, {
    protocolErrors: context.stats.protocolErrors + 1,
    lastProtocolError: { code, message, at },
  })
}

/** Adds to the counters in `stats`. */
export function bumpStats(
  context: SessionContext,
  patch: Partial<SessionStats>,
): Pick<SessionContext, "stats"> {
  return { stats: { ...context.stats, ...patch } }
}

/** Counts an agent message by its SDK `type`. */
export function countMessage(context: SessionContext, message: SdkMessage): Readonly<Record<string, number>> {
  return { ...context.messageCounts, [message.type]: (context.messageCounts[message.type] ?? 0) + 1 }
}

/**
 * The todo list carried by the message's last `TodoWrite` tool use, or `undefined` when it has none. Items
 * are rebuilt field by field: the context keeps what GET /sessions shows, nothing the agent added besides.
 */
export function todoListOf(message: SdkMessage): ReadonlyArray<TodoItem> | undefined {
  if (message.type !== "assistant") return undefined
  const content = asRecord(message.message)?.content
  if (!Array.isArray(content)) return undefined
  let found: ReadonlyArray<TodoItem> | undefined
  for (const block of content) {
    const b = asRecord(block)
    if (b?.type !== "tool_use" || b.name !== "TodoWrite") continue
    const todos = asRecord(b.input)?.todos
    if (!Array.isArray(todos)) continue
    const items: TodoItem[] = []
    for (const raw of todos) {
      const t = asRecord(raw)
      if (t === undefined || typeof t.content !== "string" || typeof t.status !== "string") continue
      items.push(
        typeof t.activeForm === "string"
          ? { content: t.content, status: t.status, activeForm: t.activeForm }
          : { content: t.content, status: t.status },
      )
    }
    found = items
  }
  return found
}

/** The scalars of a `result` message worth keeping; anything missing or mistyped becomes null. */
export function turnResultOf(result: SdkMessage, at: number): TurnResult {
  return {
    subtype: typeof result.subtype === "string" ? result.subtype : "unknown",
    isError: result.is_error === true,
    numTurns: finiteOrNull(result.num_turns),
    durationMs: finiteOrNull(result.duration_ms),
    totalCostUsd: finiteOrNull(result.total_cost_usd),
    terminalReason: typeof result.terminal_reason === "string" ? result.terminal_reason : null,
    at,
  }
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null
}

function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Readonly<Record<string, unknown>>)
    : undefined
}

/** `code 1`, `signal SIGKILL`, or `no exit code`, for end reasons. */
export function describeExit(code: number | null, signal: string | null): string {
  if (signal !== null) return `signal ${signal}`
  return code === null ? "no exit code" : `code ${code}`
}

/** Pops the head of the queue: the context patch that makes it the running turn, and what to send. */
export function takeNext(
  context: SessionContext,
): { readonly patch: Partial<SessionContext>; readonly send: SendToAgentParams } | undefined {
  const [head, ...rest] = context.queue
  if (head === undefined) return undefined
  return {
    patch: { queue: rest, currentMessageId: head.messageId },
    send: { messageId: head.messageId, content: head.content },
  }
}

/**
 * The end of a turn: the result is recorded, and prompts still open are withdrawn — once the turn is over
 * no answer can reach the tool call that asked.
 */
export function finishTurn(
  context: SessionContext,
  event: TurnCompletedEvent,
): {
  readonly patch: Partial<SessionContext>
  readonly withdrawn: ReadonlyArray<WithdrawPermissionPromptParams>
} {
  let permissions: Pick<SessionContext, "pendingPermissions" | "recentPermissions"> = context
  const withdrawn: WithdrawPermissionPromptParams[] = []
  for (const requestId of Object.keys(context.pendingPermissions)) {
    withdrawn.push({ requestId, reason: "turnEnded", answeredBy: null })
    permissions = resolvePermission(permissions, requestId, "turnEnded", null)
  }
  return {
    patch: {
      pendingPermissions: permissions.pendingPermissions,
      recentPermissions: permissions.recentPermissions,
      lastResult: turnResultOf(event.result, event.at),
      currentMessageId: null,
      ...(context.currentMessageId === null ? {} : bumpStats(context, { turns: context.stats.turns + 1 })),
    },
    withdrawn,
  }
}

/** The answer forwarded to the agent, without keys the client left out. */
export function answerOf(event: PermissionAnsweredEvent): AnswerPermissionParams {
  return {
    requestId: event.requestId,
    behavior: event.behavior,
    ...(event.updatedInput === undefined ? {} : { updatedInput: event.updatedInput }),
    ...(event.message === undefined ? {} : { message: event.message }),
    ...(event.interrupt === undefined ? {} : { interrupt: event.interrupt }),
  }
}

/** Builds the end reason recorded in a final state. */
export function endReason(
  kind: SessionEndKind,
  message: string,
  exitCode: number | null,
  signal: string | null,
  at: number,
): SessionEndReason {
  return { kind, message, exitCode, signal, at }
}
