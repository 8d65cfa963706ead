/**
 * Replay + verify throughput beside the raw costs it is made of, measured in the same run: xstate
 * `actor.send` with an `assign` (the brief's baseline), `actor.send` of the very same session events to the
 * session machine with nothing logged (the like-for-like baseline the target applies to), and
 * @msgpack/msgpack decode of the same records (what reading them from a file costs on top).
 */
import { decode, encode } from "@msgpack/msgpack"
import { Effect, Exit, Scope, Stream } from "effect"
import { assign, createActor, setup } from "xstate"
import { Clock, ManualClock } from "../src/adapters/clock.js"
import { makeMachineRuntime } from "../src/effects/machineRuntime.js"
import type { LogRecord } from "../src/eventlog/logRecord.js"
import { makeMemoryEventLog } from "../src/eventlog/memoryEventLog.js"
import { makeReplayer } from "../src/eventlog/replay.js"
import { sessionMachineDefinition } from "../src/machines/machineRegistry.js"
import { SESSION_EVENT, type SessionEvent, sessionMachine } from "../src/machines/sessionMachine.js"
import { type Bench, median, opsPerSecond } from "./harness.js"

const TURNS = 2_000
const REPS = 7

/** A busy session: per turn a user message, ~20 agent messages (one TodoWrite), a permission round trip, a result. */
function sessionEvents(): SessionEvent[] {
  const events: SessionEvent[] = [{ type: SESSION_EVENT.agentReady, at: 1, pid: 4242 }]
  let at = 2
  for (let turn = 0; turn < TURNS; turn++) {
    events.push({
      type: SESSION_EVENT.userMessage,
      at: at++,
      messageId: `m${turn}`,
      content: `do thing ${turn}`,
    })
    for (let i = 0; i < 20; i++) {
      const message =
        i === 3
          ? {
              type: "assistant",
              message: {
                content: [
                  {
                    type: "tool_use",
                    name: "TodoWrite",
                    input: {
                      todos: [{ content: `step ${turn}`, status: "in_progress", activeForm: "Working" }],
                    },
                  },
                ],
              },
            }
          : i % 3 === 0
            ? { type: "user", message: { role: "user", content: [{ type: "tool_result", content: "ok" }] } }
            : { type: "assistant", message: { content: [{ type: "text", text: `line ${i}` }] } }
      events.push({ type: SESSION_EVENT.agentMessage, at: at++, message })
    }
    events.push({
      type: SESSION_EVENT.permissionRequested,
      at: at++,
      requestId: `r${turn}`,
      toolName: "Bash",
      toolUseId: `t${turn}`,
    })
    events.push({
      type: SESSION_EVENT.permissionAnswered,
      at: at++,
      requestId: `r${turn}`,
      behavior: "allow",
      clientId: "c1",
    })
    events.push({
      type: SESSION_EVENT.turnCompleted,
      at: at++,
      result: { type: "result", subtype: "success", is_error: false, num_turns: 1, duration_ms: 12 },
    })
  }
  return events
}

/** The events run live through the machine runtime on a memory log: the records replay reads. */
async function recordLog(events: ReadonlyArray<SessionEvent>): Promise<ReadonlyArray<LogRecord>> {
  const clock = new ManualClock(1_700_000_000_000)
  const log = await Effect.runPromise(makeMemoryEventLog.pipe(Effect.provide(Clock.layerTest(clock))))
  const scope = await Effect.runPromise(Scope.make())
  const writer = await Effect.runPromise(log.open("bench").pipe(Scope.provide(scope)))
  const runtime = makeMachineRuntime(writer, { clock })
  const actor = await runtime.startAsync(sessionMachineDefinition, {
    actorId: "session",
    input: { sessionId: "s_bench", agent: "builtin", workDir: "/tmp", createdAt: 0, startTimeoutMs: 0 },
  })
  for (const event of events) actor.post(event)
  await runtime.flushAsync()
  const records = await Effect.runPromise(Stream.runCollect(log.read("bench")))
  await Effect.runPromise(Scope.close(scope, Exit.void))
  return records
}

const counterMachine = setup({
  types: { context: {} as { count: number }, events: {} as { type: "inc" } },
}).createMachine({
  context: { count: 0 },
  on: { inc: { actions: assign({ count: ({ context }) => context.count + 1 }) } },
})

export const replayBench: Bench = async () => {
  const events = sessionEvents()
  const records = await recordLog(events)
  const n = records.length
  const encoded = records.map((r) => encode(r))

  const input = { sessionId: "s_bench", agent: "builtin", workDir: "/tmp", createdAt: 0, startTimeoutMs: 0 }
  const inc = { type: "inc" as const }
  let ok = 0
  const measures = {
    rawAssign: () =>
      opsPerSecond(n, () => {
        const actor = createActor(counterMachine).start()
        for (let i = 0; i < n; i++) actor.send(inc)
        actor.stop()
      }),
    rawSession: () =>
      opsPerSecond(events.length, () => {
        const actor = createActor(sessionMachine, { input }).start()
        for (const event of events) actor.send(event)
        actor.stop()
      }),
    replay: () =>
      opsPerSecond(n, () => {
        const replayer = makeReplayer()
        ok = 0
        for (const record of records) if (replayer.step(record).status === "ok") ok++
      }),
    decode: () =>
      opsPerSecond(n, () => {
        for (const bytes of encoded) decode(bytes)
      }),
    decodeReplay: () =>
      opsPerSecond(n, () => {
        const replayer = makeReplayer()
        for (const bytes of encoded) replayer.step(decode(bytes) as LogRecord)
      }),
  }
  // Warm-up, then interleave: on a shared, noisy machine each repetition measures every variant back to
  // back, so load changes hit all of them alike; medians per variant.
  for (const measure of Object.values(measures)) await measure()
  const samples: Record<keyof typeof measures, number[]> = {
    rawAssign: [],
    rawSession: [],
    replay: [],
    decode: [],
    decodeReplay: [],
  }
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, measure] of Object.entries(measures)) {
      samples[name as keyof typeof measures].push(await measure())
    }
  }
  if (ok !== n) throw new Error(`replay bench: only ${ok} of ${n} records verified`)
  const rawAssign = median(samples.rawAssign)
  const rawSession = median(samples.rawSession)
  const replay = median(samples.replay)
  const decodeRate = median(samples.decode)
  const decodeReplay = median(samples.decodeReplay)

  return {
    title: `replay (${n.toLocaleString("en-US")} session records, median of ${REPS})`,
    rows: [
      { name: "raw xstate actor.send + assign (counter)", value: rawAssign, unit: "events/s" },
      { name: "raw xstate actor.send, session machine, same events", value: rawSession, unit: "events/s" },
      {
        name: "replay + verify (vs counter assign)",
        value: replay,
        unit: "events/s",
        baseline: "raw xstate actor.send + assign (counter)",
      },
      {
        name: "replay + verify (vs same-machine send)",
        value: replay,
        unit: "events/s",
        baseline: "raw xstate actor.send, session machine, same events",
        target: 0.8,
      },
      { name: "raw @msgpack/msgpack decode", value: decodeRate, unit: "records/s" },
      {
        name: "msgpack decode + replay + verify",
        value: decodeReplay,
        unit: "records/s",
        baseline: "raw @msgpack/msgpack decode",
      },
    ],
  }
}
