import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { appendSignalKey } from "../../src/eventlog/appendSignals.js"
import type { Durability } from "../../src/eventlog/eventLog.js"
import type { EventLogError } from "../../src/eventlog/eventLogError.js"
import { LogAppender } from "../../src/eventlog/logAppender.js"
import { readLogFile } from "../../src/eventlog/logFileReader.js"
import { LOG_FORMAT_NAME, type LogRecord, type RecordBody } from "../../src/eventlog/logRecord.js"
import { encodeLogStart } from "../../src/eventlog/recordCodec.js"

const note = (code: string): RecordBody => ({ type: "note", code, message: code })

describe("LogAppender", () => {
  let tmp: string
  let path: string
  const start = encodeLogStart({ format: LOG_FORMAT_NAME, version: 1, stream: "s", createdAt: 0, meta: {} })

  beforeEach(() => {
    tmp = fs.mkdtempSync(join(os.tmpdir(), "agh-appender-"))
    path = join(tmp, "s.aglog")
    fs.writeFileSync(path, start)
  })
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

  const make = (fd: number, durability: Durability) =>
    new LogAppender({
      fd,
      path,
      stream: "s",
      clock: new ManualClock(42),
      durability,
      batchWindowMs: 2,
      end: start.length,
      lastSeq: 0,
      signalKey: appendSignalKey(path),
    })
  const append = (a: LogAppender, bodies: RecordBody[]) =>
    new Promise<{ err: EventLogError | undefined; records: ReadonlyArray<LogRecord> }>((resolve) =>
      a.append(bodies, (err, records) => resolve({ err, records })),
    )
  const close = (a: LogAppender) => new Promise<void>((resolve) => a.close(resolve))

  for (const durability of ["batch", "always", "none"] as const) {
    it(`keeps calls made in one task ordered and contiguous on disk (${durability})`, async () => {
      const fd = fs.openSync(path, "r+")
      const a = make(fd, durability)
      const results = await Promise.all([
        append(a, [note("a")]),
        append(a, [note("b"), note("c")]),
        append(a, [note("d")]),
      ])
      expect(results.map((r) => r.records.map((x) => x.seq))).toEqual([[1], [2, 3], [4]])
      await close(a)
      fs.closeSync(fd)
      const read = await Effect.runPromise(Stream.runCollect(readLogFile(path)))
      expect([...read].map((r) => [r.seq, r.at, (r.body as { code: string }).code])).toEqual([
        [1, 42, "a"],
        [2, 42, "b"],
        [3, 42, "c"],
        [4, 42, "d"],
      ])
    })

    it(`fails every call of a failed write with WriteFailed, rolls the seq back and stays failed (${durability})`, async () => {
      // A read-only descriptor makes the write fail for real (EBADF), and the clean-up truncate too.
      const fd = fs.openSync(path, "r")
      const a = make(fd, durability)
      const [first, second] = await Promise.all([append(a, [note("a")]), append(a, [note("b")])])
      for (const r of [first, second]) {
        expect(r.err?.reason).toBe("WriteFailed")
        expect(r.err?.code).toBe("AGH_LOG_WRITE_FAILED")
        expect(r.err?.message).toContain(`${path} at byte offset ${start.length}`)
        expect(r.records).toEqual([])
      }
      expect(a.lastSeq).toBe(0)
      const later = await append(a, [note("c")])
      expect(later.err?.reason).toBe("WriteFailed")
      await close(a)
      fs.closeSync(fd)
      expect(fs.readFileSync(path)).toEqual(start)
    })
  }
})
