import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { sequentialIds } from "../../src/adapters/ids.js"
import { liveProcessTable } from "../../src/adapters/processInfo.js"
import { atomicWriteFile } from "../../src/cron/atomicWriteFile.js"
import { makeFileTaskStore } from "../../src/cron/fileTaskStore.js"
import { taskFilePath } from "../../src/cron/taskFile.js"
import { taskFileLockPath } from "../../src/cron/taskFileLock.js"
import type { TaskStore } from "../../src/cron/taskStore.js"
import { failure, recordWatch, run, T0, taskStoreContract } from "./taskStoreContract.js"

const tempDirs: string[] = []
function tempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "agh-tasks-"))
  tempDirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

taskStoreContract("file", (clock, ids) => {
  const project = tempProject()
  // Short debounce and no poll: the contract's watch test must be driven by fs.watch alone.
  return {
    store: makeFileTaskStore(project, { clock, ids, watch: { debounceMs: 10, pollMs: 0 } }),
    durable: true,
  }
})

/** A file as Claude Code might leave it: fields agenthost does not know, at the top level and on tasks. */
const CLAUDE_FILE = {
  version: 3,
  settings: { nested: [1, { deep: true }] },
  tasks: [
    {
      id: "0a0b0c0d",
      cron: "*/10 * * * *",
      prompt: "poll the deploy",
      createdAt: T0 - 1000,
      recurring: true,
      agentId: "main",
      sessionHint: { id: "x", tags: ["a", "b"] },
    },
    { id: "1a1b1c1d", cron: "0 9 * * *", prompt: "standup", createdAt: T0 - 500, lastFiredAt: T0 - 100 },
  ],
}

describe("file task store", () => {
  let project: string
  let path: string
  let clock: ManualClock
  let store: TaskStore
  const write = (value: unknown) => {
    mkdirSync(join(project, ".claude"), { recursive: true })
    writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value, null, 2))
  }
  const readJson = () => JSON.parse(readFileSync(path, "utf8"))
  const dirEntries = () => readdirSync(join(project, ".claude")).sort()

  beforeEach(() => {
    project = tempProject()
    path = taskFilePath(project)
    clock = new ManualClock(T0)
    store = makeFileTaskStore(project, { clock, ids: sequentialIds(), lock: { timeoutMs: 200 } })
  })

  it("creates .claude/ and the file on the first add, leaving no temp or lock file behind", async () => {
    expect(existsSync(join(project, ".claude"))).toBe(false)
    await run(store.add({ cron: "*/5 * * * *", prompt: "check", recurring: true, agentId: "runtime-only" }))
    expect(dirEntries()).toEqual(["scheduled_tasks.json"])
    expect(readFileSync(path, "utf8")).toBe(
      `${JSON.stringify(
        { tasks: [{ id: "00000001", cron: "*/5 * * * *", prompt: "check", createdAt: T0, recurring: true }] },
        null,
        2,
      )}\n`,
    )
  })

  it("keeps unknown fields, top-level and per task, through add, markFired and remove", async () => {
    write(CLAUDE_FILE)
    const listed = await run(store.list())
    expect(listed.tasks).toEqual([
      {
        id: "0a0b0c0d",
        cron: "*/10 * * * *",
        prompt: "poll the deploy",
        createdAt: T0 - 1000,
        recurring: true,
        durable: true,
      },
      {
        id: "1a1b1c1d",
        cron: "0 9 * * *",
        prompt: "standup",
        createdAt: T0 - 500,
        lastFiredAt: T0 - 100,
        durable: true,
      },
    ])
    const added = await run(store.add({ cron: "@hourly", prompt: "new", recurring: false }))
    await run(store.markFired("0a0b0c0d", T0 + 60_000))
    expect(await run(store.remove("1a1b1c1d"))).toBe(true)
    expect(readJson()).toEqual({
      version: 3,
      settings: { nested: [1, { deep: true }] },
      tasks: [
        { ...CLAUDE_FILE.tasks[0], lastFiredAt: T0 + 60_000 },
        { id: added.id, cron: "@hourly", prompt: "new", createdAt: T0, recurring: false },
      ],
    })
  })

  it("keeps the file's permission bits", async () => {
    write({ tasks: [] })
    chmodSync(path, 0o600)
    await run(store.add({ cron: "* * * * *", prompt: "x", recurring: true }))
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  it("reports invalid entries with index, id and field, keeps them verbatim, and does not schedule them", async () => {
    const bad = [
      { id: "2a2b2c2d", cron: "61 * * * *", prompt: "bad minute", createdAt: T0 },
      { id: "NOTHEX!!", cron: "* * * * *", prompt: "bad id", createdAt: T0 },
      { id: "3a3b3c3d", cron: "* * * * *", prompt: "x", createdAt: "yesterday" },
      "not an object",
      { id: "0a0b0c0d", cron: "* * * * *", prompt: "duplicate", createdAt: T0 },
      { id: "4a4b4c4d", cron: "* * * * *", prompt: "x", createdAt: T0, recurring: "yes" },
      { id: "5a5b5c5d", cron: "* * * * *", prompt: "", createdAt: T0 },
    ]
    write({ tasks: [CLAUDE_FILE.tasks[0], ...bad] })
    const listing = await run(store.list())
    expect(listing.tasks.map((t) => t.id)).toEqual(["0a0b0c0d"])
    expect(listing.error).toBeUndefined()
    expect(listing.invalid.map((e) => [e.code, e.reason, e.index, e.taskId, e.field])).toEqual([
      ["AGH_TASKS_CORRUPT", "InvalidTask", 1, "2a2b2c2d", "cron"],
      ["AGH_TASKS_CORRUPT", "InvalidTask", 2, "NOTHEX!!", "id"],
      ["AGH_TASKS_CORRUPT", "InvalidTask", 3, "3a3b3c3d", "createdAt"],
      ["AGH_TASKS_CORRUPT", "InvalidTask", 4, undefined, undefined],
      ["AGH_TASKS_CORRUPT", "InvalidTask", 5, "0a0b0c0d", "id"],
      ["AGH_TASKS_CORRUPT", "InvalidTask", 6, "4a4b4c4d", "recurring"],
      ["AGH_TASKS_CORRUPT", "InvalidTask", 7, "5a5b5c5d", "prompt"],
    ])
    expect(listing.invalid.map((e) => e.message)).toEqual([
      `${path}: task [1] (id "2a2b2c2d"): field "cron": invalid cron expression "61 * * * *": minute field "61": value 61 is out of range 0-59; kept in the file, not scheduled`,
      `${path}: task [2] (id "NOTHEX!!"): field "id": must be 8 lowercase hex characters, got "NOTHEX!!"; kept in the file, not scheduled`,
      `${path}: task [3] (id "3a3b3c3d"): field "createdAt": Expected number, got "yesterday"; kept in the file, not scheduled`,
      `${path}: task [4]: expected an object, got "not an object"; kept in the file, not scheduled`,
      `${path}: task [5] (id "0a0b0c0d"): field "id": duplicates the id of task [0]; kept in the file, not scheduled`,
      `${path}: task [6] (id "4a4b4c4d"): field "recurring": Expected boolean, got "yes"; kept in the file, not scheduled`,
      `${path}: task [7] (id "5a5b5c5d"): field "prompt": must not be blank, got ""; kept in the file, not scheduled`,
    ])
    // Writes go ahead (nothing is lost) and carry the bad entries along untouched.
    const added = await run(store.add({ cron: "* * * * *", prompt: "new", recurring: true, id: "6a6b6c6d" }))
    expect(readJson().tasks).toEqual([
      CLAUDE_FILE.tasks[0],
      ...bad,
      expect.objectContaining({ id: added.id }),
    ])
    // An id held only by a bad entry is still taken, and `remove` deletes bad entries by id too.
    const taken = await failure(
      store.add({ cron: "* * * * *", prompt: "y", recurring: true, id: "2a2b2c2d" }),
    )
    expect(taken.code).toBe("AGH_TASK_INVALID")
    expect(await run(store.remove("2a2b2c2d"))).toBe(true)
    expect(await run(store.remove("0a0b0c0d"))).toBe(true)
    expect(readJson().tasks.map((t: { id?: string }) => t.id)).toEqual([
      "NOTHEX!!",
      "3a3b3c3d",
      undefined,
      "4a4b4c4d",
      "5a5b5c5d",
      "6a6b6c6d",
    ])
  })

  it.each([
    [
      "bad JSON",
      '{"tasks": [',
      /: not valid JSON \(.+\); refusing to write to it until it is fixed or removed$/,
    ],
    ["an empty file", "", /: the file is empty; refusing/],
    ["a top-level array", "[]", /: expected a JSON object \{ "tasks": \[\.\.\.\] \}, got an array; refusing/],
    [
      "tasks not an array",
      '{"tasks": {"id": "0a0b0c0d"}}',
      /: field "tasks": expected an array, got \{"id":"0a0b0c0d"\}; refusing/,
    ],
  ])(
    "treats %s as corrupt: reports AGH_TASKS_CORRUPT and refuses every write",
    async (_what, text, pattern) => {
      write(text)
      const listing = await run(store.list())
      expect(listing.tasks).toEqual([])
      expect(listing.error?.code).toBe("AGH_TASKS_CORRUPT")
      expect(listing.error?.reason).toBe("CorruptFile")
      expect(listing.error?.message.startsWith(`${path}: `)).toBe(true)
      expect(listing.error?.message).toMatch(pattern)
      for (const attempt of [
        store.add({ cron: "* * * * *", prompt: "x", recurring: true }),
        store.remove("0a0b0c0d"),
        store.markFired("0a0b0c0d", T0),
      ]) {
        const error = await failure<unknown>(attempt)
        expect([error.code, error.reason, error.message]).toEqual([
          "AGH_TASKS_CORRUPT",
          "CorruptFile",
          listing.error?.message,
        ])
      }
      expect(readFileSync(path, "utf8")).toBe(text)
      expect(dirEntries()).toEqual(["scheduled_tasks.json"])
    },
  )

  it("reports its last good view while the file is corrupt, and writes again once it is fixed", async () => {
    write(CLAUDE_FILE)
    const good = await run(store.list())
    write('{"tasks": [ {"id": "0a0b0c0d", ')
    const during = await run(store.list())
    expect(during.tasks).toEqual(good.tasks)
    expect(during.error?.code).toBe("AGH_TASKS_CORRUPT")
    write({ tasks: [] })
    await run(store.add({ cron: "* * * * *", prompt: "after the fix", recurring: true }))
    expect((await run(store.list())).tasks.map((t) => t.prompt)).toEqual(["after the fix"])
  })

  it("fails with AGH_TASKS_IO naming the file when it cannot be read", async () => {
    mkdirSync(path, { recursive: true })
    const error = await failure(store.list())
    expect(error.code).toBe("AGH_TASKS_IO")
    expect(error.message).toContain(`cannot read ${path}: `)
  })

  describe("write lock", () => {
    const lockPath = () => taskFileLockPath(path)
    const writeLock = (pid: number, ageMs = 0) => {
      write({ tasks: [] })
      writeFileSync(
        lockPath(),
        JSON.stringify({ pid, host: liveProcessTable.hostId, acquiredAt: Date.now() - ageMs, nonce: "n" }),
      )
      const at = (Date.now() - ageMs) / 1000
      utimesSync(lockPath(), at, at)
    }

    it("waits for a live holder, then gives up with AGH_TASKS_LOCKED naming it", async () => {
      writeLock(process.pid)
      const error = await failure(store.add({ cron: "* * * * *", prompt: "x", recurring: true }))
      expect(error.code).toBe("AGH_TASKS_LOCKED")
      expect(error.message).toMatch(
        new RegExp(
          `^${path}: the write lock is held by pid ${process.pid} \\(${lockPath()}, \\d+ ms old\\); gave up after \\d+ ms$`,
        ),
      )
      expect(readJson()).toEqual({ tasks: [] })
      expect(existsSync(lockPath())).toBe(true)
    })

    it("breaks a lock whose holder is dead", async () => {
      // Pid 2^22 + 1 is above Linux's pid_max default range and macOS's; no such process exists.
      writeLock(4_194_305)
      await run(store.add({ cron: "* * * * *", prompt: "x", recurring: true }))
      expect(readJson().tasks).toHaveLength(1)
      expect(dirEntries()).toEqual(["scheduled_tasks.json"])
    })

    it("breaks a lock older than the stale age even when its pid is alive (reused)", async () => {
      writeLock(process.pid, 60_000)
      await run(store.add({ cron: "* * * * *", prompt: "x", recurring: true }))
      expect(readJson().tasks).toHaveLength(1)
      expect(dirEntries()).toEqual(["scheduled_tasks.json"])
    })
  })

  it("atomicWriteFile's compare-and-swap veto leaves the file and the directory as they were", () => {
    write("old\n")
    expect(atomicWriteFile(path, "new\n", () => false)).toBe(false)
    expect(readFileSync(path, "utf8")).toBe("old\n")
    expect(dirEntries()).toEqual(["scheduled_tasks.json"])
    expect(atomicWriteFile(path, "new\n", () => true)).toBe(true)
    expect(readFileSync(path, "utf8")).toBe("new\n")
  })

  it("watch sees other writers' changes and corruption, keeping the last good tasks meanwhile", async () => {
    const watched = makeFileTaskStore(project, { watch: { debounceMs: 10, pollMs: 0 } })
    const watch = await recordWatch(watched)
    try {
      await watch.next((l) => l.tasks.length === 0 && l.error === undefined)
      write(CLAUDE_FILE)
      await watch.next((l) => l.tasks.length === 2)
      write("{ not json")
      const corrupt = await watch.next((l) => l.error !== undefined)
      expect(corrupt.error?.code).toBe("AGH_TASKS_CORRUPT")
      expect(corrupt.tasks.map((t) => t.id)).toEqual(["0a0b0c0d", "1a1b1c1d"])
      write({ tasks: [CLAUDE_FILE.tasks[1]] })
      const fixed = await watch.next((l) => l.error === undefined && l.tasks.length === 1)
      expect(fixed.tasks[0]!.id).toBe("1a1b1c1d")
    } finally {
      await watch.stop()
    }
  })
})
