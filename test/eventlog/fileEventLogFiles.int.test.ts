import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Effect, Exit, Fiber, Layer, Stream } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Clock, ManualClock } from "../../src/adapters/clock.js"
import { EventLog, type EventLogShape, type OpenReport } from "../../src/eventlog/eventLog.js"
import { EventLogError } from "../../src/eventlog/eventLogError.js"
import { fileEventLogLayer, logFilePath } from "../../src/eventlog/fileEventLog.js"
import { readLogFile, readLogFileHeader } from "../../src/eventlog/logFileReader.js"
import { LOG_FORMAT_NAME, type RecordBody } from "../../src/eventlog/logRecord.js"
import { encodeLogStart, FRAME_HEADER_BYTES, MAGIC_BYTES } from "../../src/eventlog/recordCodec.js"

const note = (code: string, data?: unknown): RecordBody => ({ type: "note", code, message: code, data })
const collect = <A, E>(s: Stream.Stream<A, E>) => Effect.runPromise(Stream.runCollect(s)).then((c) => [...c])

async function failure(effect: Effect.Effect<unknown, EventLogError>): Promise<EventLogError> {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (!reason || !(reason.error instanceof EventLogError))
    throw new Error(`not an EventLogError: ${exit.cause}`)
  return reason.error
}

/** Offsets of every frame of a log file (header frame first), from its bytes. */
function frameOffsets(bytes: Buffer): number[] {
  const out: number[] = []
  for (let at = MAGIC_BYTES; at + FRAME_HEADER_BYTES <= bytes.length; ) {
    out.push(at)
    at += FRAME_HEADER_BYTES + bytes.readUInt32BE(at)
  }
  return out
}

describe("file event log on disk", () => {
  let tmp: string
  let dir: string
  let log: EventLogShape

  beforeEach(async () => {
    tmp = fs.mkdtempSync(join(os.tmpdir(), "agh-eventlog-files-"))
    dir = join(tmp, "logs")
    const layer = fileEventLogLayer({ dir }).pipe(Layer.provide(Clock.layerTest(new ManualClock(1_000))))
    log = await Effect.runPromise(
      Effect.gen(function* () {
        return yield* EventLog
      }).pipe(Effect.provide(layer)),
    )
  })
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

  const path = (stream = "s1") => logFilePath(dir, stream)
  const write = (n: number, stream = "s1") =>
    Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(log.open(stream), (w) =>
          w.append(Array.from({ length: n }, (_, i) => note(`r${i + 1}`))),
        ),
      ),
    )
  const openAndAppend = (stream = "s1") =>
    Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(log.open(stream), (w) =>
          Effect.map(w.append([note("next")]), (r) => ({ report: w.report, seq: r[0]!.seq })),
        ),
      ),
    )
  const seqs = async (stream = "s1") => (await collect(log.read(stream))).map((r) => r.seq)

  it("creates log files readable by their owner only (they hold prompts and tool output)", async () => {
    await write(1)
    expect(fs.statSync(path()).mode & 0o777).toBe(0o600)
  })

  it("truncates a torn tail on open, reports it with AGH_LOG_TORN_TAIL, and continues the seq", async () => {
    await write(4)
    const bytes = fs.readFileSync(path())
    const last = frameOffsets(bytes).at(-1)!
    fs.truncateSync(path(), bytes.length - 5)
    // A reader before the repair stops at the last complete record: a torn tail is not an error.
    expect(await seqs()).toEqual([1, 2, 3])
    const { report, seq } = await openAndAppend()
    const expected: Partial<OpenReport> = {
      created: false,
      lastSeq: 3,
      truncatedAt: last,
      truncatedBytes: bytes.length - 5 - last,
    }
    expect(report).toMatchObject(expected)
    expect(report.warning?.code).toBe("AGH_LOG_TORN_TAIL")
    expect(report.warning?.message).toContain(path())
    expect(report.warning?.message).toContain(`byte offset ${last}`)
    expect(seq).toBe(4)
    expect(await seqs()).toEqual([1, 2, 3, 4])
  })

  it("treats a complete last frame with a bad checksum, and a zero-filled tail, as torn", async () => {
    await write(3)
    const bytes = fs.readFileSync(path())
    const last = frameOffsets(bytes).at(-1)!
    bytes[bytes.length - 1]! ^= 0xff
    fs.writeFileSync(path(), bytes)
    const first = await openAndAppend()
    expect(first.report).toMatchObject({ lastSeq: 2, truncatedAt: last, truncatedBytes: bytes.length - last })
    expect(first.seq).toBe(3)
    const size = fs.statSync(path()).size
    fs.appendFileSync(path(), Buffer.alloc(4096))
    const second = await openAndAppend()
    expect(second.report).toMatchObject({ lastSeq: 3, truncatedAt: size, truncatedBytes: 4096 })
    expect(second.report.warning?.message).toContain("zero-filled")
    expect(await seqs()).toEqual([1, 2, 3, 4])
  })

  it("fails with BadFrame naming file and offset when a record before the tail is corrupt", async () => {
    await write(4)
    const bytes = fs.readFileSync(path())
    const second = frameOffsets(bytes)[2]!
    bytes[second + FRAME_HEADER_BYTES + 3]! ^= 0x01
    fs.writeFileSync(path(), bytes)
    const errors = [
      await failure(Effect.scoped(log.open("s1"))),
      await failure(Stream.runDrain(log.read("s1"))),
    ]
    for (const err of errors) {
      expect(err.reason).toBe("BadFrame")
      expect(err.code).toBe("AGH_LOG_BAD_FRAME")
      expect(err.offset).toBe(second)
      expect(err.location).toBe(path())
      expect(err.message).toContain(path())
      expect(err.message).toContain(`byte offset ${second}`)
    }
    // The reader delivers what precedes the corruption before failing.
    const seen: number[] = []
    await Effect.runPromiseExit(Stream.runForEach(log.read("s1"), (r) => Effect.sync(() => seen.push(r.seq))))
    expect(seen).toEqual([1])
    // The writer refused to open, so the file is untouched.
    expect(fs.readFileSync(path())).toEqual(bytes)
  })

  it("fails with BadFrame on an impossible length before the tail, and on a seq gap", async () => {
    await write(3)
    const bytes = fs.readFileSync(path())
    const offsets = frameOffsets(bytes)
    const broken = Buffer.from(bytes)
    broken.writeUInt32BE(0xffffffff, offsets[1]!)
    fs.writeFileSync(path(), broken)
    const lengthErr = await failure(Effect.scoped(log.open("s1")))
    expect(lengthErr.offset).toBe(offsets[1])
    expect(lengthErr.message).toContain("frame length 4294967295")
    // Dropping record 2 leaves valid frames with seqs 1, 3.
    const gap = Buffer.concat([bytes.subarray(0, offsets[2]!), bytes.subarray(offsets[3]!)])
    fs.writeFileSync(path(), gap)
    const gapErr = await failure(Effect.scoped(log.open("s1")))
    expect(gapErr.reason).toBe("BadFrame")
    expect(gapErr.offset).toBe(offsets[2])
    expect(gapErr.message).toContain("record seq 3 where 2 was expected")
    expect((await failure(Stream.runDrain(log.read("s1")))).offset).toBe(offsets[2])
  })

  it("refuses an unknown format version, in the magic or in the header, naming file and version", async () => {
    await write(1)
    const bytes = fs.readFileSync(path())
    bytes[MAGIC_BYTES - 1] = 7
    fs.writeFileSync(path(), bytes)
    const errs = [
      await failure(Effect.scoped(log.open("s1"))),
      await failure(log.header("s1")),
      await failure(readLogFileHeader(path())),
      await failure(Stream.runDrain(readLogFile(path()))),
    ]
    for (const err of errs) {
      expect(err.reason).toBe("UnknownVersion")
      expect(err.code).toBe("AGH_LOG_UNKNOWN_VERSION")
      expect(err.message).toContain(path())
      expect(err.message).toContain("version 7")
      expect(err.message).toContain(`byte offset ${MAGIC_BYTES - 1}`)
    }
    const v2 = encodeLogStart({ format: LOG_FORMAT_NAME, version: 2, stream: "s1", createdAt: 0, meta: {} })
    v2[MAGIC_BYTES - 1] = 1
    fs.writeFileSync(path(), v2)
    const headerErr = await failure(Effect.scoped(log.open("s1")))
    expect(headerErr.reason).toBe("UnknownVersion")
    expect(headerErr.message).toContain("version 2")
    expect(headerErr.message).toContain(`byte offset ${MAGIC_BYTES}`)
  })

  it("refuses a file that is not an event log (BadFrame at offset 0)", async () => {
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path(), "just some text, long enough\n")
    for (const err of [
      await failure(Effect.scoped(log.open("s1"))),
      await failure(readLogFileHeader(path())),
    ]) {
      expect(err.reason).toBe("BadFrame")
      expect(err.offset).toBe(0)
      expect(err.message).toContain(`${path()} at byte offset 0: not an agenthost event log`)
    }
  })

  it("reports Unreadable when the log path is a FIFO, without blocking on it", async () => {
    fs.mkdirSync(dir, { recursive: true })
    execFileSync("mkfifo", [path()])
    for (const err of [
      await failure(Effect.scoped(log.open("s1"))),
      await failure(readLogFileHeader(path())),
    ]) {
      expect(err.reason).toBe("Unreadable")
      expect(err.message).toContain(`${path()}: not a regular file`)
    }
  })

  it("reports Unreadable when the log path is not a regular file", async () => {
    fs.mkdirSync(path(), { recursive: true })
    const errs = [
      await failure(Effect.scoped(log.open("s1"))),
      await failure(log.header("s1")),
      await failure(Stream.runDrain(log.read("s1"))),
      await failure(readLogFileHeader(path())),
    ]
    for (const err of errs) {
      expect(err.reason).toBe("Unreadable")
      expect(err.code).toBe("AGH_LOG_UNREADABLE")
      expect(err.message).toContain(path())
    }
  })

  it("replaces a log whose creation was cut short (torn header), reporting the bytes it dropped", async () => {
    fs.mkdirSync(dir, { recursive: true })
    const start = encodeLogStart({
      format: LOG_FORMAT_NAME,
      version: 1,
      stream: "s1",
      createdAt: 5,
      meta: {},
    })
    for (const cut of [0, 3, MAGIC_BYTES, MAGIC_BYTES + 5, start.length - 1]) {
      fs.writeFileSync(path(), start.subarray(0, cut))
      if (cut >= MAGIC_BYTES) {
        const err = await failure(readLogFileHeader(path()))
        expect(err.reason).toBe("BadFrame")
        expect(err.message).toContain("header incomplete")
      }
      const { report, seq } = await openAndAppend()
      expect(report).toMatchObject({ created: true, lastSeq: 0, truncatedAt: 0, truncatedBytes: cut })
      expect(report.warning?.code).toBe("AGH_LOG_TORN_TAIL")
      expect(report.warning?.message).toContain(path())
      expect(seq).toBe(1)
      expect((await Effect.runPromise(log.header("s1"))).createdAt).toBe(1_000)
      fs.rmSync(path())
    }
  })

  it("guards a stream across processes with a lock file; a dead holder's lock is taken over", async () => {
    fs.mkdirSync(dir, { recursive: true })
    const lock = `${path()}.lock`
    fs.writeFileSync(lock, JSON.stringify({ pid: process.ppid, token: "other", acquiredAt: 0 }))
    const err = await failure(Effect.scoped(log.open("s1")))
    expect(err.reason).toBe("AlreadyOpen")
    expect(err.message).toContain(`pid ${process.ppid}`)
    expect(err.message).toContain(lock)
    // A pid that cannot exist (above the kernel's pid_max) stands for a crashed writer.
    fs.writeFileSync(lock, JSON.stringify({ pid: 2 ** 30, token: "dead", acquiredAt: 0 }))
    expect((await openAndAppend()).seq).toBe(1)
    expect(fs.existsSync(lock)).toBe(false)
    expect(fs.readdirSync(dir).sort()).toEqual(["s1.aglog"])
  })

  it('refuses a body with a "__proto__" key, which msgpack readers would refuse to decode', async () => {
    const body: RecordBody = {
      type: "note",
      code: "x",
      message: "m",
      data: JSON.parse('{"a":{"__proto__":1}}'),
    }
    const err = await failure(Effect.scoped(Effect.flatMap(log.open("s1"), (w) => w.append([body]))))
    expect(err.reason).toBe("BadRecord")
    expect(err.message).toContain("__proto__")
    expect(err.message).toContain(path())
    // A value that merely contains the text is fine.
    await Effect.runPromise(
      Effect.scoped(Effect.flatMap(log.open("s1"), (w) => w.append([note("__proto__", "__proto__")]))),
    )
    expect(await seqs()).toEqual([1])
  })

  it("streams records larger than its read size and records straddling every chunk boundary", async () => {
    const big = "x".repeat(100_000)
    const bodies = [note("a"), note("big", big), ...Array.from({ length: 50 }, (_, i) => note(`s${i}`, i))]
    await Effect.runPromise(Effect.scoped(Effect.flatMap(log.open("s1"), (w) => w.append(bodies))))
    for (const chunkBytes of [64, 1000, 4096]) {
      const read = await collect(readLogFile(path(), { chunkBytes }))
      expect(read.map((r) => r.seq)).toEqual(bodies.map((_, i) => i + 1))
      expect(read[1]?.body).toMatchObject({ data: big })
    }
  })

  it("a reader waits at a record still being written and picks it up once complete (follow)", async () => {
    await write(2)
    const complete = fs.readFileSync(path())
    const [, , , third] = frameOffsets(complete)
    expect(third).toBeUndefined()
    // Build a third record the way a writer would, by writing it in another stream and copying its frame.
    await write(3, "donor")
    const donor = fs.readFileSync(path("donor"))
    const donorThird = frameOffsets(donor)[3]!
    const frame = donor.subarray(donorThird)
    fs.appendFileSync(path(), frame.subarray(0, 10))
    expect((await collect(readLogFile(path()))).map((r) => r.seq)).toEqual([1, 2])
    const records = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const follower = yield* Effect.forkChild(
            Stream.runCollect(readLogFile(path(), { follow: true }).pipe(Stream.take(3))),
          )
          // No in-process writer: only fs.watch or the poll can wake the follower.
          fs.appendFileSync(path(), frame.subarray(10))
          return [...(yield* Fiber.join(follower))]
        }),
      ),
    )
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3])
    expect(records[2]?.body).toMatchObject({ code: "r3" })
  })
})
