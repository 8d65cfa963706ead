import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { MemoryLockWorld } from "../../src/adapters/memoryLockWorld.js"
import { jitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import { taskFilePath } from "../../src/cron/taskFile.js"
import { formatIsoInZone } from "../../src/cron/zonedIso.js"
import { createSchedulerService, type SchedulerService } from "../../src/scheduler/schedulerService.js"
import type { ServerConfig } from "../../src/server/config.js"
import { prepareHome } from "../../src/server/home.js"
import { type AgentHostServer, makeServer } from "../../src/server/httpServer.js"
import { cronRoutes } from "../../src/server/routes/cronRoutes.js"
import { FakeSessionManager } from "../support/fakeSessionHandle.js"

const T0 = Date.parse("2026-03-01T00:00:00Z")
const MIN = 60_000

interface Api {
  readonly status: number
  // biome-ignore lint/suspicious/noExplicitAny: responses are asserted field by field; the schemas are the server's
  readonly json: any
}

let root: string
let project: string
let clock: ManualClock
let manager: FakeSessionManager
let service: SchedulerService
let server: AgentHostServer
let url: string
let token: string

async function api(method: string, path: string, body?: unknown, auth = true): Promise<Api> {
  const headers: Record<string, string> = {}
  if (auth) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers["content-type"] = "application/json"
  const res = await fetch(url + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, json: text === "" ? undefined : JSON.parse(text) }
}

const q = (dir: string) => `project=${encodeURIComponent(dir)}`

beforeEach(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "agh-cron-routes-")))
  const home = prepareHome(join(root, "home"))
  const workRoot = join(root, "work")
  project = join(workRoot, "app")
  mkdirSync(project, { recursive: true })
  const config: ServerConfig = { ...home.config, port: 0, work_roots: [workRoot] }
  clock = new ManualClock(T0)
  manager = new FakeSessionManager(workRoot)
  service = await createSchedulerService({
    home,
    config,
    clock,
    sessionManager: manager,
    zone: "UTC",
    lock: { backend: new MemoryLockWorld({ clock }).backend({ pid: 1000 }) },
    watch: { pollMs: 60_000 },
    configPollMs: 0,
  })
  server = makeServer({ config, home, sessionManager: manager, clock, routes: [cronRoutes(service)] })
  url = (await server.listen()).url
  token = home.token
})

afterEach(async () => {
  await server.close()
  await service.close()
  rmSync(root, { recursive: true, force: true })
})

async function addTask(extra: Record<string, unknown> = {}) {
  const res = await api("POST", "/cron", { project, cron: "0 * * * *", prompt: "check the build", ...extra })
  expect(res.status).toBe(201)
  return res.json
}

describe("cron routes", () => {
  it("are described in /openapi.json", async () => {
    const doc = await api("GET", "/openapi.json")
    expect(Object.keys(doc.json.paths).filter((p) => p.startsWith("/cron"))).toEqual([
      "/cron",
      "/cron/{id}",
      "/cron/config",
      "/cron/history",
    ])
  })

  it("require the token", async () => {
    expect((await api("GET", "/cron", undefined, false)).json.error.code).toBe("AGH_AUTH_REQUIRED")
    expect((await api("POST", "/cron/config", { recurringFrac: 0.5 }, false)).status).toBe(401)
    expect(service.jitter()).toEqual(DEFAULT_CRON_JITTER_CONFIG)
  })

  it("POST /cron adds a durable task, schedules the project, and shows the next fire time after jitter", async () => {
    const task = await addTask()
    expect(task).toMatchObject({
      cron: "0 * * * *",
      prompt: "check the build",
      recurring: true,
      permanent: false,
      project,
    })
    const due = jitteredNextCronRunMs("0 * * * *", T0, task.id, DEFAULT_CRON_JITTER_CONFIG, "UTC") as number
    expect(task.next_fire_at).toBe(formatIsoInZone(due, "UTC"))
    expect(JSON.parse(readFileSync(taskFilePath(project), "utf8")).tasks[0]).toMatchObject({
      id: task.id,
      recurring: true,
    })
    expect(JSON.parse(readFileSync(join(root, "home", "cron", "projects.json"), "utf8"))).toEqual({
      projects: [project],
    })
    clock.advance(0)
    await service.settle()
    const listed = await api("GET", `/cron?${q(project)}`)
    expect(listed.status).toBe(200)
    expect(listed.json).toMatchObject({ project, scheduled: true, holds_lock: true, invalid: [] })
    expect(listed.json.tasks).toEqual([
      expect.objectContaining({
        id: task.id,
        next_fire_at: formatIsoInZone(due, "UTC"),
        next_fire_at_ms: due,
        armed: true,
      }),
    ])
    const all = await api("GET", "/cron")
    expect(all.json.projects.map((p: { project: string }) => p.project)).toEqual([project])
  })

  it("refuses bad tasks with coded errors naming the field", async () => {
    const bad = async (body: Record<string, unknown>) =>
      (await api("POST", "/cron", { project, cron: "0 * * * *", prompt: "p", ...body })).json.error
    expect(await bad({ cron: "61 * * * *" })).toMatchObject({
      code: "AGH_CRON_INVALID",
      message: expect.stringContaining('minute field "61"'),
    })
    expect(await bad({ cron: "0 0 30 2 *" })).toMatchObject({
      code: "AGH_CRON_NO_NEXT_RUN",
      message: expect.stringContaining('field "cron"'),
    })
    expect(await bad({ prompt: "  " })).toMatchObject({
      code: "AGH_TASK_INVALID",
      message: expect.stringContaining("prompt"),
    })
    expect(await bad({ recurring: false, permanent: true })).toMatchObject({
      code: "AGH_BAD_REQUEST",
      message: expect.stringContaining('field "permanent"'),
    })
    const missing = await api("POST", "/cron", { project, cron: "0 * * * *" })
    expect([missing.status, missing.json.error.code]).toEqual([400, "AGH_BAD_REQUEST"])
    expect(missing.json.error.message).toContain('"prompt"')
    expect(existsSync(taskFilePath(project))).toBe(false)
  })

  it("refuses projects outside the work roots (AGH_POLICY_CWD)", async () => {
    const outside = join(root, "outside")
    mkdirSync(outside)
    const added = await api("POST", "/cron", { project: outside, cron: "0 * * * *", prompt: "p" })
    expect([added.status, added.json.error.code]).toEqual([403, "AGH_POLICY_CWD"])
    expect((await api("GET", `/cron?${q(outside)}`)).status).toBe(403)
    expect((await api("GET", `/cron/history?${q(outside)}`)).status).toBe(403)
    expect((await api("DELETE", `/cron/0a1b2c3d?${q(outside)}`)).status).toBe(403)
    expect(existsSync(join(outside, ".claude"))).toBe(false)
  })

  it("DELETE /cron/:id removes the task; an unknown id is AGH_TASK_NOT_FOUND", async () => {
    const task = await addTask()
    clock.advance(0)
    await service.settle()
    const removed = await api("DELETE", `/cron/${task.id}?${q(project)}`)
    expect(removed).toEqual({ status: 200, json: { removed: task.id, project } })
    expect(service.project(project)?.armedTasks()).toBe(0)
    const again = await api("DELETE", `/cron/${task.id}?${q(project)}`)
    expect([again.status, again.json.error.code]).toEqual([404, "AGH_TASK_NOT_FOUND"])
    expect((await api("DELETE", `/cron/${task.id}`)).json.error.message).toContain('"project"')
  })

  it("GET/POST /cron/config adjusts the jitter while running, validated, the old config kept on refusal", async () => {
    const task = await addTask()
    clock.advance(0)
    await service.settle()
    const refused = await api("POST", "/cron/config", { recurringFrac: 1.5, oneShotMaxMs: 10 })
    expect(refused.status).toBe(400)
    expect(refused.json.error.code).toBe("AGH_CRON_CONFIG_INVALID")
    expect(refused.json.error.message).toContain("recurringFrac")
    expect((await api("POST", "/cron/config", { bogus: 1 })).json.error.message).toContain("bogus")
    expect((await api("GET", "/cron/config")).json.jitter).toEqual(DEFAULT_CRON_JITTER_CONFIG)
    const accepted = await api("POST", "/cron/config", { recurringFrac: 0 })
    expect(accepted.status).toBe(200)
    expect(accepted.json.jitter).toEqual({ ...DEFAULT_CRON_JITTER_CONFIG, recurringFrac: 0 })
    const listed = await api("GET", `/cron?${q(project)}`)
    expect(listed.json.tasks[0]).toMatchObject({ id: task.id, next_fire_at_ms: T0 + 60 * MIN })
  })

  it("GET /cron/history shows each fire with its session", async () => {
    const task = await addTask()
    clock.advance(0)
    await service.settle()
    const due = jitteredNextCronRunMs("0 * * * *", T0, task.id, DEFAULT_CRON_JITTER_CONFIG, "UTC") as number
    clock.advanceTo(due)
    await service.settle()
    const history = await api("GET", `/cron/history?${q(project)}&limit=1`)
    expect(history.status).toBe(200)
    expect(history.json.rows).toEqual([
      expect.objectContaining({
        task: task.id,
        what: "fired",
        fire_at_ms: due,
        session_id: manager.list()[0]?.id,
      }),
    ])
    expect(manager.created[0]).toMatchObject({ workDir: project, prompt: "check the build" })
    expect((await api("GET", `/cron/history?${q(project)}&limit=x`)).json.error.code).toBe("AGH_BAD_REQUEST")
  })
})
