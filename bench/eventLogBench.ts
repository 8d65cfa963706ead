import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Decoder, Encoder } from "@msgpack/msgpack"
import { Effect, Layer, Stream } from "effect"
import { Packr } from "msgpackr"
import { Clock } from "../src/adapters/clock.js"
import { type Durability, EventLog, type EventLogShape } from "../src/eventlog/eventLog.js"
import { fileEventLogLayer, logFilePath } from "../src/eventlog/fileEventLog.js"
import { readLogFile } from "../src/eventlog/logFileReader.js"
import type { RecordBody } from "../src/eventlog/logRecord.js"
import { type BenchRow, type BenchSection, median, opsPerSecond } from "./harness.js"

/**
 * Event log throughput beside raw baselines measured in the same run.
 *
 * What is compared with what:
 * - Raw baselines append ~200 B length-prefixed msgpack records with `fs.writeSync`, once with the
 *   bytes encoded up front ("pre-encoded") and once encoding each record with a reused
 *   @msgpack/msgpack `Encoder` ("encode +"). The target ratio is set against the "encode +" baseline:
 *   any msgpack log must encode, so what the comparison isolates is our framing, checksum, Effect and
 *   group-commit cost. The pre-encoded rows show the encoder's own share.
 * - `batch` is compared with "write each of N records, then one fdatasync": that is the sync rate N
 *   concurrent appenders sharing a group commit get, so `batch` runs N fibers that each append one
 *   record and wait for its acknowledgement before the next (a closed loop, as a session runtime does).
 *   It can beat the baseline: the appends of one event-loop task share one write syscall.
 * - `always` and `none` run one sequential appender against the per-append baselines.
 * - Reading: our streaming reader (chunked file reads, checksums, decode, seq checks) vs walking the
 *   same file's frames in memory and decoding each payload with @msgpack/msgpack and with msgpackr.
 *
 * fdatasync costs vary 100× between machines and with load, so every run is sized from a short probe
 * to take about {@link REP_SECONDS}, and contenders take turns rep by rep, keeping the whole bench
 * under a minute and its ratios steady on a shared machine.
 */

const BATCH_N = 100
const REPS = 5
const REP_SECONDS = 0.5

const body: RecordBody = {
  type: "event",
  actor: "session:s_0123456789abcdef01234567",
  event: {
    type: "session.agentMessage",
    uuid: "00000000-0000-4000-8000-000000000001",
    text: "Ran the tests: 42 passed. Next I will update the README with the new flag.",
  },
  state: { running: "busy" },
  digest: "0123456789abcdef",
}

/** A rate measured on `count` items. */
type Rate = (count: number) => Promise<number>

/**
 * Measures several rates, each on a count sized by a short probe to take about REP_SECONDS, taking
 * turns rep by rep so that load drifting on a shared machine hits every contender alike. Returns the
 * median of each.
 */
async function interleaved(probe: number, rates: ReadonlyArray<Rate>): Promise<number[]> {
  const counts: number[] = []
  for (const rate of rates) counts.push(Math.max(probe, Math.round((await rate(probe)) * REP_SECONDS)))
  const samples: number[][] = rates.map(() => [])
  for (let rep = 0; rep < REPS; rep++) {
    for (let i = 0; i < rates.length; i++) samples[i]!.push(await rates[i]!(counts[i]!))
  }
  return samples.map(median)
}

function rawAppend(dir: string, count: number, syncEvery: number, encodeEach: boolean): Promise<number> {
  const encoder = new Encoder()
  const fixed = Buffer.from(encoder.encode([1, 1, 1_700_000_000_000, body]))
  const header = Buffer.alloc(4)
  const path = join(dir, `raw-${syncEvery}-${count}.bin`)
  const fd = fs.openSync(path, "w")
  return opsPerSecond(count, () => {
    for (let i = 1; i <= count; i++) {
      const payload = encodeEach ? encoder.encodeSharedRef([1, i, 1_700_000_000_000, body]) : fixed
      header.writeUInt32BE(payload.length, 0)
      fs.writeSync(fd, Buffer.concat([header, payload]))
      if (syncEvery > 0 && i % syncEvery === 0) fs.fdatasyncSync(fd)
    }
  }).finally(() => {
    fs.closeSync(fd)
    fs.rmSync(path)
  })
}

let streamNo = 0

/** Appends `count` records from `appenders` fibers; opening and closing the stream are not timed. */
function ourAppend(log: EventLogShape, durability: Durability, count: number, appenders: number) {
  const stream = `bench-${durability}-${streamNo++}`
  const perFiber = Math.max(1, Math.round(count / appenders))
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const writer = yield* log.open(stream, { durability })
        const one = [body]
        const loop = Effect.gen(function* () {
          for (let i = 0; i < perFiber; i++) yield* writer.append(one)
        })
        const all = Effect.all(
          Array.from({ length: appenders }, () => loop),
          { concurrency: "unbounded", discard: true },
        )
        return yield* Effect.promise(() => opsPerSecond(perFiber * appenders, () => Effect.runPromise(all)))
      }),
    ),
  )
}

export async function eventLogBench(): Promise<BenchSection> {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "agh-bench-eventlog-"))
  try {
    const log = await Effect.runPromise(
      Effect.gen(function* () {
        return yield* EventLog
      }).pipe(Effect.provide(fileEventLogLayer({ dir }).pipe(Layer.provide(Clock.layer)))),
    )
    const rows: BenchRow[] = []
    const add = (row: BenchRow) => {
      rows.push(row)
      process.stderr.write(`  ${row.name}: ${Math.round(row.value)}\n`)
    }
    const rawSync = "raw encode + writeSync + fdatasync per append"
    const rawBatch = `raw encode + writeSync, fdatasync per ${BATCH_N}`
    const rawNone = "raw encode + writeSync, no fdatasync"

    const [preSync, encSync, oursAlways] = await interleaved(20, [
      (n) => rawAppend(dir, n, 1, false),
      (n) => rawAppend(dir, n, 1, true),
      (n) => ourAppend(log, "always", n, 1),
    ])
    add({ name: "raw pre-encoded writeSync + fdatasync per append", value: preSync!, unit: "appends/s" })
    add({ name: rawSync, value: encSync!, unit: "appends/s" })
    add({ name: "ours always (1 appender)", value: oursAlways!, unit: "appends/s", baseline: rawSync })

    const [preBatch, encBatch, oursBatch] = await interleaved(BATCH_N * 5, [
      (n) => rawAppend(dir, n, BATCH_N, false),
      (n) => rawAppend(dir, n, BATCH_N, true),
      (n) => ourAppend(log, "batch", n, BATCH_N),
    ])
    add({ name: `raw pre-encoded writeSync, fdatasync per ${BATCH_N}`, value: preBatch!, unit: "appends/s" })
    add({ name: rawBatch, value: encBatch!, unit: "appends/s" })
    const oursBatchName = `ours batch (${BATCH_N} concurrent appenders)`
    add({ name: oursBatchName, value: oursBatch!, unit: "appends/s", baseline: rawBatch, target: 0.9 })
    add({
      name: `  same, vs the pre-encoded baseline`,
      value: oursBatch!,
      unit: "appends/s",
      baseline: `raw pre-encoded writeSync, fdatasync per ${BATCH_N}`,
    })

    const [preNone, encNone, oursNone] = await interleaved(5_000, [
      (n) => rawAppend(dir, n, 0, false),
      (n) => rawAppend(dir, n, 0, true),
      (n) => ourAppend(log, "none", n, 1),
    ])
    add({ name: "raw pre-encoded writeSync, no fdatasync", value: preNone!, unit: "appends/s" })
    add({ name: rawNone, value: encNone!, unit: "appends/s" })
    add({ name: "ours none (1 appender)", value: oursNone!, unit: "appends/s", baseline: rawNone })

    // Reading: one log; raw baselines walk its frames in memory (no I/O, no checksum) and decode each.
    const readCount = 100_000
    const readStream = "bench-read"
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const w = yield* log.open(readStream, { durability: "none" })
          const chunk = Array.from({ length: 1_000 }, () => body)
          for (let i = 0; i < readCount / 1_000; i++) yield* w.append(chunk)
        }),
      ),
    )
    const path = logFilePath(dir, readStream)
    const file = fs.readFileSync(path)
    const payloads: Uint8Array[] = []
    for (let at = 8; at < file.length; ) {
      const length = file.readUInt32BE(at)
      payloads.push(new Uint8Array(file.buffer, file.byteOffset + at + 8, length))
      at += 8 + length
    }
    payloads.shift() // the header
    const decoder = new Decoder()
    const packr = new Packr({ useRecords: false, mapsAsObjects: true })
    const decodeAll = (decode: (p: Uint8Array) => unknown) => () =>
      opsPerSecond(readCount, () => {
        for (const p of payloads) decode(p)
      })
    const [msgpackRate, msgpackrRate, readerRate] = await interleaved(readCount, [
      decodeAll((p) => decoder.decode(p)),
      decodeAll((p) => packr.unpack(p)),
      () =>
        opsPerSecond(readCount, async () => {
          const n = await Effect.runPromise(Stream.runCount(readLogFile(path)))
          if (n !== readCount) throw new Error(`read ${n} records, expected ${readCount}`)
        }),
    ])
    const rawDecode = "raw frames in memory + @msgpack/msgpack decode"
    add({ name: rawDecode, value: msgpackRate!, unit: "records/s" })
    add({
      name: "raw frames in memory + msgpackr unpack",
      value: msgpackrRate!,
      unit: "records/s",
      baseline: rawDecode,
    })
    add({
      name: "ours readLogFile (chunked reads, crc, decode, seq check)",
      value: readerRate!,
      unit: "records/s",
      baseline: rawDecode,
    })
    // Memory: the reader's buffers stay near one chunk whatever the file size.
    const fileMiB = file.length / 2 ** 20
    payloads.length = 0
    const before = process.memoryUsage().arrayBuffers
    let peak = before
    await Effect.runPromise(
      Stream.runForEach(readLogFile(path), () =>
        Effect.sync(() => {
          const now = process.memoryUsage().arrayBuffers
          if (now > peak) peak = now
        }),
      ),
    )
    add({
      name: `reader peak buffer growth over a ${fileMiB.toFixed(0)} MiB log`,
      value: (peak - before) / 2 ** 20,
      unit: "MiB",
      lowerIsBetter: true,
    })
    const payload = new Encoder().encode([1, 1, 1_700_000_000_000, body])
    return { title: `event log (${payload.length} B records, runs sized to ~${REP_SECONDS}s each)`, rows }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
