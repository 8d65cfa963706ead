import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Result } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { atomicWriteFile } from "../../src/cron/atomicWriteFile.js"
import { taskFilePath } from "../../src/cron/taskFile.js"
import { type TaskFileChange, type TaskFileWatch, watchTaskFile } from "../../src/cron/taskFileWatcher.js"

const task = (id: string, prompt = "p") => ({ id, cron: "* * * * *", prompt, createdAt: 1, recurring: true })
const fileOf = (...ids: string[]) => `${JSON.stringify({ tasks: ids.map((id) => task(id)) })}\n`
const idsOf = (change: TaskFileChange) =>
  Result.isSuccess(change) ? change.success.tasks.map((t) => t.id) : change.failure.code

describe("watchTaskFile", () => {
  let project: string
  let path: string
  let watch: TaskFileWatch | undefined
  let changes: TaskFileChange[]
  let waiters: Array<{ predicate: (c: TaskFileChange) => boolean; resolve: (c: TaskFileChange) => void }>

  const onChange = (change: TaskFileChange) => {
    changes.push(change)
    for (const w of [...waiters]) {
      if (w.predicate(change)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(change)
      }
    }
  }
  /** The next change (not yet seen) that satisfies `predicate`. */
  const nextChange = (predicate: (c: TaskFileChange) => boolean) =>
    new Promise<TaskFileChange>((resolve) => waiters.push({ predicate, resolve }))
  const writeTasks = (...ids: string[]) => {
    mkdirSync(join(project, ".claude"), { recursive: true })
    atomicWriteFile(path, fileOf(...ids))
  }

  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), "agh-watch-"))
    path = taskFilePath(project)
    changes = []
    waiters = []
  })
  afterEach(() => {
    watch?.stop()
    watch = undefined
    rmSync(project, { recursive: true, force: true })
  })

  describe("on a manual clock (events only arm timers; the test fires them)", () => {
    it("reports the current contents once the first debounce window passes", () => {
      writeTasks("0a0b0c0d")
      const clock = new ManualClock(0)
      watch = watchTaskFile(path, onChange, { clock, debounceMs: 50, pollMs: 1000 })
      expect(changes).toEqual([])
      clock.advance(50)
      expect(changes.map(idsOf)).toEqual([["0a0b0c0d"]])
    })

    it("re-reads on every poll, reporting only changed text", () => {
      const clock = new ManualClock(0)
      watch = watchTaskFile(path, onChange, { clock, debounceMs: 50, pollMs: 1000 })
      clock.advance(50)
      expect(changes.map(idsOf)).toEqual([[]])
      clock.advance(1000)
      expect(changes).toHaveLength(1)
      writeTasks("0a0b0c0d")
      clock.advance(1000)
      writeTasks("0a0b0c0d")
      clock.advance(1000)
      mkdirSync(join(project, ".claude"), { recursive: true })
      writeFileSync(path, "{")
      clock.advance(1000)
      writeTasks("1a1b1c1d")
      clock.advance(1000)
      expect(changes.map(idsOf)).toEqual([[], ["0a0b0c0d"], "AGH_TASKS_CORRUPT", ["1a1b1c1d"]])
    })

    it("arms nothing and reports nothing after stop", () => {
      const clock = new ManualClock(0)
      watch = watchTaskFile(path, onChange, { clock, debounceMs: 50, pollMs: 1000 })
      expect(clock.pending).toBe(2)
      watch.stop()
      expect(clock.pending).toBe(0)
      writeTasks("0a0b0c0d")
      clock.advance(10_000)
      expect(changes).toEqual([])
    })

    it("reports AGH_TASKS_IO when the path cannot be read, once per distinct error", () => {
      mkdirSync(path, { recursive: true })
      const clock = new ManualClock(0)
      watch = watchTaskFile(path, onChange, { clock, debounceMs: 50, pollMs: 1000 })
      clock.advance(3050)
      expect(changes.map(idsOf)).toEqual(["AGH_TASKS_IO"])
      const failure = changes[0]
      expect(failure !== undefined && Result.isFailure(failure) && failure.failure.message).toContain(
        `cannot read ${path}: `,
      )
    })
  })

  describe("driven by fs.watch (no poll)", () => {
    const start = async () => {
      watch = watchTaskFile(path, onChange, { debounceMs: 20, pollMs: 0 })
      await nextChange(() => true)
    }

    it("sees a file replaced by rename, never reports the same text twice, and reports corruption", async () => {
      writeTasks("0a0b0c0d")
      await start()
      expect(changes.map(idsOf)).toEqual([["0a0b0c0d"]])
      // A rewrite with the same text, whether or not it gets a debounce window of its own, is not reported.
      writeTasks("0a0b0c0d")
      writeTasks("0a0b0c0d", "1a1b1c1d")
      await nextChange((c) => idsOf(c).length === 2)
      expect(changes.map(idsOf)).toEqual([["0a0b0c0d"], ["0a0b0c0d", "1a1b1c1d"]])
      let next = nextChange(() => true)
      const tmp = join(project, ".claude", "elsewhere.tmp")
      writeFileSync(tmp, '{"tasks": 7}')
      renameSync(tmp, path)
      const corrupt = await next
      expect(idsOf(corrupt)).toBe("AGH_TASKS_CORRUPT")
      next = nextChange(() => true)
      rmSync(path)
      expect(idsOf(await next)).toEqual([])
      expect(changes.map(idsOf)).toEqual([["0a0b0c0d"], ["0a0b0c0d", "1a1b1c1d"], "AGH_TASKS_CORRUPT", []])
    })

    it("waits for .claude/ to appear, then watches the file inside it", async () => {
      await start()
      expect(changes.map(idsOf)).toEqual([[]])
      const next = nextChange(() => true)
      writeTasks("0a0b0c0d")
      expect(idsOf(await next)).toEqual(["0a0b0c0d"])
      const after = nextChange(() => true)
      writeTasks("1a1b1c1d")
      expect(idsOf(await after)).toEqual(["1a1b1c1d"])
    })
  })
})
