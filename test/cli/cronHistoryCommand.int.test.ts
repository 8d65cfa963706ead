import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { liveSchedulerLockBackend } from "../../src/adapters/schedulerLockBackend.js"
import type { CliIo } from "../../src/cli/cliCommand.js"
import { cronHistorySubcommand } from "../../src/cli/cronHistoryCommand.js"
import { jitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { taskFilePath } from "../../src/cron/taskFile.js"
import { hostTimeZone } from "../../src/cron/zoneOffset.js"
import { fileEventLogLayer } from "../../src/eventlog/fileEventLog.js"
import { makeHeapClock } from "../../src/scheduler/heapClock.js"
import { startProjectScheduler } from "../../src/scheduler/projectScheduler.js"
import { createSchedulerService, type SchedulerService } from "../../src/scheduler/schedulerService.js"
import { startTriggerScheduling } from "../../src/scheduler/triggerTasks.js"
import { defaultServerConfig } from "../../src/server/config.js"
import { homeLayout } from "../../src/server/home.js"
import { runBuiltCli } from "../support/builtCli.js"
import { FakeSessionManager } from "../support/fakeSessionHandle.js"
import { memoryStore } from "../triggers/triggerHarness.js"
import { fakeIo } from "./connectIo.js"

const repo = resolve(import.meta.dirname, "../..")
const T0 = Date.parse("2026-03-01T00:00:00Z")
const MIN = 60_000

let root: string
let project: string
let home: string

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "agh-cron-history-")))
  project = join(root, "work", "app")
  home = join(root, "home")
  mkdirSync(join(project, ".claude"), { recursive: true })
  mkdirSync(join(home, "logs"), { recursive: true })
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

function io(): CliIo & { out: () => string; err: () => string } {
  const t = fakeIo({ cwd: project })
  return { ...t.io, out: () => t.stdout.text, err: () => t.stderr.text }
}

describe("agenthost cron history", () => {
  it("prints the scheduler's rows from <home>/logs: fires with their sessions, as a table or JSON", async () => {
    writeFileSync(
      taskFilePath(project),
      JSON.stringify({
        tasks: [{ id: "80000000", cron: "0 * * * *", prompt: "p", createdAt: T0 - MIN, recurring: true }],
      }),
    )
    const clock = new ManualClock(T0)
    const scheduler = await startProjectScheduler({
      projectDir: project,
      eventLog: fileEventLogLayer({ dir: join(home, "logs") }),
      clock,
      zone: "UTC",
      lock: { backend: liveSchedulerLockBackend(clock) },
      watch: { pollMs: 0 },
      fire: async () => "s_0000000000000000000000aa",
    })
    clock.advance(0)
    await scheduler.settle()
    clock.advanceTo(T0 + 2 * 60 * MIN)
    await scheduler.settle()
    await scheduler.close()

    const table = io()
    expect(await cronHistorySubcommand.run(["--home", home], table)).toBe(0)
    const lines = table.out().trimEnd().split("\n")
    expect(lines[0]).toMatch(/^TIME +TASK +WHAT +SESSION +DETAIL$/)
    expect(lines.filter((l) => / fired /.test(l))).toHaveLength(2)
    expect(lines.find((l) => / fired /.test(l))).toContain(
      "80000000  fired     s_0000000000000000000000aa  due 2026-03-01T00:03:00.000Z",
    )

    const json = io()
    expect(
      await cronHistorySubcommand.run(["--home", home, "--project", project, "--json", "--limit", "2"], json),
    ).toBe(0)
    const parsed = JSON.parse(json.out())
    expect(parsed.project).toBe(project)
    expect(parsed.rows.map((r: { what: string }) => r.what)).toEqual(["disarmed", "lock"])
  })

  it("--triggers prints the scheduled triggers' rows, the trigger id as TASK", async () => {
    const { store, clock, launcher } = await memoryStore({ hex: ["80000000", "00000001"] })
    const timers = makeHeapClock(clock)
    const scheduling = await startTriggerScheduling({
      store,
      eventLog: fileEventLogLayer({ dir: join(home, "logs") }),
      clock,
      timers,
      zone: "UTC",
      jitter: () => DEFAULT_CRON_JITTER_CONFIG,
    })
    const t = await store.create({
      name: "t",
      prompt: "p",
      project: { work_dir: project },
      agent: "builtin",
      schedule: { cron: "*/5 * * * *", tz: "UTC" },
    })
    await scheduling.settle()
    clock.advanceTo(clock.nextDue() as number)
    await scheduling.settle()
    await store.settled()
    await scheduling.close()
    await store.close()
    timers.clear()
    expect(launcher.calls).toHaveLength(1)

    const table = io()
    expect(await cronHistorySubcommand.run(["--home", home, "--triggers"], table)).toBe(0)
    const fired = table
      .out()
      .split("\n")
      .filter((l) => / fired /.test(l))
    expect(fired).toHaveLength(1)
    expect(fired[0]).toContain(`${t.id}  fired     s_000000000000000000000001`)
    await expect(
      cronHistorySubcommand.run(["--home", home, "--triggers", "--project", project], io()),
    ).rejects.toMatchObject({ code: "AGH_CLI_USAGE" })
  })

  it("says so when the host never scheduled the project, and refuses bad flags", async () => {
    const none = io()
    expect(await cronHistorySubcommand.run(["--home", home, "--json"], none)).toBe(0)
    expect(JSON.parse(none.out()).rows).toEqual([])
    expect(none.err()).toContain("no scheduler history for")
    await expect(cronHistorySubcommand.run(["--limit=-1"], io())).rejects.toMatchObject({
      code: "AGH_CLI_USAGE",
    })
    await expect(cronHistorySubcommand.run(["--project", join(root, "nope")], io())).rejects.toMatchObject({
      code: "AGH_CLI_USAGE",
    })
  })
})

const agenthost = (cwd: string, args: ReadonlyArray<string>) =>
  runBuiltCli(args, { cwd, env: { AGENTHOST_HOME: join(root, "unused") } })

describe("done when: a task added with `agenthost cron add` fires once on a host, even with two hosts, and `cron history` shows it", () => {
  const services: SchedulerService[] = []
  beforeAll(() => {
    if (!existsSync(resolve(repo, "dist/cli/cronHistoryCommand.js"))) {
      throw new Error("dist/ has no cron history: run `npm run build` before the integration tests")
    }
  })
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close()
  })

  it("two hosts, real lock and task files, the built CLI on both ends", async () => {
    const added = await agenthost(project, [
      "cron",
      "add",
      "*/30 * * * *",
      "summarise the overnight CI runs",
      "--json",
    ])
    expect([added.code, added.stderr]).toEqual([0, ""])
    const task = JSON.parse(added.stdout) as { id: string; createdAt: number }
    const zone = hostTimeZone()
    const due = jitteredNextCronRunMs(
      "*/30 * * * *",
      task.createdAt,
      task.id,
      DEFAULT_CRON_JITTER_CONFIG,
      zone,
    ) as number
    const clock = new ManualClock(task.createdAt)
    const hosts = await Promise.all(
      ["h1", "h2"].map(async (name) => {
        const dir = join(root, name)
        mkdirSync(join(dir, "logs"), { recursive: true })
        writeFileSync(join(dir, "cron.json"), JSON.stringify({ projects: [project] }))
        const manager = new FakeSessionManager(join(root, "work"))
        const service = await createSchedulerService({
          home: homeLayout(dir),
          config: { ...defaultServerConfig(dir), work_roots: [join(root, "work")] },
          clock,
          sessionManager: manager,
          zone,
          watch: { pollMs: 0 },
          configPollMs: 0,
        })
        services.push(service)
        return { dir, manager, service }
      }),
    )
    clock.advance(0)
    for (const h of hosts) await h.service.settle()
    // Both start at once: either may win the lock, exactly one does.
    const holding = hosts.map((h) => h.service.project(project)?.holdsLock() === true)
    expect(holding.filter(Boolean)).toHaveLength(1)
    const holder = hosts[holding.indexOf(true)] as (typeof hosts)[number]
    const idle = hosts[holding.indexOf(false)] as (typeof hosts)[number]
    clock.advanceTo(due - 1)
    for (const h of hosts) await h.service.settle()
    expect(hosts.flatMap((h) => h.manager.created)).toEqual([])
    clock.advanceTo(due)
    for (const h of hosts) await h.service.settle()
    const created = hosts.flatMap((h) => h.manager.created)
    expect(created).toEqual([
      expect.objectContaining({ workDir: project, prompt: "summarise the overnight CI runs" }),
    ])
    expect(idle.manager.created).toEqual([])
    const sessionId = holder.manager.list()[0]?.id
    expect(JSON.parse(readFileSync(taskFilePath(project), "utf8")).tasks[0].lastFiredAt).toBe(due)

    const shown = await agenthost(project, ["cron", "history", "--home", holder.dir, "--json"])
    expect(shown.code).toBe(0)
    const fired = (
      JSON.parse(shown.stdout).rows as Array<{
        what: string
        task: string
        session_id: string
        fire_at_ms: number
      }>
    ).filter((r) => r.what === "fired")
    expect(fired).toEqual([
      expect.objectContaining({ task: task.id, session_id: sessionId, fire_at_ms: due }),
    ])
    const other = await agenthost(project, ["cron", "history", "--home", idle.dir, "--json"])
    expect(JSON.parse(other.stdout).rows.filter((r: { what: string }) => r.what === "fired")).toEqual([])
  })
})
