import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { sequentialIds } from "../../src/adapters/ids.js"
import { MemoryLockWorld } from "../../src/adapters/memoryLockWorld.js"
import { jitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { taskFilePath } from "../../src/cron/taskFile.js"
import { readProjectRegistry } from "../../src/scheduler/schedulerConfigFile.js"
import { createSchedulerService, type SchedulerService } from "../../src/scheduler/schedulerService.js"
import { defaultServerConfig, type ServerConfig } from "../../src/server/config.js"
import { homeLayout } from "../../src/server/home.js"
import { FakeSessionHandle, FakeSessionManager } from "../support/fakeSessionHandle.js"
import { HOUR, MIN, T0 } from "./schedulerHarness.js"

let root: string
let project: string
let clock: ManualClock
let world: MemoryLockWorld
const services: SchedulerService[] = []

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "agh-schedsvc-")))
  project = join(root, "work", "app")
  mkdirSync(join(project, ".claude"), { recursive: true })
  clock = new ManualClock(T0)
  world = new MemoryLockWorld({ clock })
})

afterEach(async () => {
  for (const s of services.splice(0)) await s.close()
  rmSync(root, { recursive: true, force: true })
})

function writeTasks(tasks: ReadonlyArray<Record<string, unknown>>) {
  writeFileSync(taskFilePath(project), `${JSON.stringify({ tasks })}\n`)
}

async function host(
  name: string,
  pid: number,
  extra: { cronJson?: unknown; config?: Partial<ServerConfig> } = {},
) {
  const homeDir = join(root, name)
  mkdirSync(join(homeDir, "logs"), { recursive: true })
  if (extra.cronJson !== undefined) writeFileSync(join(homeDir, "cron.json"), JSON.stringify(extra.cronJson))
  const config: ServerConfig = {
    ...defaultServerConfig(homeDir),
    work_roots: [join(root, "work")],
    ...extra.config,
  }
  const manager = new FakeSessionManager(join(root, "work"))
  const lines: string[] = []
  const service = await createSchedulerService({
    home: homeLayout(homeDir),
    config,
    clock,
    sessionManager: manager,
    ids: sequentialIds(pid),
    zone: "UTC",
    lock: { backend: world.backend({ pid }) },
    watch: { pollMs: 60_000 },
    configPollMs: 0,
    log: (line) => lines.push(line),
  })
  services.push(service)
  return { service, manager, lines, homeDir }
}

async function advance(ms: number, hosts: ReadonlyArray<SchedulerService>) {
  const target = clock.now() + ms
  while (clock.now() < target) {
    clock.advanceTo(Math.min(target, clock.now() + 10 * MIN))
    for (const h of hosts) await h.settle()
  }
}

describe("createSchedulerService", () => {
  it("schedules the projects of cron.json and fires a durable task into a new session in the project", async () => {
    writeTasks([
      {
        id: "80000000",
        cron: "0 * * * *",
        prompt: "summarise the CI failures",
        createdAt: T0 - MIN,
        recurring: true,
      },
    ])
    const { service, manager } = await host("h1", 1000, { cronJson: { projects: [project] } })
    clock.advance(0)
    await service.settle()
    expect(service.projects().map((p) => p.projectDir)).toEqual([project])
    expect(service.project(project)?.holdsLock()).toBe(true)
    await advance(5 * MIN, [service])
    expect(manager.created).toEqual([
      expect.objectContaining({
        workDir: project,
        prompt: "summarise the CI failures",
        agent: "builtin",
        skipPermissions: false,
        title: "cron 80000000: summarise the CI failures",
      }),
    ])
    const history = await service.history(project)
    expect(history.rows.filter((r) => r.what === "fired")).toEqual([
      expect.objectContaining({
        task: "80000000",
        fire_at_ms: T0 + 3 * MIN,
        session_id: manager.list()[0]?.id,
      }),
    ])
  })

  it("records a project added at run time in the registry, so the next host schedules it too", async () => {
    const { service, homeDir } = await host("h1", 1000)
    expect(service.projects()).toEqual([])
    await service.addProject(project)
    expect(Result.getOrThrow(readProjectRegistry(homeDir))).toEqual([project])
    await service.close()
    services.splice(services.indexOf(service), 1)
    const again = await createSchedulerService({
      home: homeLayout(homeDir),
      config: { ...defaultServerConfig(homeDir), work_roots: [join(root, "work")] },
      clock,
      sessionManager: new FakeSessionManager(join(root, "work")),
      lock: { backend: world.backend({ pid: 1001 }) },
      configPollMs: 0,
    })
    services.push(again)
    expect(again.projects().map((p) => p.projectDir)).toEqual([project])
  })

  it("a fire outside the work roots is refused by the session policy and recorded as failed", async () => {
    writeTasks([{ id: "80000000", cron: "0 * * * *", prompt: "p", createdAt: T0 - MIN, recurring: true }])
    const { service, manager } = await host("h1", 1000, {
      cronJson: { projects: [project] },
      config: { work_roots: [join(root, "elsewhere")] },
    })
    clock.advance(0)
    await advance(5 * MIN, [service])
    expect(manager.created).toEqual([])
    const failed = (await service.history(project)).rows.filter((r) => r.what === "failed")
    expect(failed[0]?.detail).toMatch(/^AGH_POLICY_CWD: /)
  })

  it("reloads cron.json: a valid jitter change reschedules, an invalid file is refused and the old config stays", async () => {
    writeTasks([{ id: "80000000", cron: "0 * * * *", prompt: "p", createdAt: T0 - MIN, recurring: true }])
    const { service, lines, homeDir } = await host("h1", 1000, { cronJson: { projects: [project] } })
    clock.advance(0)
    await service.settle()
    const scheduler = service.project(project)
    expect(scheduler?.armedFireAt("80000000")).toBe(T0 + 3 * MIN)
    writeFileSync(
      join(homeDir, "cron.json"),
      JSON.stringify({ projects: [project], jitter: { recurringFrac: 0.2 } }),
    )
    expect(Result.isSuccess(await service.reloadConfig())).toBe(true)
    await service.settle()
    expect(service.jitter().recurringFrac).toBe(0.2)
    expect(scheduler?.armedFireAt("80000000")).toBe(T0 + 6 * MIN)
    writeFileSync(
      join(homeDir, "cron.json"),
      JSON.stringify({ jitter: { recurringFrac: 0.3, oneShotMinuteMod: 0 } }),
    )
    const refused = await service.reloadConfig()
    expect(Result.isFailure(refused)).toBe(true)
    if (Result.isFailure(refused)) {
      expect(refused.failure.code).toBe("AGH_CRON_CONFIG_INVALID")
      expect(refused.failure.message).toContain("oneShotMinuteMod")
      expect(refused.failure.message).toContain(join(homeDir, "cron.json"))
    }
    expect(lines.at(-1)).toMatch(/^AGH_CRON_CONFIG_INVALID: .*oneShotMinuteMod/)
    expect(service.jitter().recurringFrac).toBe(0.2)
    expect(scheduler?.jitter().recurringFrac).toBe(0.2)
  })

  it("refuses to start on an invalid cron.json", async () => {
    await expect(host("h1", 1000, { cronJson: { projects: ["relative/path"] } })).rejects.toMatchObject({
      code: "AGH_CRON_CONFIG_INVALID",
      message: expect.stringContaining('field "projects[0]": expected an absolute path'),
    })
  })

  it("setJitterConfig adjusts every project, validated", async () => {
    writeTasks([{ id: "80000000", cron: "0 * * * *", prompt: "p", createdAt: T0 - MIN, recurring: true }])
    const { service } = await host("h1", 1000, { cronJson: { projects: [project] } })
    clock.advance(0)
    await service.settle()
    expect(Result.isFailure(service.setJitterConfig({ recurringCapMs: 31 * MIN }))).toBe(true)
    expect(service.jitter()).toEqual(DEFAULT_CRON_JITTER_CONFIG)
    expect(Result.isSuccess(service.setJitterConfig({ recurringCapMs: MIN }))).toBe(true)
    await service.settle()
    expect(service.project(project)?.armedFireAt("80000000")).toBe(T0 + MIN)
  })

  it("fires session-only tasks into their session until the session ends", async () => {
    const { service, manager } = await host("h1", 1000)
    const session = manager.add(new FakeSessionHandle({ id: "s_owner", workDir: project }))
    await service.trackSession("s_owner", project)
    await Effect.runPromise(
      service.sessionTasks
        .forSession("s_owner")
        .add({ cron: "*/30 * * * *", prompt: "status?", recurring: true, id: "80000000" }),
    )
    await advance(HOUR + 5 * MIN, [service]) // due at :31:30 and :01:30
    expect(session.userMessages.map((m) => m.message)).toEqual([
      { role: "user", content: "status?" },
      { role: "user", content: "status?" },
    ])
    expect(manager.created).toEqual([])
    await service.endSession("s_owner")
    await advance(HOUR, [service])
    expect(session.userMessages).toHaveLength(2)
  })

  it("two hosts on one project: exactly one fires each occurrence, the other takes over when it stops", async () => {
    const due = jitteredNextCronRunMs(
      "*/20 * * * *",
      T0 - MIN,
      "80000000",
      DEFAULT_CRON_JITTER_CONFIG,
      "UTC",
    ) as number
    writeTasks([{ id: "80000000", cron: "*/20 * * * *", prompt: "p", createdAt: T0 - MIN, recurring: true }])
    const a = await host("h1", 1000, { cronJson: { projects: [project] } })
    const b = await host("h2", 2000, { cronJson: { projects: [project] } })
    clock.advance(0)
    await advance(HOUR - MIN, [a.service, b.service])
    await a.service.close()
    services.splice(services.indexOf(a.service), 1)
    await advance(HOUR, [b.service])
    const fires = [
      ...(await a.service.history(project)).rows,
      ...(await b.service.history(project)).rows,
    ].filter((r) => r.what === "fired" && r.session_id !== null)
    const times = fires.map((r) => r.fire_at_ms as number).sort((x, y) => x - y)
    expect(times).toEqual([0, 1, 2, 3, 4, 5].map((k) => due + k * 20 * MIN))
    expect(a.manager.created.length + b.manager.created.length).toBe(6)
    expect(b.manager.created.length).toBeGreaterThan(0)
  })
})
