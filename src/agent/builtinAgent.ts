import * as Result from "effect/Result"
import type { ClockShape } from "../adapters/clock.js"
import { type DecodedMessage, decodePermissionResult } from "../protocol/decodeMessage.js"
import { controlCancelRequest, controlError, controlSuccess } from "../protocol/hostMessages.js"
import { type ContentBlock, type ControlResponseMessage, isTextBlock } from "../protocol/messages.js"
import type { StreamJsonItem } from "../protocol/streamJsonReader.js"
import {
  isSupportedPermissionMode,
  SUPPORTED_PERMISSION_MODES,
  type SupportedPermissionMode,
} from "./agentDefaults.js"
import {
  AGENT_CAPABILITIES,
  assistant,
  bashResult,
  canUseBashRequest,
  lifecycle,
  type MessageContext,
  type PermissionDenial,
  permissionDenied,
  permissionModeStatus,
  systemInit,
  type TerminalReason,
  toolResult,
  turnResult,
  userNotice,
} from "./agentMessages.js"
import type { CommandRunner, RunningCommand } from "./commandRunner.js"

/** Everything the agent core touches; the CLI wires stdio, tests wire arrays and a fake runner. */
export interface BuiltinAgentOptions {
  readonly sessionId: string
  readonly cwd: string
  readonly permissionMode: SupportedPermissionMode
  /**
   * Whether permission prompts can be sent (`--permission-prompt-tool stdio`). Without one the real CLI
   * denies every tool use that would ask, and so does this agent: a host that forgot the flag finds out here.
   */
  readonly canPrompt: boolean
  readonly runner: CommandRunner
  /** Writes one protocol message (one stdout line). */
  readonly emit: (message: object) => void
  /** Writes one diagnostic line (stderr), without the newline. */
  readonly log: (line: string) => void
  readonly clock: ClockShape
  /** Makes the `uuid` of each emitted message. */
  readonly uuid: () => string
  /** Reported as `claude_code_version`, e.g. `agenthost-builtin/0.1.0`. */
  readonly version: string
  readonly pid: number
  readonly commandTimeoutMs: number
}

interface QueuedPrompt {
  readonly text: string
  readonly uuid: string | undefined
}

type Decision =
  | { readonly behavior: "allow"; readonly command: string }
  | {
      readonly behavior: "deny"
      readonly message: string
      readonly interrupt: boolean
      readonly denial: boolean
    }
  | { readonly behavior: "aborted" }

interface PendingPermission {
  readonly requestId: string
  readonly request: object
  readonly command: string
  readonly resolve: (decision: Decision) => void
}

interface Turn {
  abort: Exclude<TerminalReason, "completed"> | undefined
  pending: PendingPermission | undefined
  running: RunningCommand | undefined
}

/** The text of a user message: the string, or its text blocks joined by newlines. */
export function promptText(content: string | ReadonlyArray<ContentBlock>): string {
  if (typeof content === "string") return content
  return content
    .filter(isTextBlock)
    .map((b) => b.text)
    .join("\n")
}

/** The commands of a prompt: every line starting with `$ `, without the marker. */
export function promptCommands(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.startsWith("$ "))
    .map((line) => line.slice(2))
    .filter((command) => command.trim() !== "")
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/**
 * The built-in agent's behaviour (SPEC §6, docs/agent.md), free of stdio and processes: feed it decoded
 * lines with {@link BuiltinAgent.receive}, collect what it emits, and finish commands through the
 * {@link CommandRunner}. Turns run one at a time, FIFO; control requests are answered at once, mid-turn
 * included, which is what makes interrupts and permission answers possible while a turn waits.
 */
export class BuiltinAgent {
  private readonly ctx: MessageContext
  private mode: SupportedPermissionMode
  private readonly queue: QueuedPrompt[] = []
  private turn: Turn | undefined
  private inputEnded = false
  private toolCount = 0
  private permissionCount = 0
  private messageCount = 0
  private resultIndex = 0
  private resolveDone: () => void = () => {}
  /** Settles when input has ended and every accepted prompt has had its turn. */
  readonly done: Promise<void>

  constructor(private readonly options: BuiltinAgentOptions) {
    this.ctx = { sessionId: options.sessionId, uuid: options.uuid }
    this.mode = options.permissionMode
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve
    })
  }

  /** The current permission mode. */
  get permissionMode(): SupportedPermissionMode {
    return this.mode
  }

  /** `idle`, `running`, or `requires_action` (a permission prompt is pending), as `session_state` says. */
  get state(): "idle" | "running" | "requires_action" {
    if (this.turn === undefined) return "idle"
    return this.turn.pending === undefined ? "running" : "requires_action"
  }

  /** Handles one line of input: a decoded message, or a line the reader rejected. */
  receive(item: StreamJsonItem): void {
    if (Result.isFailure(item)) {
      this.options.log(`agenthost agent: ${item.failure.code}: ${item.failure.message}`)
      return
    }
    this.handle(item.success)
  }

  /** Stdin ended: finish what was accepted, asking nobody (no answer can arrive any more). */
  endInput(): void {
    if (this.inputEnded) return
    this.inputEnded = true
    const pending = this.turn?.pending
    if (pending !== undefined) {
      this.options.emit(controlCancelRequest(pending.requestId))
      pending.resolve({
        behavior: "deny",
        message: "Permission request withdrawn: stdin closed before it was answered",
        interrupt: false,
        denial: true,
      })
    }
    this.kick()
  }

  private handle(decoded: DecodedMessage): void {
    const { emit, log } = this.options
    switch (decoded.kind) {
      case "user": {
        const { message, uuid } = decoded.message
        this.queue.push({ text: promptText(message.content), uuid })
        if (uuid !== undefined) emit(lifecycle(this.ctx, uuid, "queued"))
        this.kick()
        return
      }
      case "control_request/initialize":
        emit(controlSuccess(decoded.message.request_id, this.initializePayload()))
        return
      case "control_request/interrupt":
        this.interrupt(decoded.message.request_id, decoded.message.request.cancel_queued === true)
        return
      case "control_request/set_permission_mode": {
        const { request_id, request } = decoded.message
        if (!isSupportedPermissionMode(request.mode)) {
          const supported = SUPPORTED_PERMISSION_MODES.join(", ")
          emit(
            controlError(
              request_id,
              `Unsupported permission mode ${JSON.stringify(request.mode)} (the builtin agent supports ${supported})`,
            ),
          )
          return
        }
        this.mode = request.mode
        emit(controlSuccess(request_id, { mode: request.mode }))
        emit(permissionModeStatus(this.ctx, request.mode))
        return
      }
      case "control_request/can_use_tool":
      case "control_request": {
        const { request_id, request } = decoded.message
        emit(
          controlError(
            request_id,
            `Unsupported control request subtype: ${request.subtype}`,
            "unsupported_request",
          ),
        )
        return
      }
      case "control_response":
        this.answer(decoded.message)
        return
      case "control_cancel_request":
      case "keep_alive":
        // We never wait on the host's requests, so there is nothing to withdraw; keep_alive is liveness.
        return
      default:
        log(`agenthost agent: ignoring a ${JSON.stringify(decoded.message.type)} message from the host`)
    }
  }

  private initializePayload(): Record<string, unknown> {
    const pending = this.turn?.pending
    return {
      commands: [],
      agents: [],
      output_style: "default",
      available_output_styles: ["default"],
      models: [],
      account: { apiKeySource: "none", apiProvider: "builtin" },
      pid: this.options.pid,
      claude_code_version: this.options.version,
      current_permission_mode: this.mode,
      session_state: this.state,
      capabilities: [...AGENT_CAPABILITIES],
      pending_permission_requests: pending === undefined ? [] : [pending.request],
    }
  }

  private interrupt(requestId: string, cancelQueued: boolean): void {
    const { emit } = this.options
    const queued = this.queue.flatMap((q) => (q.uuid === undefined ? [] : [q.uuid]))
    let payload: Record<string, unknown> = { still_queued: queued }
    if (cancelQueued) {
      this.queue.length = 0
      for (const uuid of queued) emit(lifecycle(this.ctx, uuid, "cancelled"))
      payload = { still_queued: [], cancelled: queued }
    }
    const turn = this.turn
    if (turn === undefined || turn.abort !== undefined) {
      emit(controlSuccess(requestId, payload))
      return
    }
    if (turn.pending !== undefined) {
      // Withdraw the prompt first, as the real CLI does, so a client never answers a dead request.
      emit(controlCancelRequest(turn.pending.requestId))
      emit(controlSuccess(requestId, payload))
      turn.abort = "aborted_streaming"
      turn.pending.resolve({ behavior: "aborted" })
      return
    }
    emit(controlSuccess(requestId, payload))
    if (turn.running !== undefined) {
      turn.abort = "aborted_tools"
      turn.running.interrupt()
    } else {
      turn.abort = "aborted_streaming"
    }
  }

  private answer(message: ControlResponseMessage): void {
    const { request_id } = message.response
    const pending = this.turn?.pending
    if (pending === undefined || pending.requestId !== request_id) {
      this.options.log(
        `agenthost agent: ignoring a control_response for unknown request ${JSON.stringify(request_id)}`,
      )
      return
    }
    // The answer itself is broken: the tool call fails, and it is not a denial the user made.
    const failed = (why: string) =>
      pending.resolve({
        behavior: "deny",
        message: `Tool permission request failed: ${why}`,
        interrupt: false,
        denial: false,
      })
    if (message.response.subtype === "error") {
      failed(`Error: ${message.response.error}`)
      return
    }
    const decoded = decodePermissionResult(message.response.response)
    if (Result.isFailure(decoded)) {
      failed(decoded.failure.message)
      return
    }
    const result = decoded.success
    if (result.behavior === "deny") {
      pending.resolve({
        behavior: "deny",
        message: result.message,
        interrupt: result.interrupt === true,
        denial: true,
      })
      return
    }
    const updated = result.updatedInput?.command
    if (result.updatedInput !== undefined && (typeof updated !== "string" || updated.trim() === "")) {
      failed(`updatedInput.command must be a non-empty string, got ${JSON.stringify(updated) ?? "nothing"}`)
      return
    }
    pending.resolve({ behavior: "allow", command: typeof updated === "string" ? updated : pending.command })
  }

  private kick(): void {
    if (this.turn !== undefined) return
    const next = this.queue.shift()
    if (next === undefined) {
      if (this.inputEnded) this.resolveDone()
      return
    }
    const turn: Turn = { abort: undefined, pending: undefined, running: undefined }
    this.turn = turn
    this.runTurn(turn, next).then(
      () => this.endTurn(),
      (err: unknown) => {
        // A bug, not a protocol event: say so on stderr and keep serving the session.
        this.options.log(`agenthost agent: AGH_INTERNAL: turn failed: ${String(err)}`)
        this.endTurn()
      },
    )
  }

  private endTurn(): void {
    this.turn = undefined
    this.kick()
  }

  private nextMessageId(): string {
    this.messageCount += 1
    return `msg_builtin_${this.messageCount}`
  }

  private async runTurn(turn: Turn, prompt: QueuedPrompt): Promise<void> {
    const { emit, clock } = this.options
    const started = clock.now()
    if (prompt.uuid !== undefined) emit(lifecycle(this.ctx, prompt.uuid, "started"))
    emit(
      systemInit(this.ctx, {
        cwd: this.options.cwd,
        permissionMode: this.mode,
        version: this.options.version,
      }),
    )
    const commands = promptCommands(prompt.text)
    let messageId = this.nextMessageId()
    const opening =
      commands.length === 0 ? `You said: ${prompt.text}` : `I will run ${plural(commands.length, "command")}.`
    emit(assistant(this.ctx, messageId, { type: "text", text: opening }, prompt.uuid))

    const denials: PermissionDenial[] = []
    let numTurns = 1
    let succeeded = 0
    let failed = 0
    let denied = 0
    let interruptNotice = "[Request interrupted by user]"
    for (const command of commands) {
      if (turn.abort !== undefined) break
      this.toolCount += 1
      const toolUseId = `toolu_${this.toolCount}`
      const input = { command }
      emit(assistant(this.ctx, messageId, { type: "tool_use", id: toolUseId, name: "Bash", input }))
      numTurns += 1
      messageId = this.nextMessageId()
      const decision = await this.permission(turn, toolUseId, command)
      if (decision.behavior === "aborted") {
        emit(
          toolResult(
            this.ctx,
            toolUseId,
            "The user doesn't want to proceed with this tool use. The tool use was rejected.",
            true,
            "Error: permission request withdrawn (interrupted by user)",
          ),
        )
        break
      }
      if (decision.behavior === "deny") {
        denied += 1
        if (decision.denial) denials.push({ tool_name: "Bash", tool_use_id: toolUseId, tool_input: input })
        emit(toolResult(this.ctx, toolUseId, decision.message, true, `Error: ${decision.message}`))
        if (decision.interrupt && turn.abort === undefined) turn.abort = "aborted_streaming"
        continue
      }
      // An interrupt between the answer and here still ends the turn before anything runs; the tool use
      // gets its result all the same, as every tool_use must.
      if (turn.abort !== undefined) {
        const note = "[command not started: interrupted by user]"
        emit(toolResult(this.ctx, toolUseId, note, true, `Error: ${note}`))
        break
      }
      const running = this.options.runner.run(decision.command, {
        cwd: this.options.cwd,
        timeoutMs: this.options.commandTimeoutMs,
      })
      turn.running = running
      const outcome = await running.outcome
      turn.running = undefined
      const { content, data } = bashResult(outcome, this.options.commandTimeoutMs)
      const isError = outcome.exitCode !== 0
      if (isError) failed += 1
      else succeeded += 1
      emit(toolResult(this.ctx, toolUseId, content, isError, data))
      if (outcome.interrupted) interruptNotice = "[Request interrupted by user for tool use]"
    }

    const finish = (text: string, terminalReason: TerminalReason) =>
      emit(
        turnResult(this.ctx, {
          text,
          terminalReason,
          durationMs: Math.max(0, clock.now() - started),
          numTurns,
          resultIndex: this.resultIndex++,
          denials,
          userMessageUuid: prompt.uuid,
        }),
      )
    if (turn.abort !== undefined) {
      emit(userNotice(this.ctx, interruptNotice))
      finish(interruptNotice, turn.abort)
      if (prompt.uuid !== undefined) emit(lifecycle(this.ctx, prompt.uuid, "cancelled"))
      return
    }
    const closing =
      commands.length === 0
        ? opening
        : `Finished ${plural(commands.length, "command")}: ${succeeded} succeeded, ${failed} failed, ${denied} denied.`
    if (commands.length > 0) emit(assistant(this.ctx, messageId, { type: "text", text: closing }))
    finish(closing, "completed")
    if (prompt.uuid !== undefined) emit(lifecycle(this.ctx, prompt.uuid, "completed"))
  }

  private permission(turn: Turn, toolUseId: string, command: string): Promise<Decision> {
    if (this.mode === "bypassPermissions") return Promise.resolve({ behavior: "allow", command })
    const refusal =
      this.mode === "dontAsk"
        ? "permission mode is dontAsk"
        : !this.options.canPrompt
          ? "no permission prompt tool (start the agent with --permission-prompt-tool stdio)"
          : this.inputEnded
            ? "stdin is closed, nobody can answer a permission request"
            : undefined
    if (refusal !== undefined) {
      const message = `Permission to use Bash was denied: ${refusal}`
      this.options.emit(permissionDenied(this.ctx, toolUseId, message))
      return Promise.resolve({ behavior: "deny", message, interrupt: false, denial: true })
    }
    this.permissionCount += 1
    const requestId = `perm_${this.permissionCount}`
    const request = canUseBashRequest(requestId, toolUseId, command)
    return new Promise<Decision>((resolve) => {
      turn.pending = {
        requestId,
        request,
        command,
        resolve: (decision) => {
          turn.pending = undefined
          resolve(decision)
        },
      }
      this.options.emit(request)
    })
  }
}
