import { Deferred, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeLogBatcher } from "../../src/effects/logBatcher.js"
import type { LogWriter } from "../../src/eventlog/eventLog.js"
import { EventLogError } from "../../src/eventlog/eventLogError.js"
import type { LogRecord, RecordBody } from "../../src/eventlog/logRecord.js"

/** A writer whose appends complete only when the test says so. */
function gatedWriter() {
  const calls: Array<{ bodies: ReadonlyArray<RecordBody>; gate: Deferred.Deferred<void, EventLogError> }> = []
  let seq = 0
  const writer: LogWriter = {
    stream: "gated",
    header: { format: "agenthost.eventlog", version: 1, stream: "gated", createdAt: 0, meta: {} },
    report: { created: true, lastSeq: 0, truncatedBytes: 0 },
    lastSeq: () => seq,
    append: (bodies) =>
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void, EventLogError>()
        calls.push({ bodies, gate })
        yield* Deferred.await(gate)
        return bodies.map((body): LogRecord => ({ seq: ++seq, at: 0, body }))
      }),
  }
  const release = (i: number, error?: EventLogError) => {
    const call = calls[i]
    if (call === undefined) throw new Error(`no append #${i}`)
    return Effect.runPromise(error ? Deferred.fail(call.gate, error) : Deferred.succeed(call.gate, undefined))
  }
  return { writer, calls, release }
}

const note = (code: string): RecordBody => ({ type: "note", code, message: code })

/** Lets queued microtasks and the effect fiber run. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe("makeLogBatcher", () => {
  it("appends what was enqueued in one tick together, and what arrives while in flight in the next append", async () => {
    const { writer, calls, release } = gatedWriter()
    const batcher = makeLogBatcher(writer)
    const first = [batcher.enqueue(note("a")), batcher.enqueue(note("b"))]
    await settle()
    expect(calls.map((c) => c.bodies.length)).toEqual([2])
    const second = [batcher.enqueue(note("c")), batcher.enqueue(note("d")), batcher.enqueue(note("e"))]
    await settle()
    expect(calls).toHaveLength(1)
    await release(0)
    const acked = await Promise.all(first)
    expect(acked.map((r) => r.seq)).toEqual([1, 2])
    await settle()
    expect(calls.map((c) => c.bodies.map((b) => (b as { code: string }).code))).toEqual([
      ["a", "b"],
      ["c", "d", "e"],
    ])
    await release(1)
    expect((await Promise.all(second)).map((r) => r.seq)).toEqual([3, 4, 5])
    await batcher.flush()
  })

  it("rejects a failed batch's records, reports the failure once on flush, and goes on", async () => {
    const { writer, release } = gatedWriter()
    const seen: EventLogError[] = []
    const batcher = makeLogBatcher(writer, (e) => seen.push(e))
    const lost = batcher.enqueue(note("a"))
    await settle()
    const failure = new EventLogError({ reason: "WriteFailed", stream: "gated", message: "disk full" })
    await release(0, failure)
    await expect(lost).rejects.toBe(failure)
    expect(seen).toEqual([failure])
    await expect(batcher.flush()).rejects.toBe(failure)
    await batcher.flush()
    const next = batcher.enqueue(note("b"))
    await settle()
    await release(1)
    expect((await next).body).toEqual(note("b"))
  })

  it("retries a refused batch record by record, so one unloggable record does not take the others down", async () => {
    let seq = 0
    const attempts: number[] = []
    const refusing: LogWriter = {
      ...gatedWriter().writer,
      append: (bodies) =>
        Effect.suspend(() => {
          attempts.push(bodies.length)
          if (bodies.some((b) => b.type === "note" && b.code === "bad")) {
            return Effect.fail(
              new EventLogError({ reason: "BadRecord", stream: "gated", message: "not encodable" }),
            )
          }
          return Effect.succeed(bodies.map((body): LogRecord => ({ seq: ++seq, at: 0, body })))
        }),
    }
    const batcher = makeLogBatcher(refusing)
    const [a, bad, c] = [batcher.enqueue(note("a")), batcher.enqueue(note("bad")), batcher.enqueue(note("c"))]
    expect((await a).seq).toBe(1)
    await expect(bad).rejects.toMatchObject({ reason: "BadRecord" })
    expect((await c).seq).toBe(2)
    expect(attempts).toEqual([3, 1, 1, 1])
    await expect(batcher.flush()).rejects.toMatchObject({ reason: "BadRecord" })
  })
})
