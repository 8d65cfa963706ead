import * as Result from "effect/Result"
import type { AgentDefinition } from "../adapters/agentDefinition.js"
import type { AgentExit, AgentLauncherShape, AgentProcessHandle } from "../adapters/agentProcess.js"
import type { ClockShape } from "../adapters/clock.js"
import type { IdsShape } from "../adapters/ids.js"
import { sessionMachineDefinition } from "../machines/machineRegistry.js"
import type { SessionContext, SessionEvent, SessionInput } from "../machines/sessionTypes.js"
import {
  controlError,
  controlSuccess,
  initializeRequest,
  interruptRequest,
  userMessage,
} from "../protocol/hostMessages.js"
import type { StreamJsonItem } from "../protocol/streamJsonReader.js"
import type { MachineActor, MachineRuntime } from "./machineRuntime.js"
import type {
  PermissionAnswer,
  PermissionOutcome,
  SdkMessage,
  SeqMessage,
  SessionHandle,
  SessionInfo,
  SessionStatus,
} from "./sessionHandle.js"
import { historyEntriesOf } from "./sessionHistory.js"

type SessionActor = MachineActor<typeof sessionMachineDefinition>

export interface SessionRuntimeOptions {
  /** The runtime over the session's own event-log stream. */
  readonly runtime: MachineRuntime
  readonly input: SessionInput
  readonly agentDefinition: AgentDefinition
  readonly launcher: AgentLauncherShape
  readonly clock: ClockShape
  readonly ids: IdsShape
  /** The host's environment; the agent only sees what the allow-list lets through. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>
  readonly maxLineBytes?: number
  readonly killGraceMs?: number
  /** Agent stderr, for diagnostics (never logged into the event log: it may hold anything). */
  readonly onStderr?: (text: string) => void
}

/** A live session: the handle clients use, plus the actor for those who embed the runtime. */
export interface SessionRuntime extends SessionHandle {
  readonly actor: SessionActor
  /** The agent process, once spawned. */
  readonly agentPid: () => number | undefined
}

/** Where a session's state stands, in the vocabulary of the API (SPEC §4). */
export function sessionStatusOf(value: unknown): SessionStatus {
  if (value === "starting" || value === "completed" || value === "failed" || value === "killed") return value
  if (typeof value === "object" && value !== null && "running" in value) {
    const sub = (value as { running: unknown }).running
    if (sub === "idle" || sub === "awaiting_permission") return sub
    return "busy"
  }
  return "busy"
}

/** SessionInfo from the machine's context and state (shared by live and recovered sessions). */
export function sessionInfoOf(
  context: SessionContext,
  value: unknown,
  lastSeq: number,
  endTime?: number,
): SessionInfo {
  const info: SessionInfo = {
    id: context.sessionId,
    title: context.title ?? "",
    status: sessionStatusOf(value),
    agent: context.agent,
    work_dir: context.workDir,
    start_time: new Date(context.createdAt).toISOString(),
    todo_list: context.todoList,
    last_seq: lastSeq,
    pending_permissions: Object.keys(context.pendingPermissions).length,
    dangerously_skip_permissions: context.skipPermissions,
  }
  const end = context.endReason
  if (end === null) return info
  return { ...info, end_time: new Date(endTime ?? end.at).toISOString(), end_reason: end.message }
}

/**
 * Starts a session: a sessionMachine on its own log stream driving one agent process over stream-json.
 * The machine decides; this module only translates between the agent's lines, the machine's events and
 * the clients' history. Every input becomes a logged event first, so `agenthost replay --verify`
 * reproduces the session from its log.
 */
export async function startSessionRuntime(options: SessionRuntimeOptions): Promise<SessionRuntime> {
  const { clock, ids, launcher } = options
  let agent: AgentProcessHandle | undefined
  let initRequestId: string | undefined
  const history: SeqMessage[] = []
  const listeners = new Set<(message: SeqMessage) => void>()
  // Agent output that arrives before the history subscription exists waits here (scripted agents answer
  // synchronously, inside the machine's start).
  let attached = false
  const beforeAttach: Array<() => void> = []
  let actorRef: SessionActor | undefined
  const post = (event: SessionEvent) => {
    const run = () => {
      if (actorRef && !actorRef.isDone()) actorRef.post(event)
    }
    if (attached) run()
    else beforeAttach.push(run)
  }

  const onItem = (item: StreamJsonItem) => {
    const at = clock.now()
    if (Result.isFailure(item)) {
      post({ type: "session.protocolError", at, code: item.failure.code, message: item.failure.message })
      return
    }
    const decoded = item.success
    switch (decoded.kind) {
      case "control_response": {
        const response = decoded.message.response
        if (response.request_id !== initRequestId) return // interrupt acks, replayed answers: nothing to do
        initRequestId = undefined
        if (response.subtype === "success") {
          post(
            agent?.pid === undefined
              ? { type: "session.agentReady", at }
              : { type: "session.agentReady", at, pid: agent.pid },
          )
        } else {
          post({
            type: "session.agentFailedToStart",
            at,
            message: `initialize failed: ${String(response.error)}`,
          })
        }
        return
      }
      case "control_request/can_use_tool": {
        const m = decoded.message
        post({
          type: "session.permissionRequested",
          at,
          requestId: m.request_id,
          toolName: m.request.tool_name,
          ...(typeof m.request.tool_use_id === "string" ? { toolUseId: m.request.tool_use_id } : {}),
          request: m as unknown as SdkMessage,
        })
        return
      }
      case "control_request/initialize":
      case "control_request/interrupt":
      case "control_request/set_permission_mode":
      case "control_request": {
        // Hooks, MCP and dialogs are not offered to agents (initialize registers none): say so at once, so
        // the agent never waits on an answer that will not come.
        const m = decoded.message
        agent?.write(
          controlError(
            m.request_id,
            `Unsupported control request subtype: ${m.request.subtype}`,
            "unsupported_request",
          ),
        )
        return
      }
      case "control_cancel_request":
        post({ type: "session.permissionCancelled", at, requestId: decoded.message.request_id })
        return
      case "result":
        post({ type: "session.turnCompleted", at, result: decoded.message as unknown as SdkMessage })
        return
      case "keep_alive":
        return
      default:
        post({ type: "session.agentMessage", at, message: decoded.message as unknown as SdkMessage })
    }
  }

  const onExit = (exit: AgentExit) => {
    const at = clock.now()
    if (exit.error !== undefined && initRequestId !== undefined) {
      post({
        type: "session.agentFailedToStart",
        at,
        message: `could not start agent: ${exit.error}`,
        code: "AGH_AGENT_SPAWN",
      })
      return
    }
    post({ type: "session.agentExited", at, code: exit.code, signal: exit.signal })
  }

  const actor = await options.runtime.startAsync(sessionMachineDefinition, {
    actorId: "session",
    input: options.input,
    effects: {
      spawnAgent: (params) => {
        agent = launcher.spawn(
          {
            definition: options.agentDefinition,
            cwd: params.workDir,
            skipPermissions: params.skipPermissions,
            hostEnv: options.hostEnv,
            env: { AGENTHOST_SESSION_ID: params.sessionId },
            ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
          },
          { onItem, onStderr: (text) => options.onStderr?.(text), onExit },
        )
        initRequestId = ids.requestId()
        agent.write(initializeRequest(initRequestId))
      },
      sendToAgent: (params) => {
        agent?.write(
          userMessage(params.content as never, {
            sessionId: options.input.sessionId,
            uuid: params.messageId,
          }),
        )
      },
      answerPermission: (params) => {
        const response =
          params.behavior === "allow"
            ? { behavior: "allow", ...(params.updatedInput ? { updatedInput: params.updatedInput } : {}) }
            : {
                behavior: "deny",
                message: params.message ?? "denied",
                ...(params.interrupt ? { interrupt: true } : {}),
              }
        agent?.write(controlSuccess(params.requestId, response))
      },
      interruptAgent: () => {
        agent?.write(interruptRequest(ids.requestId()))
      },
      closeAgentInput: () => agent?.closeStdin(),
      killAgent: () => {
        void agent?.kill(options.killGraceMs)
      },
    },
  })
  actorRef = actor

  // `context` follows the machine, for diffing; `published` is what the outside sees, and moves only
  // once the log acknowledged the record: a status or message a client saw survives a host crash.
  let context = actor.getSnapshot().context
  let published: { readonly context: SessionContext; readonly value: unknown; readonly done: boolean } = {
    context,
    value: actor.getSnapshot().value,
    done: actor.isDone(),
  }
  let resolveDone: (info: SessionInfo) => void = () => {}
  const done = new Promise<SessionInfo>((resolve) => {
    resolveDone = resolve
  })
  const info = (): SessionInfo => sessionInfoOf(published.context, published.value, history.length)
  actor.subscribe((snapshot, event, ack) => {
    const entries = historyEntriesOf(context, event as SessionEvent, snapshot.context)
    context = snapshot.context
    const publish = () => {
      published = { context: snapshot.context, value: snapshot.value, done: snapshot.status === "done" }
      for (const entry of entries) {
        const message = { ...entry, seq: history.length + 1 } as SeqMessage
        history.push(message)
        for (const listener of listeners) listener(message)
      }
      if (published.done) resolveDone(info())
    }
    // Acknowledgements resolve in log order, so publishing in their reactions keeps the history in order.
    // A failed append is published all the same (the log error is reported on its own path): hiding what
    // the agent said would leave clients waiting on a session that went on without them.
    ack.then(publish, publish)
  })
  attached = true
  for (const run of beforeAttach.splice(0)) run()

  const handle: SessionRuntime = {
    id: options.input.sessionId,
    actor,
    agentPid: () => agent?.pid,
    info,
    history: (afterSeq = 0) => history.slice(Math.max(0, afterSeq)),
    subscribe(afterSeq, listener) {
      // Synchronous catch-up then live: nothing can be appended in between, so no gap and no duplicate.
      for (const message of history.slice(Math.max(0, afterSeq))) listener(message)
      const live = (message: SeqMessage) => {
        if (message.seq > afterSeq) listener(message)
      }
      listeners.add(live)
      return () => listeners.delete(live)
    },
    pendingPermissions() {
      if (published.done) return []
      const pending = published.context.pendingPermissions
      return history.filter(
        (m) =>
          m.type === "control_request" &&
          typeof m.request_id === "string" &&
          pending[m.request_id] !== undefined,
      )
    },
    async sendUserMessage(message) {
      const inner = (message as { message?: { content?: unknown } }).message
      const content = inner?.content ?? ""
      await actor.sendAsync({ type: "session.userMessage", at: clock.now(), messageId: ids.uuid(), content })
    },
    async answerPermission(
      requestId,
      answer: PermissionAnswer,
      clientId?: string,
    ): Promise<PermissionOutcome> {
      const ctx = actor.getSnapshot().context
      const outcome: PermissionOutcome =
        ctx.pendingPermissions[requestId] !== undefined
          ? "accepted"
          : ctx.recentPermissions.some((p) => p.requestId === requestId)
            ? "already_answered"
            : "unknown_request"
      if (actor.isDone()) return outcome === "accepted" ? "already_answered" : outcome
      const event =
        answer.behavior === "allow"
          ? {
              type: "session.permissionAnswered",
              at: clock.now(),
              requestId,
              behavior: "allow",
              ...(answer.updatedInput ? { updatedInput: answer.updatedInput } : {}),
              ...(clientId ? { clientId } : {}),
            }
          : {
              type: "session.permissionAnswered",
              at: clock.now(),
              requestId,
              behavior: "deny",
              message: answer.message,
              ...(answer.interrupt ? { interrupt: true } : {}),
              ...(clientId ? { clientId } : {}),
            }
      await actor.sendAsync(event)
      return outcome
    },
    async interrupt() {
      if (actor.isDone()) return
      await actor.sendAsync({ type: "session.interruptRequested", at: clock.now() })
    },
    async close(reason) {
      if (actor.isDone()) return
      await actor.sendAsync(
        reason === undefined
          ? { type: "session.closeRequested", at: clock.now() }
          : { type: "session.closeRequested", at: clock.now(), reason },
      )
    },
    async kill(reason) {
      if (!actor.isDone()) {
        await actor.sendAsync(
          reason === undefined
            ? { type: "session.killRequested", at: clock.now() }
            : { type: "session.killRequested", at: clock.now(), reason },
        )
      }
      await agent?.kill(options.killGraceMs)
    },
    whenDone: () => done,
  }
  if (published.done) resolveDone(info())
  return handle
}
