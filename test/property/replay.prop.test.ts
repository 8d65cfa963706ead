import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { AnyMachineSnapshot } from "xstate"
import type { EventBody, LogRecord } from "../../src/eventlog/logRecord.js"
import { replayLog, verifyLog } from "../../src/eventlog/replay.js"
import {
  connectionEventArb,
  connectionInputArb,
  connectionOpenedArb,
  cronTaskEventArb,
  cronTaskInputArb,
  cronTaskScheduledArb,
  type MachineStep,
  sessionEventArb,
  sessionInputArb,
  sessionReadyArb,
  startedStepsArb,
} from "../../src/machines/arbitraries.js"
import type { AnyMachineDefinition, InputOf } from "../../src/machines/machineDefinition.js"
import {
  connectionMachineDefinition,
  cronTaskMachineDefinition,
  sessionMachineDefinition,
} from "../../src/machines/machineRegistry.js"
import { contextDigest } from "../../src/machines/stateDigest.js"
import { runtimeHarness } from "../effects/runtimeHarness.js"

interface LiveState {
  readonly value: unknown
  readonly digest: string
}

/**
 * Runs a script live through the machine runtime on the memory log and returns the log and the live states
 * the actor went through (initial one first), each read off the running actor, not off the log.
 */
async function runLive<D extends AnyMachineDefinition>(
  definition: D,
  input: InputOf<D>,
  steps: ReadonlyArray<MachineStep<unknown>>,
): Promise<{ readonly records: ReadonlyArray<LogRecord>; readonly live: ReadonlyArray<LiveState> }> {
  const h = await runtimeHarness()
  try {
    const actor = await h.runtime.startAsync(definition, { actorId: "a", input })
    const live: LiveState[] = []
    const first = actor.getSnapshot() as AnyMachineSnapshot
    live.push({ value: first.value, digest: contextDigest(first.context) })
    actor.subscribe((s) => {
      const snapshot = s as AnyMachineSnapshot
      live.push({ value: snapshot.value, digest: contextDigest(snapshot.context) })
    })
    for (const step of steps) {
      if (step.kind === "advance") {
        // Flush first so every record is stamped before the clock moves on.
        await h.runtime.flushAsync()
        h.clock.advance(step.ms)
      } else {
        // Events after the machine is final are refused by design; replay must agree either way.
        await actor.sendAsync(step.event).catch(() => {})
      }
    }
    return { records: await h.records(), live }
  } finally {
    await h.close()
  }
}

function expectReplayMatches(records: ReadonlyArray<LogRecord>, live: ReadonlyArray<LiveState>): void {
  const entries = [...replayLog(records)].filter((e) => e.kind !== "note")
  expect(entries.map((e) => e.status)).toEqual(entries.map(() => "ok"))
  expect(entries.map((e) => ({ value: e.after, digest: e.digest }))).toEqual(live)
}

const NUM_RUNS = 100

describe("replay ≡ live", () => {
  it("session: random scripts replayed from the log give the live state and context at every step", async () => {
    await fc.assert(
      fc.asyncProperty(
        sessionInputArb,
        startedStepsArb(sessionReadyArb, sessionEventArb),
        async (input, steps) => {
          const { records, live } = await runLive(sessionMachineDefinition, input, steps)
          expectReplayMatches(records, live)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it("connection: the same, back-off timers included", async () => {
    await fc.assert(
      fc.asyncProperty(
        connectionInputArb,
        startedStepsArb(connectionOpenedArb, connectionEventArb),
        async (input, steps) => {
          const { records, live } = await runLive(connectionMachineDefinition, input, steps)
          expectReplayMatches(records, live)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it("cronTask: the same, fires and expiries on the clock included", async () => {
    await fc.assert(
      fc.asyncProperty(
        cronTaskInputArb,
        startedStepsArb(cronTaskScheduledArb, cronTaskEventArb, { maxAdvanceMs: 15_000 }),
        async (input, steps) => {
          const { records, live } = await runLive(cronTaskMachineDefinition, input, steps)
          expectReplayMatches(records, live)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it("a tampered record is reported as the first divergence, at its seq", async () => {
    await fc.assert(
      fc.asyncProperty(
        sessionInputArb,
        startedStepsArb(sessionReadyArb, sessionEventArb, { maxLength: 25 }),
        fc.nat(),
        fc.constantFrom("state" as const, "digest" as const),
        async (input, steps, pick, what) => {
          const { records } = await runLive(sessionMachineDefinition, input, steps)
          const events = records.filter((r): r is LogRecord<EventBody> => r.body.type === "event")
          fc.pre(events.length > 0)
          const target = events[pick % events.length] as LogRecord<EventBody>
          const body = target.body
          const tamperedBody: EventBody =
            what === "state"
              ? { ...body, state: "tampered" }
              : { ...body, digest: body.digest === "00000000" ? "00000001" : "00000000" }
          const tampered = records.map((r) => (r.seq === target.seq ? { ...r, body: tamperedBody } : r))
          const result = verifyLog(tampered)
          if (Result.isSuccess(result)) throw new Error(`tampering with record ${target.seq} went unnoticed`)
          expect(result.failure.code).toBe("AGH_REPLAY_DIVERGED")
          expect(result.failure.seq).toBe(target.seq)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })
})
