import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type {
  PermissionAnswer,
  PermissionOutcome,
  SdkMessage,
  SeqMessage,
  SessionHandle,
  SessionInfo,
  SessionStatus,
} from "../../src/effects/sessionHandle.js"
import type { CreateSessionOptions, SessionManager } from "../../src/server/sessionManager.js"

export interface FakeSessionOptions {
  readonly id: string
  readonly workDir: string
  readonly agent?: string
  readonly title?: string
  readonly skipPermissions?: boolean
  readonly startTime?: string
  readonly status?: SessionStatus
}

const FINAL: ReadonlySet<SessionStatus> = new Set(["completed", "failed", "killed"])

/**
 * An in-memory {@link SessionHandle} that behaves as the interface's contract says, driven by the test:
 * - history is gap-free from seq 1; `subscribe(after)` replays `seq > after` and then goes live in the same
 *   synchronous step (no gap, no duplicate);
 * - `requestPermission` emits a `can_use_tool` control_request into history and keeps it pending;
 * - the first `answerPermission` for a request wins: the request leaves the pending set and a
 *   `control_cancel_request { request_id }` goes into history, so every other client
 *   (connected now or reconnecting later) learns it is settled; later answers get `already_answered`;
 * - `interrupt` withdraws pending requests (`control_cancel_request`) and ends the turn
 *   with an `error_during_execution` result;
 * - `close` / `kill` / `finish` reach a final state and resolve `whenDone`.
 * Unlike the real runtime it does not echo user messages into history: tests see only what they emit.
 */
export class FakeSessionHandle implements SessionHandle {
  readonly id: string
  readonly userMessages: SdkMessage[] = []
  readonly answers: Array<{
    readonly requestId: string
    readonly answer: PermissionAnswer
    readonly clientId?: string
  }> = []
  interrupts = 0
  /** Called for each user message after it is recorded; a test scripts the agent here. */
  onUserMessage: ((message: SdkMessage, session: FakeSessionHandle) => void) | undefined
  /** When set, `sendUserMessage` rejects with it. */
  failSends: Error | undefined

  private readonly log: SeqMessage[] = []
  private readonly listeners = new Set<(message: SeqMessage) => void>()
  private readonly pending = new Map<string, SeqMessage>()
  private readonly answered = new Set<string>()
  private status: SessionStatus
  private endReason: string | undefined
  private endTime: string | undefined
  private nextRequest = 1
  private readonly done: Promise<SessionInfo>
  private resolveDone!: (info: SessionInfo) => void

  constructor(private readonly options: FakeSessionOptions) {
    this.id = options.id
    this.status = options.status ?? "idle"
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve
    })
  }

  /** Subscribers right now (each WebSocket client is one). */
  get listenerCount(): number {
    return this.listeners.size
  }

  info(): SessionInfo {
    return {
      id: this.id,
      title: this.options.title ?? "",
      status: this.status,
      agent: this.options.agent ?? "builtin",
      work_dir: this.options.workDir,
      start_time: this.options.startTime ?? "2026-01-01T00:00:00.000Z",
      ...(this.endTime === undefined ? {} : { end_time: this.endTime }),
      ...(this.endReason === undefined ? {} : { end_reason: this.endReason }),
      todo_list: [],
      last_seq: this.log.length,
      pending_permissions: this.pending.size,
      dangerously_skip_permissions: this.options.skipPermissions === true,
    }
  }

  history(afterSeq = 0): ReadonlyArray<SeqMessage> {
    return this.log.slice(Math.max(0, afterSeq))
  }

  subscribe(afterSeq: number, listener: (message: SeqMessage) => void): () => void {
    for (const message of this.history(afterSeq)) listener(message)
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  pendingPermissions(): ReadonlyArray<SeqMessage> {
    return [...this.pending.values()]
  }

  async sendUserMessage(message: SdkMessage): Promise<void> {
    if (this.failSends !== undefined) throw this.failSends
    this.userMessages.push(message)
    this.onUserMessage?.(message, this)
  }

  async answerPermission(
    requestId: string,
    answer: PermissionAnswer,
    clientId?: string,
  ): Promise<PermissionOutcome> {
    if (this.answered.has(requestId)) return "already_answered"
    if (!this.pending.has(requestId)) return "unknown_request"
    this.pending.delete(requestId)
    this.answered.add(requestId)
    this.answers.push({ requestId, answer, ...(clientId === undefined ? {} : { clientId }) })
    this.emit({ type: "control_cancel_request", request_id: requestId })
    if (this.pending.size === 0 && this.status === "awaiting_permission") this.status = "busy"
    return "accepted"
  }

  async interrupt(): Promise<void> {
    this.interrupts++
    for (const requestId of [...this.pending.keys()]) {
      this.pending.delete(requestId)
      this.answered.add(requestId)
      this.emit({ type: "control_cancel_request", request_id: requestId })
    }
    if (this.status === "busy" || this.status === "awaiting_permission") {
      this.emit({
        type: "result",
        subtype: "error_during_execution",
        is_error: true,
        terminal_reason: "aborted_tools",
      })
      this.status = "idle"
    }
  }

  async close(reason = "closed by the host"): Promise<void> {
    this.end("completed", reason)
  }

  async kill(reason = "killed"): Promise<void> {
    this.end("killed", reason)
  }

  whenDone(): Promise<SessionInfo> {
    return this.done
  }

  // ---- driving the fake from a test ----

  /** Appends a message to history (assigning the next seq) and delivers it to every subscriber. */
  emit(message: SdkMessage): SeqMessage {
    if (FINAL.has(this.status)) throw new Error(`session ${this.id} is ${this.status}`)
    const seqMessage: SeqMessage = { ...message, seq: this.log.length + 1 }
    this.log.push(seqMessage)
    for (const listener of [...this.listeners]) listener(seqMessage)
    return seqMessage
  }

  /** The agent asks permission: a `can_use_tool` control_request in history, pending until answered. */
  requestPermission(toolName: string, input: Record<string, unknown>, requestId?: string): SeqMessage {
    const id = requestId ?? `perm_${this.nextRequest++}`
    const message = this.emit({
      type: "control_request",
      request_id: id,
      request: { subtype: "can_use_tool", tool_name: toolName, input, tool_use_id: `toolu_${id}` },
    })
    this.pending.set(id, message)
    this.status = "awaiting_permission"
    return message
  }

  setStatus(status: SessionStatus): void {
    this.status = status
  }

  /** Ends the session as the agent process exiting would. */
  finish(status: "completed" | "failed" = "completed", reason = "agent exited with code 0"): void {
    this.end(status, reason)
  }

  private end(status: SessionStatus, reason: string): void {
    if (FINAL.has(this.status)) return
    this.status = status
    this.endReason = reason
    this.endTime = "2026-01-01T01:00:00.000Z"
    this.pending.clear()
    this.listeners.clear()
    this.resolveDone(this.info())
  }
}

/** An in-memory {@link SessionManager} of {@link FakeSessionHandle}s; work dirs are real (made under `workRoot`). */
export class FakeSessionManager implements SessionManager {
  readonly created: CreateSessionOptions[] = []
  shutdownCalls = 0
  /** When set, `create` rejects with it. */
  failCreate: Error | undefined
  /** Called with each new session, e.g. to script its agent. */
  onCreate: ((session: FakeSessionHandle) => void) | undefined
  private readonly sessions = new Map<string, FakeSessionHandle>()
  private counter = 0

  constructor(private readonly workRoot: string) {}

  async create(options: CreateSessionOptions): Promise<FakeSessionHandle> {
    if (this.failCreate !== undefined) throw this.failCreate
    this.created.push(options)
    const id = `s_${(++this.counter).toString(16).padStart(24, "0")}`
    const workDir = options.workDir ?? join(this.workRoot, id)
    mkdirSync(workDir, { recursive: true })
    const session = new FakeSessionHandle({
      id,
      workDir,
      agent: options.agent,
      skipPermissions: options.skipPermissions,
      status: "starting",
      ...(options.title === undefined ? {} : { title: options.title }),
    })
    this.sessions.set(id, session)
    this.onCreate?.(session)
    if (options.prompt !== undefined) {
      await session.sendUserMessage({
        type: "user",
        message: { role: "user", content: options.prompt },
        parent_tool_use_id: null,
        session_id: id,
      })
    }
    return session
  }

  /** Adds a session made by the test. */
  add(session: FakeSessionHandle): FakeSessionHandle {
    this.sessions.set(session.id, session)
    return session
  }

  get(id: string): FakeSessionHandle | undefined {
    return this.sessions.get(id)
  }

  list(): ReadonlyArray<FakeSessionHandle> {
    return [...this.sessions.values()]
  }

  async kill(id: string, reason?: string): Promise<SessionInfo | undefined> {
    const session = this.sessions.get(id)
    if (session === undefined) return undefined
    await session.kill(reason)
    return session.info()
  }

  async shutdown(): Promise<void> {
    this.shutdownCalls++
    for (const session of this.sessions.values()) await session.kill("host shutdown")
  }
}
