import { isRecord, type PermissionRequest, type PermissionResult, type SdkMessage } from "./clientMessages.js"

/** What the manager must do after the ledger saw something. */
export type LedgerAction =
  | { readonly kind: "deliver"; readonly requestId: string; readonly request: PermissionRequest }
  | { readonly kind: "cancelled"; readonly requestId: string }
  | { readonly kind: "answerAgain"; readonly requestId: string; readonly result: PermissionResult }

const NOTHING: ReadonlyArray<LedgerAction> = []

/**
 * The permission requests one client has seen, and what became of them, so that each request reaches the
 * owner's callback at most once, a request settled elsewhere is withdrawn, a re-sent request whose answer was
 * lost is answered again, and history requests wait for the replay to show whether they are still open. Pure
 * bookkeeping: it returns actions and never calls anyone, so the rules are testable without sockets.
 */
export class PermissionLedger {
  /** Delivered to the owner and not answered or settled yet: request id → tool_use_id. */
  private readonly delivered = new Map<string, string | undefined>()
  /** History requests waiting for the replay to reach `historyEndSeq`. */
  private readonly held = new Map<string, PermissionRequest>()
  /** What this client answered, and the socket generation it went out on (undefined: still queued). */
  private readonly answered = new Map<
    string,
    { readonly result: PermissionResult; sentOn: number | undefined }
  >()
  /** Cancelled, or answered by another client. */
  private readonly settled = new Set<string>()
  private historyOpen: boolean

  /**
   * @param historyEndSeq requests with a seq up to it are history (see `DirectConnectOptions.historyEndSeq`).
   * @param afterSeq the cursor the client starts from.
   */
  constructor(
    private readonly historyEndSeq: number | undefined,
    afterSeq: number,
  ) {
    this.historyOpen = historyEndSeq !== undefined && historyEndSeq > afterSeq
  }

  /**
   * A `can_use_tool` request arrived on socket `generation`. `resent` is true when its seq was at or below the
   * cursor: the host sends a still-pending request again to a client that reconnects.
   */
  requested(
    requestId: string,
    request: PermissionRequest,
    seq: number | undefined,
    resent: boolean,
    generation: number,
  ): ReadonlyArray<LedgerAction> {
    if (resent && this.held.has(requestId)) return NOTHING
    if (!resent && this.historyOpen && seq !== undefined && seq <= (this.historyEndSeq ?? 0)) {
      if (!this.settled.has(requestId)) this.held.set(requestId, request)
      return NOTHING
    }
    return this.deliver(requestId, request, generation)
  }

  /** The owner answered; `sentOn` is the generation of the open socket, or undefined when the answer is queued. */
  answeredLocally(requestId: string, result: PermissionResult, sentOn: number | undefined): void {
    this.answered.set(requestId, { result, sentOn })
    this.delivered.delete(requestId)
    this.held.delete(requestId)
  }

  /** Socket `generation` opened and flushed the queue: queued answers went out on it. */
  socketOpened(generation: number): void {
    for (const entry of this.answered.values()) entry.sentOn ??= generation
  }

  /** The host withdrew request `requestId` (`control_cancel_request`). */
  cancelled(requestId: string): ReadonlyArray<LedgerAction> {
    return this.settle(requestId)
  }

  /** A forwarded message: a tool result for a pending request's tool, or the turn's result, settles it. */
  observed(message: SdkMessage): ReadonlyArray<LedgerAction> {
    if (message.type === "result") {
      return [...this.held.keys(), ...this.delivered.keys()].flatMap((id) => this.settle(id))
    }
    if (message.type !== "user" || (this.delivered.size === 0 && this.held.size === 0)) return NOTHING
    const inner = message.message
    const content = isRecord(inner) ? inner.content : undefined
    if (!Array.isArray(content)) return NOTHING
    const actions: LedgerAction[] = []
    for (const block of content) {
      if (!isRecord(block) || block.type !== "tool_result" || typeof block.tool_use_id !== "string") continue
      const toolUseId = block.tool_use_id
      for (const [id, pendingToolUse] of [...this.delivered]) {
        if (pendingToolUse === toolUseId) actions.push(...this.settle(id))
      }
      for (const [id, request] of [...this.held])
        if (request.tool_use_id === toolUseId) actions.push(...this.settle(id))
    }
    return actions
  }

  /** The history cursor moved to `lastSeq`: once it reaches the history's end, open held requests go out. */
  cursorAt(lastSeq: number, generation: number): ReadonlyArray<LedgerAction> {
    if (!this.historyOpen || lastSeq < (this.historyEndSeq ?? 0)) return NOTHING
    this.historyOpen = false
    const waiting = [...this.held]
    this.held.clear()
    return waiting.flatMap(([id, request]) => this.deliver(id, request, generation))
  }

  private deliver(
    requestId: string,
    request: PermissionRequest,
    generation: number,
  ): ReadonlyArray<LedgerAction> {
    const answer = this.answered.get(requestId)
    if (answer !== undefined) {
      // Still pending at the host although we answered: the answer went down with an older socket.
      if (answer.sentOn === undefined || answer.sentOn >= generation) return NOTHING
      answer.sentOn = generation
      return [{ kind: "answerAgain", requestId, result: answer.result }]
    }
    if (this.delivered.has(requestId) || this.settled.has(requestId)) return NOTHING
    this.delivered.set(requestId, typeof request.tool_use_id === "string" ? request.tool_use_id : undefined)
    return [{ kind: "deliver", requestId, request }]
  }

  private settle(requestId: string): ReadonlyArray<LedgerAction> {
    this.held.delete(requestId)
    if (this.answered.has(requestId)) return NOTHING
    this.settled.add(requestId)
    return this.delivered.delete(requestId) ? [{ kind: "cancelled", requestId }] : NOTHING
  }
}
