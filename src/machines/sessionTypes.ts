/**
 * The session machine's protocol: event type strings (defined once, here), the event union, the input, the
 * context and the parameters of the effects the runtime performs. Logged events use exactly these shapes, so
 * changing one is a change of {@link SESSION_MACHINE_VERSION}.
 */

/** Name under which `actor.started` records and replay know this machine. */
export const SESSION_MACHINE_NAME = "session"

/** Bump whenever the same logged events would lead to different states or context. */
export const SESSION_MACHINE_VERSION = 1

/** Every event type the session machine accepts. */
export const SESSION_EVENT = {
  agentReady: "session.agentReady",
  agentFailedToStart: "session.agentFailedToStart",
  startTimedOut: "session.startTimedOut",
  userMessage: "session.userMessage",
  agentMessage: "session.agentMessage",
  permissionRequested: "session.permissionRequested",
  permissionAnswered: "session.permissionAnswered",
  permissionCancelled: "session.permissionCancelled",
  permissionTimedOut: "session.permissionTimedOut",
  interruptRequested: "session.interruptRequested",
  turnCompleted: "session.turnCompleted",
  closeRequested: "session.closeRequested",
  agentExited: "session.agentExited",
  killRequested: "session.killRequested",
  protocolError: "session.protocolError",
} as const

/** Defaults applied when the input leaves a knob out. Part of the machine's semantics (versioned). */
export const SESSION_DEFAULTS = {
  /** 0 disables the timeout. */
  startTimeoutMs: 30_000,
  /** 0 disables the timeout: a permission request then waits for an answer as long as the session lives. */
  permissionTimeoutMs: 0,
} as const

/** How many resolved permission requests the context remembers, to tell "already answered" from "unknown". */
export const RECENT_PERMISSIONS_LIMIT = 32

/** Recorded in the context when the agent asks twice with one request id. */
export const DUPLICATE_PERMISSION_REQUEST_CODE = "AGH_SESSION_DUPLICATE_PERMISSION_REQUEST"

/** A JSON object as the agent printed it (an SDK message); unknown fields are kept. */
export type SdkMessage = { readonly type: string; readonly [field: string]: unknown }

/** A user message's `content`: a string or Messages API content blocks. */
export type UserContent = string | ReadonlyArray<Readonly<Record<string, unknown>>>

/** Input of the session machine. */
export interface SessionInput {
  readonly sessionId: string
  /** Agent name from the config (`builtin`, `claude`, ...). */
  readonly agent: string
  readonly workDir: string
  /** Epoch ms from the injected clock when the session was created. */
  readonly createdAt: number
  readonly title?: string
  readonly skipPermissions?: boolean
  /** Milliseconds an unanswered permission request waits before it is denied; 0 = forever. */
  readonly permissionTimeoutMs?: number
  /** Milliseconds the agent has to answer `initialize`; 0 = forever. */
  readonly startTimeoutMs?: number
}

/** The agent answered `initialize`: it is ready for user messages. */
export interface AgentReadyEvent {
  readonly type: typeof SESSION_EVENT.agentReady
  readonly at: number
  readonly pid?: number
}
/** The agent process could not be started (spawn error, bad command). */
export interface AgentFailedToStartEvent {
  readonly type: typeof SESSION_EVENT.agentFailedToStart
  readonly at: number
  readonly message: string
  readonly code?: string
}
/** Raised by the machine itself, `startTimeoutMs` after start, on the injected clock. */
export interface StartTimedOutEvent {
  readonly type: typeof SESSION_EVENT.startTimedOut
}
/** A user message for the agent (from a client, the CLI or the scheduler). */
export interface UserMessageEvent {
  readonly type: typeof SESSION_EVENT.userMessage
  readonly at: number
  readonly messageId: string
  readonly content: UserContent
}
/** Any line the agent printed that is not a `result` or a permission request (those have their own events). */
export interface AgentMessageEvent {
  readonly type: typeof SESSION_EVENT.agentMessage
  readonly at: number
  readonly message: SdkMessage
}
/** The agent asks permission to use a tool (`control_request` `can_use_tool`). */
export interface PermissionRequestedEvent {
  readonly type: typeof SESSION_EVENT.permissionRequested
  readonly at: number
  readonly requestId: string
  readonly toolName: string
  readonly toolUseId?: string
  /** The agent's `can_use_tool` control_request as printed: what clients are shown and asked. */
  readonly request?: SdkMessage
}
/** A client answered a permission request. */
export interface PermissionAnsweredEvent {
  readonly type: typeof SESSION_EVENT.permissionAnswered
  readonly at: number
  readonly requestId: string
  readonly behavior: "allow" | "deny"
  readonly updatedInput?: Readonly<Record<string, unknown>>
  readonly message?: string
  readonly interrupt?: boolean
  /** Which client answered (for the record and for telling the others). */
  readonly clientId?: string
}
/** The agent withdrew its request (`control_cancel_request`). */
export interface PermissionCancelledEvent {
  readonly type: typeof SESSION_EVENT.permissionCancelled
  readonly at: number
  readonly requestId: string
}
/** Raised by the machine itself, `permissionTimeoutMs` after the request, on the injected clock. */
export interface PermissionTimedOutEvent {
  readonly type: typeof SESSION_EVENT.permissionTimedOut
  readonly requestId: string
}
/** A client asked to interrupt the running turn. */
export interface InterruptRequestedEvent {
  readonly type: typeof SESSION_EVENT.interruptRequested
  readonly at: number
  readonly clientId?: string
  /** Also drop the user messages waiting in the queue. */
  readonly cancelQueued?: boolean
}
/** The agent's `result` line: the turn is over. */
export interface TurnCompletedEvent {
  readonly type: typeof SESSION_EVENT.turnCompleted
  readonly at: number
  readonly result: SdkMessage
}
/** Finish the queued work, then close the agent's stdin (a normal end). */
export interface CloseRequestedEvent {
  readonly type: typeof SESSION_EVENT.closeRequested
  readonly at: number
  readonly reason?: string
}
/** The agent process exited. */
export interface AgentExitedEvent {
  readonly type: typeof SESSION_EVENT.agentExited
  readonly at: number
  readonly code: number | null
  readonly signal: string | null
  /** Why, when the host knows better than the exit status (e.g. `host restarted`). */
  readonly reason?: string
}
/** Kill the session now (DELETE /sessions/:id, host shutdown). */
export interface KillRequestedEvent {
  readonly type: typeof SESSION_EVENT.killRequested
  readonly at: number
  readonly reason?: string
}
/** The agent printed something the protocol module rejected; recorded, the session goes on. */
export interface ProtocolErrorEvent {
  readonly type: typeof SESSION_EVENT.protocolError
  readonly at: number
  readonly code: string
  readonly message: string
}

/** Every event of the session machine. */
export type SessionEvent =
  | AgentReadyEvent
  | AgentFailedToStartEvent
  | StartTimedOutEvent
  | UserMessageEvent
  | AgentMessageEvent
  | PermissionRequestedEvent
  | PermissionAnsweredEvent
  | PermissionCancelledEvent
  | PermissionTimedOutEvent
  | InterruptRequestedEvent
  | TurnCompletedEvent
  | CloseRequestedEvent
  | AgentExitedEvent
  | KillRequestedEvent
  | ProtocolErrorEvent

/** A user message waiting for the agent to be free. */
export interface QueuedUserMessage {
  readonly messageId: string
  readonly content: UserContent
  readonly at: number
}

/** A permission request waiting for an answer. */
export interface PendingPermission {
  readonly requestId: string
  readonly toolName: string
  readonly toolUseId: string | null
  readonly requestedAt: number
}

/** How a permission request was settled. */
export type PermissionOutcome = "allowed" | "denied" | "autoAllowed" | "cancelled" | "timedOut" | "turnEnded"

/** A settled permission request, as remembered in `recentPermissions`. */
export interface ResolvedPermission {
  readonly requestId: string
  readonly outcome: PermissionOutcome
  /** The client whose answer won, when a client answered. */
  readonly by: string | null
}

/** An answer that did not count: the request was already settled, or never existed. */
export interface IgnoredAnswer {
  readonly requestId: string
  readonly reason: "alreadyResolved" | "unknownRequest"
  readonly clientId: string | null
  readonly at: number
}

/** One item of the agent's todo list (from its `TodoWrite` tool use), as GET /sessions shows it. */
export interface TodoItem {
  readonly content: string
  readonly status: string
  readonly activeForm?: string
}

/** The interesting scalars of the last `result` (never its text). */
export interface TurnResult {
  readonly subtype: string
  readonly isError: boolean
  readonly numTurns: number | null
  readonly durationMs: number | null
  readonly totalCostUsd: number | null
  readonly terminalReason: string | null
  readonly at: number
}

/** Why a session ended. */
export type SessionEndKind = "closed" | "agentExited" | "startFailed" | "startTimedOut" | "killed"

/** Recorded in the context when the session reaches a final state. */
export interface SessionEndReason {
  readonly kind: SessionEndKind
  readonly message: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly at: number
}

/** Timeouts from the input, with defaults applied (0 = none). */
export interface SessionTimeouts {
  readonly permissionMs: number
  readonly startMs: number
}

/** The agent process once it answered `initialize`. */
export interface AgentProcessInfo {
  readonly readyAt: number
  readonly pid: number | null
}

/** Counters and the latest odd facts: what an operator looks at when something went wrong. */
export interface SessionStats {
  /** Turns completed. */
  readonly turns: number
  readonly interrupts: number
  readonly protocolErrors: number
  readonly lastProtocolError: { readonly code: string; readonly message: string; readonly at: number } | null
  /** Answers that lost (the request was already resolved) or named no known request. */
  readonly ignoredAnswers: number
  readonly lastIgnoredAnswer: IgnoredAnswer | null
}

/**
 * What the session machine remembers. Small on purpose: counts and the latest facts, never message bodies
 * (the session's message log is the runtime's job). Pending user messages are kept because the machine
 * decides when each is sent. The top level stays under 20 keys (rarely read facts are grouped): xstate
 * copies it on every `assign`, and V8 copies objects of more than 20 properties several times slower.
 */
export interface SessionContext {
  readonly sessionId: string
  readonly agent: string
  readonly workDir: string
  readonly createdAt: number
  readonly title: string | null
  readonly skipPermissions: boolean
  readonly timeouts: SessionTimeouts
  /** Null until the agent answered `initialize`. */
  readonly agentProcess: AgentProcessInfo | null
  /** FIFO of user messages waiting for the agent to be free. */
  readonly queue: ReadonlyArray<QueuedUserMessage>
  /** The user message whose turn is running, if any. */
  readonly currentMessageId: string | null
  readonly closeRequested: boolean
  /** Requests waiting for an answer, by request id. */
  readonly pendingPermissions: Readonly<Record<string, PendingPermission>>
  /** The last {@link RECENT_PERMISSIONS_LIMIT} resolved requests, oldest first. */
  readonly recentPermissions: ReadonlyArray<ResolvedPermission>
  /** Agent messages seen, by SDK `type`. */
  readonly messageCounts: Readonly<Record<string, number>>
  readonly todoList: ReadonlyArray<TodoItem>
  readonly lastResult: TurnResult | null
  /** User messages that were not run (sent while closing, or cancelled with an interrupt). */
  readonly droppedMessages: number
  readonly stats: SessionStats
  readonly endReason: SessionEndReason | null
}

/** Params of the `spawnAgent` effect. */
export interface SpawnAgentParams {
  readonly sessionId: string
  readonly agent: string
  readonly workDir: string
  readonly skipPermissions: boolean
  readonly title: string | null
}
/** Params of the `sendToAgent` effect. */
export interface SendToAgentParams {
  readonly messageId: string
  readonly content: UserContent
}
/** Params of the `answerPermission` effect (the `control_response` to write). */
export interface AnswerPermissionParams {
  readonly requestId: string
  readonly behavior: "allow" | "deny"
  readonly updatedInput?: Readonly<Record<string, unknown>>
  readonly message?: string
  readonly interrupt?: boolean
}
/** Params of the `withdrawPermissionPrompt` effect. */
export interface WithdrawPermissionPromptParams {
  readonly requestId: string
  readonly reason: "answered" | "cancelled" | "timedOut" | "turnEnded"
  /** For `answered`: the client whose answer won (the others get `control_cancel_request`). */
  readonly answeredBy: string | null
}
/** Params of the `interruptAgent` effect. */
export interface InterruptAgentParams {
  readonly messageId: string | null
}
/** Params of the `rejectUserMessage` effect. */
export interface RejectUserMessageParams {
  readonly messageId: string
  readonly reason: string
}
/** Params of the `killAgent` effect. */
export interface KillAgentParams {
  readonly reason: string
}

/**
 * The effects the session machine asks for, by name. The runtime supplies them (`machine.provide`); the
 * machine's own defaults do nothing, so replay and tests run it without a process.
 */
export interface SessionEffects {
  /** Start the agent process and send it `initialize`; report back `agentReady`/`agentFailedToStart`. */
  readonly spawnAgent: (params: SpawnAgentParams) => void
  /** Write a `user` line to the agent's stdin. */
  readonly sendToAgent: (params: SendToAgentParams) => void
  /** Write the `control_response` for a `can_use_tool` request. */
  readonly answerPermission: (params: AnswerPermissionParams) => void
  /** Tell the clients a prompt is gone (`control_cancel_request`): answered elsewhere, withdrawn, expired. */
  readonly withdrawPermissionPrompt: (params: WithdrawPermissionPromptParams) => void
  /** Send the agent a `control_request` `interrupt`. */
  readonly interruptAgent: (params: InterruptAgentParams) => void
  /** Tell the sender its message will not run (the session is closing, or the queue was cancelled). */
  readonly rejectUserMessage: (params: RejectUserMessageParams) => void
  /** Close the agent's stdin: it finishes and exits. */
  readonly closeAgentInput: () => void
  /** Kill the agent's process group. */
  readonly killAgent: (params: KillAgentParams) => void
}
