import { Effect, Exit, Fiber, type Layer, Stream } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { EventLog, type EventLogShape, type LogWriter } from "../../src/eventlog/eventLog.js"
import { EventLogError } from "../../src/eventlog/eventLogError.js"
import { LOG_FORMAT_NAME, LOG_FORMAT_VERSION, type RecordBody } from "../../src/eventlog/logRecord.js"

/** What a backend under test provides: a fresh, empty log per test, and its cleanup. */
export interface ContractBackend {
  /** Builds the backend's layer on the given clock. Called once per test. */
  readonly layer: (clock: ManualClock) => Layer.Layer<EventLog>
  /** Removes whatever the backend left behind (temp dirs). */
  readonly cleanup?: () => void
}

const T0 = Date.parse("2026-03-01T12:00:00Z")

export const note = (code: string, data?: unknown): RecordBody =>
  data === undefined
    ? { type: "note", code, message: `note ${code}` }
    : { type: "note", code, message: code, data }

const collect = <A, E>(stream: Stream.Stream<A, E>) =>
  Stream.runCollect(stream).pipe(Effect.map((c) => [...c]))

async function failure<A>(effect: Effect.Effect<A, EventLogError>): Promise<EventLogError> {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  const err = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (!err || !(err.error instanceof EventLogError))
    throw new Error(`expected an EventLogError: ${exit.cause}`)
  return err.error
}

/**
 * The event-log contract: every backend of the `EventLog` port must pass it (STYLE habit 7).
 * Run it from a backend's test file with a factory for fresh instances.
 */
export function eventLogContract(name: string, makeBackend: () => ContractBackend): void {
  describe(`EventLog contract: ${name}`, () => {
    let backend: ContractBackend
    let clock: ManualClock
    let log: EventLogShape

    beforeEach(async () => {
      backend = makeBackend()
      clock = new ManualClock(T0)
      log = await Effect.runPromise(
        Effect.gen(function* () {
          return yield* EventLog
        }).pipe(Effect.provide(backend.layer(clock))),
      )
    })
    afterEach(() => backend.cleanup?.())

    const withWriter = <A>(
      stream: string,
      f: (w: LogWriter) => Effect.Effect<A, EventLogError>,
      meta?: Record<string, unknown>,
    ) => Effect.runPromise(Effect.scoped(Effect.flatMap(log.open(stream, meta ? { meta } : {}), (w) => f(w))))

    it("assigns gap-free seqs from 1, in call order, even with appends in flight together", async () => {
      const batches = [[note("a")], [note("b"), note("c")], [note("d")], [note("e"), note("f"), note("g")]]
      const results = await withWriter("s1", (w) =>
        Effect.all(
          batches.map((b) => w.append(b)),
          { concurrency: "unbounded" },
        ),
      )
      expect(results.map((r) => r.map((x) => x.seq))).toEqual([[1], [2, 3], [4], [5, 6, 7]])
      const read = await Effect.runPromise(collect(log.read("s1")))
      expect(read.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7])
      expect(read.map((r) => (r.body as { code: string }).code)).toEqual(["a", "b", "c", "d", "e", "f", "g"])
    })

    it("stamps `at` from the injected clock", async () => {
      const records = await withWriter("s1", (w) =>
        Effect.gen(function* () {
          const first = yield* w.append([note("a"), note("b")])
          clock.advance(1_500)
          const second = yield* w.append([note("c")])
          return [...first, ...second]
        }),
      )
      expect(records.map((r) => r.at)).toEqual([T0, T0, T0 + 1_500])
      const read = await Effect.runPromise(collect(log.read("s1")))
      expect(read.map((r) => r.at)).toEqual([T0, T0, T0 + 1_500])
    })

    it("writes a header with format, version, stream, creation time and meta; reopening keeps it", async () => {
      const meta = { kind: "session", hostVersion: "0.1.0", nested: { n: 1 } }
      const header = await withWriter("s1", (w) => Effect.succeed(w.header), meta)
      const expected = {
        format: LOG_FORMAT_NAME,
        version: LOG_FORMAT_VERSION,
        stream: "s1",
        createdAt: T0,
        meta,
      }
      expect(header).toEqual(expected)
      clock.advance(60_000)
      expect(await Effect.runPromise(log.header("s1"))).toEqual(expected)
      const reopened = await withWriter("s1", (w) => Effect.succeed(w.header), { kind: "other" })
      expect(reopened).toEqual(expected)
    })

    it("reads only records after `afterSeq`", async () => {
      await withWriter("s1", (w) => w.append([1, 2, 3, 4, 5].map((i) => note(`n${i}`))))
      const read = await Effect.runPromise(collect(log.read("s1", { afterSeq: 3 })))
      expect(read.map((r) => r.seq)).toEqual([4, 5])
      expect(await Effect.runPromise(collect(log.read("s1", { afterSeq: 5 })))).toEqual([])
      await withWriter("empty", () => Effect.void)
      expect(await Effect.runPromise(collect(log.read("empty")))).toEqual([])
    })

    it("follows: a follow reader sees the records already there, then later appends", async () => {
      const seqs = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const w = yield* log.open("s1")
            yield* w.append([note("a"), note("b")])
            const reader = yield* Effect.forkChild(
              collect(log.read("s1", { follow: true, afterSeq: 1 }).pipe(Stream.take(4))),
            )
            yield* w.append([note("c")])
            yield* w.append([note("d"), note("e")])
            const got = yield* Fiber.join(reader)
            return got.map((r) => r.seq)
          }),
        ),
      )
      expect(seqs).toEqual([2, 3, 4, 5])
    })

    it("refuses a second writer of a stream while the first is open (AlreadyOpen), then allows one", async () => {
      const err = await failure(
        Effect.scoped(
          Effect.gen(function* () {
            yield* log.open("s1")
            return yield* log.open("s1")
          }),
        ),
      )
      expect(err.reason).toBe("AlreadyOpen")
      expect(err.code).toBe("AGH_LOG_ALREADY_OPEN")
      expect(err.message).toContain("s1")
      const other = await withWriter("s1", (w) => w.append([note("x")]))
      expect(other.map((r) => r.seq)).toEqual([1])
    })

    it("fails appends after the writer's scope ended (Closed)", async () => {
      const writer = await withWriter("s1", (w) => Effect.as(w.append([note("a")]), w))
      const err = await failure(writer.append([note("b")]))
      expect(err.reason).toBe("Closed")
      expect(err.code).toBe("AGH_LOG_CLOSED")
      expect(err.message).toContain("s1")
      expect((await Effect.runPromise(collect(log.read("s1")))).length).toBe(1)
    })

    it("rejects stream names outside the safe alphabet (InvalidStream) everywhere", async () => {
      for (const bad of ["../x", "a/b", "", ".hidden", "a..b", "x".repeat(129)]) {
        const errs = [
          await failure(Effect.scoped(log.open(bad))),
          await failure(log.header(bad)),
          await failure(collect(log.read(bad))),
        ]
        for (const err of errs) {
          expect(err.reason).toBe("InvalidStream")
          expect(err.code).toBe("AGH_LOG_INVALID_STREAM")
          expect(err.message).toContain(JSON.stringify(bad))
        }
      }
    })

    it("reports NotFound for the header or records of a stream that does not exist", async () => {
      for (const err of [await failure(log.header("nope")), await failure(collect(log.read("nope")))]) {
        expect(err.reason).toBe("NotFound")
        expect(err.code).toBe("AGH_LOG_NOT_FOUND")
        expect(err.message).toContain("nope")
      }
    })

    it("lists the streams that exist, sorted", async () => {
      expect(await Effect.runPromise(log.list())).toEqual([])
      await withWriter("b-2", (w) => w.append([note("x")]))
      await withWriter("a.1", () => Effect.void)
      expect(await Effect.runPromise(log.list())).toEqual(["a.1", "b-2"])
    })

    it("continues the seq after a reopen and reports what it found", async () => {
      const first = await withWriter("s1", (w) =>
        Effect.as(w.append([note("a"), note("b"), note("c")]), w.report),
      )
      expect(first).toMatchObject({ created: true, lastSeq: 0, truncatedBytes: 0 })
      const [report, appended, lastSeq] = await withWriter("s1", (w) =>
        Effect.map(w.append([note("d")]), (r) => [w.report, r, w.lastSeq()] as const),
      )
      expect(report).toMatchObject({ created: false, lastSeq: 3, truncatedBytes: 0 })
      expect(appended.map((r) => r.seq)).toEqual([4])
      expect(lastSeq).toBe(4)
      expect((await Effect.runPromise(collect(log.read("s1")))).map((r) => r.seq)).toEqual([1, 2, 3, 4])
    })

    it("stores a snapshot: mutating a body after the append does not rewrite history", async () => {
      const body = { type: "note", code: "c", message: "m", data: { list: [1, 2] } }
      const mutable = structuredClone(body)
      await withWriter("s1", (w) => w.append([mutable as RecordBody]))
      mutable.data.list.push(3)
      const [record] = await Effect.runPromise(collect(log.read("s1")))
      expect(record?.body).toEqual(body)
    })

    it("appends nothing for an empty batch or a body it cannot store (BadRecord)", async () => {
      const [empty, err, next] = await withWriter("s1", (w) =>
        Effect.gen(function* () {
          const empty = yield* w.append([])
          const unstorable = { type: "note", code: "f", message: "m", data: () => 1 } as unknown as RecordBody
          const err = yield* Effect.orDie(Effect.flip(w.append([note("ok"), unstorable])))
          const next = yield* w.append([note("after")])
          return [empty, err, next] as const
        }),
      )
      expect(empty).toEqual([])
      expect(err.reason).toBe("BadRecord")
      expect(err.code).toBe("AGH_LOG_BAD_RECORD")
      expect(next.map((r) => r.seq)).toEqual([1])
      const read = await Effect.runPromise(collect(log.read("s1")))
      expect(read.map((r) => (r.body as { code: string }).code)).toEqual(["after"])
    })
  })
}
