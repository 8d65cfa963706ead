import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Result } from "effect"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { parseTaskFile, taskFilePath } from "../../src/cron/taskFile.js"

const root = resolve(import.meta.dirname, "../..")
const writerScript = resolve(root, "test/fixtures/taskStoreWriter.mjs")

interface Writer {
  readonly child: ChildProcessWithoutNullStreams
  readonly ready: Promise<void>
  readonly done: Promise<{ readonly code: number | null; readonly ids: string[]; readonly stderr: string }>
}

function startWriter(project: string, count: number): Writer {
  const child = spawn(process.execPath, [writerScript, project, String(count)], { cwd: root })
  let stdout = ""
  let stderr = ""
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolveReady) => {
    markReady = resolveReady
  })
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
    if (stdout.startsWith("ready\n")) markReady()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const done = new Promise<{ code: number | null; ids: string[]; stderr: string }>((resolveDone) => {
    child.on("close", (code) => {
      markReady()
      const ids = stdout.split("\n").filter((line) => line !== "" && line !== "ready")
      resolveDone({ code, ids, stderr })
    })
  })
  return { child, ready, done }
}

beforeAll(() => {
  if (!existsSync(resolve(root, "dist/cron/fileTaskStore.js"))) {
    throw new Error("dist/ has no task store: run `npm run build` before the integration tests")
  }
})

describe("file task store under concurrent writers (real processes)", () => {
  const dirs: string[] = []
  const writers: Writer[] = []
  afterEach(() => {
    for (const w of writers.splice(0)) if (w.child.exitCode === null) w.child.kill("SIGKILL")
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it("loses no add when several processes add at the same moment", async () => {
    const project = mkdtempSync(join(tmpdir(), "agh-tasks-race-"))
    dirs.push(project)
    const processes = 3
    const perProcess = 15
    for (let i = 0; i < processes; i++) writers.push(startWriter(project, perProcess))
    await Promise.all(writers.map((w) => w.ready))
    for (const w of writers) w.child.stdin.write("go\n")
    const results = await Promise.all(writers.map((w) => w.done))
    for (const r of results)
      expect({ code: r.code, stderr: r.stderr, added: r.ids.length }).toEqual({
        code: 0,
        stderr: "",
        added: perProcess,
      })
    const reported = results.flatMap((r) => r.ids)
    const view = parseTaskFile(readFileSync(taskFilePath(project), "utf8"), "tasks")
    if (Result.isFailure(view)) throw view.failure
    expect(view.success.invalid).toEqual([])
    const stored = view.success.tasks.map((t) => t.id)
    expect(new Set(reported).size).toBe(processes * perProcess)
    expect([...stored].sort()).toEqual([...reported].sort())
    // Each writer's own tasks appear in the order it added them.
    for (const r of results) expect(stored.filter((id) => r.ids.includes(id))).toEqual(r.ids)
    expect(readdirSync(join(project, ".claude"))).toEqual(["scheduled_tasks.json"])
  })
})
