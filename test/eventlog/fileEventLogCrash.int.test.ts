import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import { join, resolve } from "node:path"
import { Effect, Layer, Stream } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Clock } from "../../src/adapters/clock.js"
import { EventLog } from "../../src/eventlog/eventLog.js"
import { fileEventLogLayer, logFilePath } from "../../src/eventlog/fileEventLog.js"

const root = resolve(import.meta.dirname, "../..")
const fixture = join(root, "test/fixtures/eventLogAppender.mjs")

interface Run {
  /** `lastSeq` the child found when it opened the log. */
  readonly openedAt: number
  /** Every seq the child printed as acknowledged before it died. */
  readonly acked: number[]
}

/** Starts the appender, lets it acknowledge at least `minAcks` seqs, then SIGKILLs it mid-stream. */
function crashAfter(dir: string, durability: string, minAcks: number): Promise<Run> {
  return new Promise<Run>((resolvePromise, reject) => {
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [fixture, dir, durability], {
      stdio: "pipe",
    })
    let out = ""
    let err = ""
    let killed = false
    const lines = () => out.split("\n").filter((l) => l !== "")
    const deadline = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`appender did not acknowledge ${minAcks} seqs in time; stderr: ${err}`))
    }, 20_000)
    child.stdout.setEncoding("utf8")
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (d: string) => {
      err += d
    })
    child.stdout.on("data", (d: string) => {
      out += d
      if (!killed && lines().length > minAcks) {
        killed = true
        child.kill("SIGKILL")
      }
    })
    child.on("close", (code, signal) => {
      clearTimeout(deadline)
      if (signal !== "SIGKILL") return reject(new Error(`appender exited with ${code}: ${err}`))
      const [first, ...rest] = lines()
      const opened = /^open (\d+) \d+$/.exec(first ?? "")
      if (!opened) return reject(new Error(`unexpected first line ${JSON.stringify(first)}; stderr: ${err}`))
      // The last line may be cut by the kill; only whole lines are acknowledgements.
      const complete = out.endsWith("\n") ? rest : rest.slice(0, -1)
      resolvePromise({ openedAt: Number(opened[1]), acked: complete.map(Number) })
    })
  })
}

describe("file event log survives SIGKILL of its writer", () => {
  let tmp: string
  beforeEach(() => {
    if (!fs.existsSync(join(root, "dist/eventlog/fileEventLog.js"))) {
      throw new Error("dist/ is missing: run `npm run build` first (npm test does)")
    }
    tmp = fs.mkdtempSync(join(os.tmpdir(), "agh-eventlog-crash-"))
  })
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

  /** Opens the log as a new writer would after the crash and reads it back. */
  const recover = (dir: string) =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const log = yield* EventLog
          const writer = yield* log.open("crash")
          const records = yield* Stream.runCollect(log.read("crash"))
          return { report: writer.report, seqs: [...records].map((r) => r.seq) }
        }),
      ).pipe(Effect.provide(fileEventLogLayer({ dir }).pipe(Layer.provide(Clock.layer)))),
    )

  for (const durability of ["always", "batch"] as const) {
    it(`keeps every acknowledged seq, gap-free, across two crashes (${durability})`, async () => {
      const dir = join(tmp, durability)
      let expectedOpen = 0
      for (let round = 0; round < 2; round++) {
        const run = await crashAfter(dir, durability, 100)
        expect(run.openedAt).toBe(expectedOpen)
        expect(run.acked.length).toBeGreaterThan(100)
        expect(new Set(run.acked).size).toBe(run.acked.length)
        const { report, seqs } = await recover(dir)
        expect(seqs).toEqual(Array.from({ length: report.lastSeq }, (_, i) => i + 1))
        expect(Math.min(...run.acked)).toBeGreaterThan(expectedOpen)
        expect(Math.max(...run.acked)).toBeLessThanOrEqual(report.lastSeq)
        // The dead writer's lock was taken over and released: only the log remains.
        expect(fs.readdirSync(dir)).toEqual(["crash.aglog"])
        expect(fs.statSync(logFilePath(dir, "crash")).size).toBeGreaterThan(0)
        expectedOpen = report.lastSeq
      }
    })
  }
})
