/**
 * The boundary between a running session (the session runtime: a sessionMachine driving one agent process)
 * and whoever talks to it: the WebSocket server, `agenthost exec`, the scheduler, embedders. Plain
 * Promise-based on purpose, so non-Effect code can use it.
 */

/** A JSON object as an agent or client sent it; unknown fields are preserved. */
export type SdkMessage = { readonly type: string; readonly [field: string]: unknown }

/**
 * A host → client message that belongs to the session's history: the agent's SDK messages, `can_use_tool`
 * control requests and `control_cancel_request`s, each with a gap-free per-session `seq` starting at 1.
 */
export type SeqMessage = SdkMessage & { readonly seq: number }

export type SessionStatus =
  | "starting"
  | "idle"
  | "busy"
  | "awaiting_permission"
  | "completed"
  | "failed"
  | "killed"

/** The statuses of a session that has ended. */
export type FinalSessionStatus = Extract<SessionStatus, "completed" | "failed" | "killed">

const FINAL: ReadonlySet<string> = new Set<FinalSessionStatus>(["completed", "failed", "killed"])

/** True when the session has ended (any other string, a status of the future say, is not final). */
export function isFinalStatus(status: string): status is FinalSessionStatus {
  return FINAL.has(status)
}

export interface TodoItem {
  readonly content: string
  readonly status: string
  readonly activeForm?: string
}

/** What `GET /sessions/:id` shows (SPEC §4). */
export interface SessionInfo {
  readonly id: string
  readonly title: string
  readonly status: SessionStatus
  readonly agent: string
  readonly work_dir: string
  /** ISO-8601. */
  readonly start_time: string
  readonly end_time?: string
  /** Why a final session ended (agent exit code, kill, host restart, ...). */
  readonly end_reason?: string
  readonly todo_list: ReadonlyArray<TodoItem>
  readonly last_seq: number
  readonly pending_permissions: number
  readonly dangerously_skip_permissions: boolean
}

/** A client's answer to a `can_use_tool` request (the `response` of a `control_response`). */
export type PermissionAnswer =
  | {
      readonly behavior: "allow"
      readonly updatedInput?: Record<string, unknown>
      readonly [k: string]: unknown
    }
  | {
      readonly behavior: "deny"
      readonly message: string
      readonly interrupt?: boolean
      readonly [k: string]: unknown
    }

export type PermissionOutcome = "accepted" | "already_answered" | "unknown_request"

export interface SessionHandle {
  readonly id: string
  info(): SessionInfo
  /** History with `seq > afterSeq`, in order. */
  history(afterSeq?: number): ReadonlyArray<SeqMessage>
  /**
   * Delivers every history message with `seq > afterSeq`, then live ones as they happen, in order, with no gap
   * and no duplicate. Returns the unsubscribe function.
   */
  subscribe(afterSeq: number, listener: (message: SeqMessage) => void): () => void
  /** `can_use_tool` requests not yet answered (each as sent to clients, with its seq). */
  pendingPermissions(): ReadonlyArray<SeqMessage>
  /** Queues a user message; it runs when the agent is idle. */
  sendUserMessage(message: SdkMessage): Promise<void>
  /** First answer wins; later ones get `already_answered` and the losers' clients a `control_cancel_request`. */
  answerPermission(requestId: string, answer: PermissionAnswer, clientId?: string): Promise<PermissionOutcome>
  interrupt(): Promise<void>
  /** Lets queued work finish, then closes the agent's input; the session becomes `completed`. */
  close(reason?: string): Promise<void>
  /** Ends the agent process; the session becomes `killed`. */
  kill(reason?: string): Promise<void>
  /** Resolves when the session reaches a final state. */
  whenDone(): Promise<SessionInfo>
}
