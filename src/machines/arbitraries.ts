/**
 * fast-check arbitraries for the machines' inputs and events (exported from `agenthost/testing`). Ids are
 * drawn from small pools on purpose: answers then hit pending requests, messages collide, and the
 * interesting transitions happen often instead of once in a blue moon.
 */
import fc from "fast-check"
import { CONNECTION_EVENT, type ConnectionEvent, type ConnectionInput } from "./connectionTypes.js"
import {
  CRON_TASK_EVENT,
  type CronTaskEvent,
  type CronTaskInput,
  type CronTaskJitterConfig,
} from "./cronTaskTypes.js"
import { type SdkMessage, SESSION_EVENT, type SessionEvent, type SessionInput } from "./sessionTypes.js"

const T0 = 1_767_225_600_000 // 2026-01-01T00:00:00Z
const atArb = fc.integer({ min: T0, max: T0 + 3_600_000 })
const requestIdArb = fc.constantFrom("r1", "r2", "r3")
const messageIdArb = fc.constantFrom("m1", "m2", "m3", "m4", "m5")
const clientIdArb = fc.constantFrom("alice", "bob")

/** One step of a script run against a live actor: send an event, or let the injected clock run. */
export type MachineStep<E> =
  | { readonly kind: "send"; readonly event: E }
  | { readonly kind: "advance"; readonly ms: number }

/** Scripts mixing events and clock advances (so delayed events fire), up to `maxLength` steps. */
export function machineStepsArb<E>(
  eventArb: fc.Arbitrary<E>,
  options: { readonly maxLength?: number; readonly maxAdvanceMs?: number } = {},
): fc.Arbitrary<ReadonlyArray<MachineStep<E>>> {
  const step: fc.Arbitrary<MachineStep<E>> = fc.oneof(
    { weight: 4, arbitrary: eventArb.map((event) => ({ kind: "send" as const, event })) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 0, max: options.maxAdvanceMs ?? 5_000 })
        .map((ms) => ({ kind: "advance" as const, ms })),
    },
  )
  return fc.array(step, { maxLength: options.maxLength ?? 40, size: "max" })
}

/**
 * Scripts that usually begin with the event that gets the machine going (`agentReady`, `opened`...), so
 * the runs spend their steps in `running` rather than dying in `starting`.
 */
export function startedStepsArb<E>(
  first: fc.Arbitrary<E>,
  eventArb: fc.Arbitrary<E>,
  options: { readonly maxLength?: number; readonly maxAdvanceMs?: number } = {},
): fc.Arbitrary<ReadonlyArray<MachineStep<E>>> {
  const steps = machineStepsArb(eventArb, options)
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(first, steps).map(([event, rest]) => [{ kind: "send" as const, event }, ...rest]),
    },
    { weight: 1, arbitrary: steps },
  )
}

/** Valid session inputs (timeouts among 0, short and long ones). */
export const sessionInputArb: fc.Arbitrary<SessionInput> = fc.record(
  {
    sessionId: fc.constantFrom("s_000000000000000000000001", "s_abc"),
    agent: fc.constantFrom("builtin", "claude"),
    workDir: fc.constantFrom("/tmp/w", "/srv/work dir"),
    createdAt: fc.constant(T0),
    title: fc.string({ maxLength: 12 }),
    skipPermissions: fc.boolean(),
    permissionTimeoutMs: fc.constantFrom(0, 1_000, 30_000),
    startTimeoutMs: fc.constantFrom(0, 2_000, 30_000),
  },
  { requiredKeys: ["sessionId", "agent", "workDir", "createdAt"] },
)

const todoWriteArb: fc.Arbitrary<SdkMessage> = fc
  .array(
    fc.record(
      {
        content: fc.string({ maxLength: 10 }),
        status: fc.constantFrom("pending", "in_progress", "completed"),
        activeForm: fc.string({ maxLength: 10 }),
      },
      { requiredKeys: ["content", "status"] },
    ),
    { maxLength: 4 },
  )
  .map((todos) => ({
    type: "assistant",
    message: { content: [{ type: "tool_use", id: "toolu_1", name: "TodoWrite", input: { todos } }] },
  }))

const sdkMessageArb: fc.Arbitrary<SdkMessage> = fc.oneof(
  fc.constant<SdkMessage>({ type: "system", subtype: "init", session_id: "x" }),
  fc
    .string({ maxLength: 20 })
    .map((text) => ({ type: "assistant", message: { content: [{ type: "text", text }] } })),
  fc.constant<SdkMessage>({
    type: "user",
    message: { role: "user", content: [{ type: "tool_result", content: "ok" }] },
  }),
  fc.constantFrom("stream_event", "command_lifecycle", "rate_limit_event").map((type) => ({ type })),
  todoWriteArb,
)

const resultArb: fc.Arbitrary<SdkMessage> = fc.record({
  type: fc.constant("result"),
  subtype: fc.constantFrom("success", "error_during_execution"),
  is_error: fc.boolean(),
  num_turns: fc.nat(5),
  duration_ms: fc.nat(10_000),
  total_cost_usd: fc.constantFrom(0, 0.25),
})

/** `session.agentReady`: what gets a session from `starting` to `running`. */
export const sessionReadyArb: fc.Arbitrary<SessionEvent> = fc.record({
  type: fc.constant(SESSION_EVENT.agentReady),
  at: atArb,
  pid: fc.nat(99_999),
})

/** Every session event type, delayed ones included (a script may send those directly too). */
export const sessionEventArb: fc.Arbitrary<SessionEvent> = fc.oneof(
  { weight: 2, arbitrary: sessionReadyArb },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant(SESSION_EVENT.agentFailedToStart),
      at: atArb,
      message: fc.constant("spawn ENOENT"),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: SESSION_EVENT.startTimedOut }) },
  {
    weight: 10,
    arbitrary: fc.record({
      type: fc.constant(SESSION_EVENT.userMessage),
      at: atArb,
      messageId: messageIdArb,
      content: fc.oneof(fc.string({ maxLength: 16 }), fc.constant([{ type: "text", text: "$ ls" }])),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant(SESSION_EVENT.agentMessage),
      at: atArb,
      message: sdkMessageArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        type: fc.constant(SESSION_EVENT.permissionRequested),
        at: atArb,
        requestId: requestIdArb,
        toolName: fc.constantFrom("Bash", "Edit"),
        toolUseId: fc.constant("toolu_1"),
      },
      { requiredKeys: ["type", "at", "requestId", "toolName"] },
    ),
  },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        type: fc.constant(SESSION_EVENT.permissionAnswered),
        at: atArb,
        requestId: requestIdArb,
        behavior: fc.constantFrom("allow" as const, "deny" as const),
        updatedInput: fc.constant({ command: "ls -l" }),
        message: fc.constant("no"),
        interrupt: fc.boolean(),
        clientId: clientIdArb,
      },
      { requiredKeys: ["type", "at", "requestId", "behavior"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant(SESSION_EVENT.permissionCancelled),
      at: atArb,
      requestId: requestIdArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant(SESSION_EVENT.permissionTimedOut), requestId: requestIdArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        type: fc.constant(SESSION_EVENT.interruptRequested),
        at: atArb,
        clientId: clientIdArb,
        cancelQueued: fc.boolean(),
      },
      { requiredKeys: ["type", "at"] },
    ),
  },
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant(SESSION_EVENT.turnCompleted), at: atArb, result: resultArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { type: fc.constant(SESSION_EVENT.closeRequested), at: atArb, reason: fc.constant("done") },
      { requiredKeys: ["type", "at"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant(SESSION_EVENT.agentExited),
      at: atArb,
      code: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
      signal: fc.option(fc.constantFrom("SIGTERM", "SIGKILL"), { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { type: fc.constant(SESSION_EVENT.killRequested), at: atArb, reason: fc.constant("DELETE") },
      { requiredKeys: ["type", "at"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant(SESSION_EVENT.protocolError),
      at: atArb,
      code: fc.constant("AGH_PROTO_NOT_JSON"),
      message: fc.string({ maxLength: 10 }),
    }),
  },
)

/** Valid connection inputs, both sides, small reconnect budgets. */
export const connectionInputArb: fc.Arbitrary<ConnectionInput> = fc.record(
  {
    connectionId: fc.constantFrom("c1", "c2"),
    side: fc.constantFrom("host" as const, "client" as const),
    sessionId: fc.constant("s_abc"),
    afterSeq: fc.nat(20),
    maxBadFrames: fc.nat(4),
    reconnect: fc.record({
      initialDelayMs: fc.integer({ min: 0, max: 1_000 }),
      maxDelayMs: fc.integer({ min: 0, max: 4_000 }),
      maxAttempts: fc.nat(4),
    }),
  },
  { requiredKeys: ["connectionId", "side"] },
)

/** `connection.opened`: what gets a connection from `starting` to `running.open`. */
export const connectionOpenedArb: fc.Arbitrary<ConnectionEvent> = fc.record({
  type: fc.constant(CONNECTION_EVENT.opened),
  at: atArb,
})

/** Every connection event type, the delayed `retryDue` included. */
export const connectionEventArb: fc.Arbitrary<ConnectionEvent> = fc.oneof(
  { weight: 2, arbitrary: connectionOpenedArb },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant(CONNECTION_EVENT.authFailed),
      at: atArb,
      message: fc.constant("401"),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record(
      { type: fc.constant(CONNECTION_EVENT.messageReceived), at: atArb, seq: fc.nat(40) },
      { requiredKeys: ["type", "at"] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant(CONNECTION_EVENT.badFrame),
      at: atArb,
      code: fc.constant("AGH_WS_NOT_JSON"),
      message: fc.constant("not JSON"),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        type: fc.constant(CONNECTION_EVENT.dropped),
        at: atArb,
        code: fc.constantFrom(1001, 1006),
        reason: fc.constant("gone"),
      },
      { requiredKeys: ["type", "at"] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(CONNECTION_EVENT.retryDue), attempt: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant(CONNECTION_EVENT.reconnected), at: atArb }) },
  {
    weight: 1,
    arbitrary: fc.record(
      { type: fc.constant(CONNECTION_EVENT.closeRequested), at: atArb, reason: fc.constant("bye") },
      { requiredKeys: ["type", "at"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { type: fc.constant(CONNECTION_EVENT.kill), at: atArb, reason: fc.constant("kill") },
      { requiredKeys: ["type", "at"] },
    ),
  },
)

const jitterArb: fc.Arbitrary<CronTaskJitterConfig> = fc.record({
  recurringFrac: fc.constantFrom(0, 0.1, 1),
  recurringCapMs: fc.constantFrom(0, 900_000),
  oneShotMaxMs: fc.constant(90_000),
  oneShotFloorMs: fc.constant(0),
  oneShotMinuteMod: fc.constant(30),
  recurringMaxAgeMs: fc.constantFrom(10_000, 3_600_000),
})

/** Valid cron task inputs: recurring or one-shot, permanent or not, short max ages so expiry happens. */
export const cronTaskInputArb: fc.Arbitrary<CronTaskInput> = fc.record({
  task: fc.record(
    {
      id: fc.constantFrom("0a1b2c3d", "ffffffff"),
      cron: fc.constantFrom("* * * * *", "*/5 9-17 * * 1-5"),
      prompt: fc.string({ maxLength: 12 }),
      createdAt: fc.constant(T0),
      lastFiredAt: fc.integer({ min: T0, max: T0 + 60_000 }),
      recurring: fc.boolean(),
      permanent: fc.boolean(),
      durable: fc.boolean(),
      agentId: fc.constant("agent-1"),
    },
    { requiredKeys: ["id", "cron", "prompt", "createdAt"] },
  ),
  jitter: jitterArb,
})

/** `cronTask.scheduled` with a fire time near the clock (rarely null). */
export const cronTaskScheduledArb: fc.Arbitrary<CronTaskEvent> = fc.record({
  type: fc.constant(CRON_TASK_EVENT.scheduled),
  at: atArb,
  fireAt: fc.option(fc.integer({ min: T0 - 5_000, max: T0 + 20_000 }), { nil: null, freq: 8 }),
})

/** Fire times near the clock, some already past, so arming, firing, missing and expiring all happen. */
export const cronTaskEventArb: fc.Arbitrary<CronTaskEvent> = fc.oneof(
  { weight: 5, arbitrary: cronTaskScheduledArb },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(CRON_TASK_EVENT.fired), fireAt: atArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant(CRON_TASK_EVENT.missed), at: atArb, fireAt: atArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant(CRON_TASK_EVENT.skipped),
      at: atArb,
      fireAt: atArb,
      reason: fc.constant("lock held elsewhere"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(CRON_TASK_EVENT.expired), at: atArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(CRON_TASK_EVENT.deleted), at: atArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant(CRON_TASK_EVENT.invalid),
      at: atArb,
      message: fc.constant("bad cron"),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant(CRON_TASK_EVENT.configChanged), at: atArb, jitter: jitterArb }),
  },
)
