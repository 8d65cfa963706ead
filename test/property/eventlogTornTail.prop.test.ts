import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Effect, Layer, Stream } from "effect"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Clock, ManualClock } from "../../src/adapters/clock.js"
import { recordBodyArb } from "../../src/eventlog/arbitraries.js"
import { EventLog, type EventLogShape } from "../../src/eventlog/eventLog.js"
import { fileEventLogLayer, logFilePath } from "../../src/eventlog/fileEventLog.js"
import { readLogFile } from "../../src/eventlog/logFileReader.js"
import type { LogRecord, RecordBody } from "../../src/eventlog/logRecord.js"
import { FRAME_HEADER_BYTES, MAGIC_BYTES } from "../../src/eventlog/recordCodec.js"

const smallBodyArb: fc.Arbitrary<RecordBody> = fc.oneof(
  fc.record({
    type: fc.constant("note" as const),
    code: fc.constant("AGH_X"),
    message: fc.string({ maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant("event" as const),
    actor: fc.constant("a"),
    event: fc.record({ type: fc.constant("s.x"), n: fc.integer() }),
    state: fc.constantFrom("idle", "busy"),
    digest: fc.constant("0"),
  }),
)

const NEXT: RecordBody = { type: "note", code: "AGH_NEXT", message: "after the crash" }

/** Frame start offsets after the header frame, plus the file end. */
function recordBoundaries(bytes: Buffer): number[] {
  let at = MAGIC_BYTES + FRAME_HEADER_BYTES + bytes.readUInt32BE(MAGIC_BYTES)
  const out = [at]
  while (at < bytes.length) {
    at += FRAME_HEADER_BYTES + bytes.readUInt32BE(at)
    out.push(at)
  }
  return out
}

describe("crash recovery of the file event log", () => {
  let tmp: string
  let log: EventLogShape
  let n = 0

  beforeAll(async () => {
    tmp = fs.mkdtempSync(join(os.tmpdir(), "agh-torntail-"))
    const layer = fileEventLogLayer({ dir: tmp, durability: "none" }).pipe(
      Layer.provide(Clock.layerTest(new ManualClock(7_000))),
    )
    log = await Effect.runPromise(
      Effect.gen(function* () {
        return yield* EventLog
      }).pipe(Effect.provide(layer)),
    )
  })
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  const writeLog = (stream: string, batches: RecordBody[][]) =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const w = yield* log.open(stream)
          for (const b of batches) yield* w.append(b)
        }),
      ),
    )
  const reopenAndAppend = (stream: string) =>
    Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(log.open(stream), (w) =>
          Effect.map(w.append([NEXT]), (r) => ({ report: w.report, r })),
        ),
      ),
    )
  const readAll = (path: string): Promise<LogRecord[]> =>
    Effect.runPromise(Stream.runCollect(readLogFile(path))).then((c) => [...c])

  it("a log cut at every byte offset of its last record reopens with all earlier records intact", async () => {
    await fc.assert(
      // The last record is kept small: every cut costs a reopen with two fdatasyncs.
      fc.asyncProperty(fc.array(recordBodyArb, { maxLength: 3 }), smallBodyArb, async (earlier, last) => {
        const bodies = [...earlier, last]
        const stream = `cut${n++}`
        const path = logFilePath(tmp, stream)
        await writeLog(stream, [bodies])
        const bytes = fs.readFileSync(path)
        const original = await readAll(path)
        const bounds = recordBoundaries(bytes)
        const lastStart = bounds.at(-2)!
        const k = bodies.length
        for (let cut = lastStart; cut < bytes.length; cut++) {
          fs.writeFileSync(path, bytes.subarray(0, cut))
          const { report, r } = await reopenAndAppend(stream)
          expect(report.lastSeq).toBe(k - 1)
          expect(report.truncatedBytes).toBe(cut - lastStart)
          if (cut > lastStart) expect(report.truncatedAt).toBe(lastStart)
          expect(r[0]?.seq).toBe(k)
          const after = await readAll(path)
          expect(after.slice(0, k - 1)).toEqual(original.slice(0, k - 1))
          expect(after.map((x) => x.seq)).toEqual(Array.from({ length: k }, (_, i) => i + 1))
        }
      }),
      { numRuns: 5 },
    )
  })

  it("after a crash at any byte, seqs stay gap-free and only whole records survive", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(recordBodyArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (batches, where) => {
          const stream = `crash${n++}`
          const path = logFilePath(tmp, stream)
          await writeLog(stream, batches)
          const bytes = fs.readFileSync(path)
          const bounds = recordBoundaries(bytes)
          const original = await readAll(path)
          const cut = bounds[0]! + Math.floor(where * (bytes.length - bounds[0]!))
          fs.writeFileSync(path, bytes.subarray(0, cut))
          const whole = bounds.filter((b) => b <= cut).length - 1
          // Before any repair a reader sees exactly the whole records.
          expect(await readAll(path)).toEqual(original.slice(0, whole))
          const { report, r } = await reopenAndAppend(stream)
          expect(report.lastSeq).toBe(whole)
          expect(r[0]?.seq).toBe(whole + 1)
          const after = await readAll(path)
          expect(after.map((x) => x.seq)).toEqual(Array.from({ length: whole + 1 }, (_, i) => i + 1))
          expect(after.slice(0, whole)).toEqual(original.slice(0, whole))
        },
      ),
      { numRuns: 40 },
    )
  })
})
