import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Effect, Layer, Stream } from "effect"
import { Clock, ManualClock } from "../src/adapters/clock.js"
import { sequentialIds } from "../src/adapters/ids.js"
import { type Durability, EventLog } from "../src/eventlog/eventLog.js"
import { fileEventLogLayer } from "../src/eventlog/fileEventLog.js"
import { openTriggerStore, type TriggerStore } from "../src/triggers/triggerStore.js"
import { TRIGGERS_STREAM } from "../src/triggers/triggerTypes.js"
import { type Bench, medianOf, opsPerSecond } from "./harness.js"

const TRIGGERS = 100
const RUNS = 5_000
const T0 = Date.UTC(2026, 0, 1)

function open(dir: string, durability: Durability): Promise<TriggerStore> {
  let n = 0
  return openTriggerStore({
    eventLog: fileEventLogLayer({ dir, durability }),
    clock: new ManualClock(T0),
    ids: sequentialIds(),
    settleRunning: false,
    launcher: async () => ({ sessionId: `s_${++n}`, done: Promise.resolve({ status: "completed" }) }),
  })
}

/** Raw baseline: read the stream's records and count them, decoding and checking frames but folding nothing. */
function rawRead(dir: string): Promise<number> {
  const layer = fileEventLogLayer({ dir }).pipe(Layer.provide(Layer.succeed(Clock, new ManualClock(T0))))
  return Effect.runPromise(
    Effect.gen(function* () {
      const log = yield* EventLog
      return yield* Stream.runCount(log.read(TRIGGERS_STREAM))
    }).pipe(Effect.provide(layer)),
  )
}

/**
 * The trigger store: how fast it records changes (each one appended and acknowledged before it applies),
 * and how fast opening folds a long log back, against reading the same log without folding it.
 */
export const triggersBench: Bench = async () => {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "agh-bench-triggers-"))
  try {
    const store = await open(dir, "none")
    const ids: string[] = []
    const creates = await opsPerSecond(TRIGGERS, async () => {
      for (let i = 0; i < TRIGGERS; i++) {
        const t = await store.create({
          name: `t${i}`,
          prompt: "p",
          project: { work_dir: "/w" },
          agent: "builtin",
        })
        ids.push(t.id)
      }
    })
    // Each run is two events: started, then finished once its session's `done` resolves.
    const runs = await opsPerSecond(RUNS, async () => {
      for (let i = 0; i < RUNS; i++) await store.fireTrigger(ids[i % TRIGGERS] as string, T0 + i, "manual")
      await store.settled()
    })
    await store.close()
    const events = TRIGGERS + 2 * RUNS

    const batchDir = fs.mkdtempSync(join(os.tmpdir(), "agh-bench-triggers-batch-"))
    const batch = await open(batchDir, "batch")
    const batchCreates = await opsPerSecond(200, async () => {
      for (let i = 0; i < 200; i++) {
        await batch.create({ name: `t${i}`, prompt: "p", project: { work_dir: "/w" }, agent: "builtin" })
      }
    })
    await batch.close()
    fs.rmSync(batchDir, { recursive: true, force: true })

    const read = await medianOf(5, () => opsPerSecond(events, async () => void (await rawRead(dir))))
    const fold = await medianOf(5, () =>
      opsPerSecond(events, async () => {
        const reopened = await open(dir, "none")
        await reopened.close()
      }),
    )
    return {
      title: `Trigger store (${TRIGGERS} triggers, ${RUNS} runs = ${events} events, file log)`,
      rows: [
        { name: "create, durability none (sequential)", value: creates, unit: "ops/s" },
        { name: "create, durability batch (sequential)", value: batchCreates, unit: "ops/s" },
        { name: "run started + finished, durability none", value: runs, unit: "runs/s" },
        { name: "read the stream raw (baseline)", value: read, unit: "events/s" },
        {
          name: "open: read + decode + fold",
          value: fold,
          unit: "events/s",
          baseline: "read the stream raw (baseline)",
        },
      ],
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
