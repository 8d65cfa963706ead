import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { taskFilePath } from "../../src/cron/taskFile.js"
import { makeTaskFileEditor } from "../../src/scheduler/taskFileEditor.js"

const T0 = Date.parse("2026-03-01T00:00:00Z")
let dir: string

const task = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  cron: "*/5 * * * *",
  prompt: `p ${id}`,
  createdAt: T0,
  recurring: true,
  ...extra,
})

function write(tasks: unknown[], extra: Record<string, unknown> = {}) {
  writeFileSync(taskFilePath(dir), `${JSON.stringify({ ...extra, tasks }, null, 2)}\n`)
}
const read = () => JSON.parse(readFileSync(taskFilePath(dir), "utf8"))

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agh-editor-"))
  mkdirSync(join(dir, ".claude"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe("makeTaskFileEditor", () => {
  it("claims a fire by moving lastFiredAt on, only if nobody recorded a later one", async () => {
    write([
      task("00000001"),
      task("00000002", { lastFiredAt: T0 + 10 }),
      task("00000003", { recurring: false }),
    ])
    const editor = makeTaskFileEditor(dir)
    const outcomes = await Promise.all([
      editor.claim({ taskId: "00000001", base: T0, lastFiredAt: T0 + 5, oneShot: false }),
      editor.claim({ taskId: "00000002", base: T0 + 5, lastFiredAt: T0 + 20, oneShot: false }),
      editor.claim({ taskId: "00000002", base: T0 + 10, lastFiredAt: T0 + 15, oneShot: false }),
      editor.claim({ taskId: "00000003", base: T0, lastFiredAt: T0 + 7, oneShot: true }),
      editor.claim({ taskId: "00000003", base: T0, lastFiredAt: T0 + 8, oneShot: true }),
      editor.claim({ taskId: "0000dead", base: T0, lastFiredAt: T0 + 8, oneShot: false }),
    ])
    expect(outcomes.map((o) => o.kind)).toEqual([
      "claimed",
      "alreadyFired",
      "claimed",
      "claimed",
      "alreadyFired",
      "gone",
    ])
    expect(outcomes[1]).toEqual({ kind: "alreadyFired", lastFiredAt: T0 + 10 })
    expect(read().tasks.map((t: { lastFiredAt?: number }) => t.lastFiredAt)).toEqual([
      T0 + 5,
      T0 + 15,
      T0 + 7,
    ])
  })

  it("two schedulers claiming the same occurrence at once: exactly one gets it", async () => {
    write([task("00000001")])
    const a = makeTaskFileEditor(dir)
    const b = makeTaskFileEditor(dir)
    for (let slot = 1; slot <= 20; slot++) {
      const base = slot === 1 ? T0 : T0 + (slot - 1) * 300_000
      const request = { taskId: "00000001", base, lastFiredAt: T0 + slot * 300_000, oneShot: false }
      const outcomes = await Promise.all([a.claim(request), b.claim(request)])
      expect(outcomes.filter((o) => o.kind === "claimed")).toHaveLength(1)
    }
    expect(read().tasks[0].lastFiredAt).toBe(T0 + 20 * 300_000)
  })

  it("removes tasks, keeps unknown fields and invalid entries, and refuses a corrupt file untouched", async () => {
    write([task("00000001", { future: { x: 1 } }), { id: "bad" }, task("00000002")], { version: 3 })
    const editor = makeTaskFileEditor(dir)
    expect(await Promise.all([editor.remove("00000002"), editor.remove("00000002")])).toEqual([true, false])
    await editor.claim({ taskId: "00000001", base: T0, lastFiredAt: T0 + 1, oneShot: false })
    expect(read()).toEqual({
      version: 3,
      tasks: [task("00000001", { future: { x: 1 }, lastFiredAt: T0 + 1 }), { id: "bad" }],
    })
    writeFileSync(taskFilePath(dir), "{ torn")
    await expect(
      editor.claim({ taskId: "00000001", base: T0 + 1, lastFiredAt: T0 + 2, oneShot: false }),
    ).rejects.toMatchObject({
      code: "AGH_TASKS_CORRUPT",
    })
    expect(readFileSync(taskFilePath(dir), "utf8")).toBe("{ torn")
  })
})
