import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { memoryEventLogLayer } from "../../src/eventlog/memoryEventLog.js"
import { triggersRoutes } from "../../src/server/routes/triggersRoutes.js"
import { openTriggerStore, type TriggerStore } from "../../src/triggers/triggerStore.js"
import { idsFrom } from "../triggers/triggerHarness.js"
import { type ApiResponse, startTestServer, type TestServer } from "./testServer.js"

let server: TestServer
let store: TriggerStore
let workDir: string

beforeEach(async () => {
  store = await openTriggerStore({
    eventLog: memoryEventLogLayer,
    clock: new ManualClock(Date.parse("2026-01-01T00:00:00Z")),
    ids: idsFrom(["80000000"]),
  })
  server = await startTestServer({ max_sessions: 2 }, { routes: [triggersRoutes(store)] })
  workDir = join(server.workRoot, "project")
  mkdirSync(workDir, { recursive: true })
})

afterEach(async () => {
  await server.close()
  await store.close()
})

const BASE = "/v1/code/triggers"

function expectError(res: ApiResponse, status: number, code: string, ...fragments: string[]): void {
  expect(res.status, JSON.stringify(res.json)).toBe(status)
  const error = (res.json as { error: { code: string; message: string } }).error
  expect(error.code).toBe(code)
  for (const f of fragments) expect(error.message).toContain(f)
}

const valid = () => ({ name: "nightly", prompt: "run the tests", project: { work_dir: workDir } })

async function create(body: Record<string, unknown> = valid()): Promise<Record<string, unknown>> {
  const res = await server.api("POST", BASE, { body })
  expect(res.status, JSON.stringify(res.json)).toBe(201)
  return res.json as Record<string, unknown>
}

describe("/v1/code/triggers CRUD", () => {
  it("creates, gets, lists, updates and deletes a trigger", async () => {
    const res = await server.api("POST", BASE, {
      body: { ...valid(), schedule: { cron: "*/5 * * * *", tz: "UTC" } },
    })
    expect(res.status).toBe(201)
    const created = res.json as Record<string, unknown>
    expect(created).toEqual({
      id: "trg_8000000000001001",
      name: "nightly",
      prompt: "run the tests",
      project: { work_dir: workDir },
      agent: "builtin",
      schedule: { cron: "*/5 * * * *", tz: "UTC" },
      enabled: true,
      created_at: "2026-01-01T00:00:00.000Z",
      updated_at: "2026-01-01T00:00:00.000Z",
      next_run_at: "2026-01-01T00:05:15.000Z",
      run_count: 0,
      history: [],
    })
    expect(res.headers.get("location")).toBe(`${BASE}/trg_8000000000001001`)
    const id = created.id as string

    expect((await server.api("GET", `${BASE}/${id}`)).json).toEqual(created)
    expect((await server.api("GET", BASE)).json).toEqual({ triggers: [created] })

    const paused = await server.api("POST", `${BASE}/${id}`, { body: { enabled: false, schedule: null } })
    expect(paused.status).toBe(200)
    expect(paused.json).toMatchObject({
      id,
      enabled: false,
      schedule: null,
      next_run_at: null,
      name: "nightly",
    })

    const renamed = await server.api("POST", `${BASE}/${id}`, { body: { name: "weekly", agent: "builtin" } })
    expect(renamed.json).toMatchObject({ name: "weekly", enabled: false })

    const deleted = await server.api("DELETE", `${BASE}/${id}`)
    expect(deleted.json).toEqual({ id, deleted: true })
    expectError(await server.api("GET", `${BASE}/${id}`), 404, "AGH_TRIGGER_NOT_FOUND", id)
  })

  it("stores a repository project and a paused trigger", async () => {
    const t = await create({
      name: "repo",
      prompt: "p",
      project: { repository: { url: "https://example.com/r.git", ref: "main" } },
      enabled: false,
    })
    expect(t).toMatchObject({
      project: { repository: { url: "https://example.com/r.git", ref: "main" } },
      enabled: false,
    })
  })

  it("refuses bad create bodies with coded 4xx errors naming the field", async () => {
    expectError(await server.api("POST", BASE), 400, "AGH_BAD_REQUEST", "needs a JSON request body")
    expectError(
      await server.api("POST", BASE, { rawBody: "{nope", headers: { "content-type": "application/json" } }),
      400,
      "AGH_BAD_JSON",
    )
    expectError(
      await server.api("POST", BASE, { rawBody: "name=x", headers: { "content-type": "text/plain" } }),
      415,
      "AGH_UNSUPPORTED_MEDIA_TYPE",
    )
    expectError(
      await server.api("POST", BASE, { body: {} }),
      400,
      "AGH_BAD_REQUEST",
      '"name"',
      '"prompt"',
      '"project"',
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), prompt: undefined } }),
      400,
      "AGH_BAD_REQUEST",
      'field "prompt": missing',
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), name: 5 } }),
      400,
      "AGH_BAD_REQUEST",
      'field "name"',
      "string",
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), name: "  " } }),
      400,
      "AGH_BAD_REQUEST",
      'field "name": must not be blank',
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), enabled: "yes" } }),
      400,
      "AGH_BAD_REQUEST",
      'field "enabled"',
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), colour: "red" } }),
      400,
      "AGH_BAD_REQUEST",
      'field "colour": unknown field',
    )
    expectError(await server.api("POST", BASE, { body: [valid()] }), 400, "AGH_BAD_REQUEST")
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), project: { work_dir: "relative" } } }),
      400,
      "AGH_BAD_REQUEST",
      'field "project.work_dir"',
      "not an absolute path",
    )
    expectError(
      await server.api("POST", BASE, {
        body: { ...valid(), project: { work_dir: workDir, repository: { url: "https://x/y.git" } } },
      }),
      400,
      "AGH_BAD_REQUEST",
      'field "project": give exactly one of work_dir and repository',
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), project: { repository: { url: 5 } } } }),
      400,
      "AGH_BAD_REQUEST",
      'field "project.repository.url": Expected string, got 5',
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), schedule: { cron: "*/5 * * *" } } }),
      400,
      "AGH_BAD_REQUEST",
      'field "schedule.cron"',
      "*/5 * * *",
    )
    expectError(
      await server.api("POST", BASE, {
        body: { ...valid(), schedule: { cron: "0 9 * * *", tz: "Nowhere/City" } },
      }),
      400,
      "AGH_BAD_REQUEST",
      'field "schedule.tz"',
      "Nowhere/City",
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), agent: "gpt-9" } }),
      400,
      "AGH_UNKNOWN_AGENT",
      '"gpt-9"',
    )
    expectError(
      await server.api("POST", BASE, { body: { ...valid(), project: { work_dir: "/" } } }),
      403,
      "AGH_POLICY_CWD",
      "outside the allowed work roots",
    )
    expectError(
      await server.api("POST", BASE, {
        body: { ...valid(), project: { work_dir: join(workDir, "missing") } },
      }),
      400,
      "AGH_CWD_INVALID",
    )
    expect(store.list()).toEqual([])
  })

  it("refuses bad update bodies and unknown ids", async () => {
    const { id } = await create()
    const path = `${BASE}/${id as string}`
    expectError(await server.api("POST", path), 400, "AGH_BAD_REQUEST", "needs a JSON request body")
    expectError(await server.api("POST", path, { body: {} }), 400, "AGH_BAD_REQUEST", "body required")
    expectError(
      await server.api("POST", path, { body: { enabled: 1 } }),
      400,
      "AGH_BAD_REQUEST",
      'field "enabled"',
    )
    expectError(
      await server.api("POST", path, { body: { id: "trg_x" } }),
      400,
      "AGH_BAD_REQUEST",
      'field "id": unknown field',
    )
    expectError(
      await server.api("POST", path, { body: { agent: null } }),
      400,
      "AGH_BAD_REQUEST",
      'field "agent"',
    )
    expectError(await server.api("POST", path, { body: { agent: "nope" } }), 400, "AGH_UNKNOWN_AGENT")
    expectError(
      await server.api("POST", `${BASE}/trg_0000000000000000`, { body: { name: "x" } }),
      404,
      "AGH_TRIGGER_NOT_FOUND",
      "trg_0000000000000000",
    )
    expectError(await server.api("DELETE", `${BASE}/trg_0000000000000000`), 404, "AGH_TRIGGER_NOT_FOUND")
    expectError(await server.api("PUT", path, { body: { name: "x" } }), 405, "AGH_METHOD_NOT_ALLOWED")
    expect(store.get(id as string)?.name).toBe("nightly")
  })

  it("requires the token on every triggers route", async () => {
    const { id } = await create()
    const calls: Array<[string, string]> = [
      ["GET", BASE],
      ["GET", `${BASE}/${id as string}`],
      ["POST", BASE],
      ["POST", `${BASE}/${id as string}`],
      ["POST", `${BASE}/${id as string}/run`],
      ["DELETE", `${BASE}/${id as string}`],
    ]
    for (const [method, path] of calls) {
      const body = method === "GET" ? {} : { body: { name: "x" } }
      expectError(await server.api(method, path, { token: null, ...body }), 401, "AGH_AUTH_REQUIRED")
      expectError(await server.api(method, path, { token: "wrong", ...body }), 401, "AGH_AUTH_INVALID")
    }
    expect(server.manager.created).toHaveLength(0)
    expect(store.get(id as string)?.name).toBe("nightly")
  })

  it("documents the routes in /openapi.json", async () => {
    const doc = (await server.api("GET", "/openapi.json")).json as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/code/triggers", "/v1/code/triggers/{id}", "/v1/code/triggers/{id}/run"]),
    )
  })
})

describe("POST /v1/code/triggers/:id/run", () => {
  it("starts a session through the gate and records the run until the session ends", async () => {
    const { id } = await create()
    const res = await server.api("POST", `${BASE}/${id as string}/run`)
    expect(res.status, JSON.stringify(res.json)).toBe(201)
    const body = res.json as Record<string, string>
    const session = server.manager.list()[0]
    expect(session).toBeDefined()
    expect(body).toEqual({
      trigger_id: id,
      run_id: expect.stringMatching(/^run_[0-9a-f]{16}$/),
      session_id: session?.id,
      ws_url: `${server.wsBase}/sessions/${session?.id}/ws`,
    })
    expect(server.manager.created[0]).toMatchObject({
      workDir,
      prompt: "run the tests",
      agent: "builtin",
      title: "trigger nightly",
      skipPermissions: false,
    })
    expect(session?.userMessages[0]).toMatchObject({ message: { content: "run the tests" } })
    const running = (await server.api("GET", `${BASE}/${id as string}`)).json as Record<string, unknown>
    expect(running).toMatchObject({
      run_count: 1,
      history: [{ run_id: body.run_id, session_id: session?.id, reason: "manual", status: "running" }],
    })
    session?.finish("completed", "agent exited with code 0")
    await store.settled()
    const after = (await server.api("GET", `${BASE}/${id as string}`)).json as { history: unknown[] }
    expect(after.history[0]).toMatchObject({ status: "completed", detail: "agent exited with code 0" })
  })

  it("refuses a paused trigger with 409 unless forced", async () => {
    const { id } = await create({ ...valid(), enabled: false })
    const path = `${BASE}/${id as string}/run`
    expectError(await server.api("POST", path), 409, "AGH_TRIGGER_DISABLED", "paused")
    expectError(
      await server.api("POST", path, { body: { force: "yes" } }),
      400,
      "AGH_BAD_REQUEST",
      'field "force"',
    )
    expect(server.manager.created).toHaveLength(0)
    const forced = await server.api("POST", path, { body: { force: true } })
    expect(forced.status).toBe(201)
    expect(server.manager.created).toHaveLength(1)
  })

  it("refuses a repository project with 422 and records the failed start", async () => {
    const { id } = await create({
      name: "r",
      prompt: "p",
      project: { repository: { url: "https://example.com/r.git" } },
    })
    expectError(
      await server.api("POST", `${BASE}/${id as string}/run`),
      422,
      "AGH_TRIGGER_PROJECT_UNSUPPORTED",
      "https://example.com/r.git",
    )
    const t = (await server.api("GET", `${BASE}/${id as string}`)).json as { history: unknown[] }
    expect(t.history).toEqual([
      expect.objectContaining({
        status: "start_failed",
        session_id: null,
        error: expect.objectContaining({ code: "AGH_TRIGGER_PROJECT_UNSUPPORTED" }),
      }),
    ])
  })

  it("passes the host's live-session cap and records the refusal", async () => {
    const { id } = await create()
    const path = `${BASE}/${id as string}/run`
    expect((await server.api("POST", path)).status).toBe(201)
    expect((await server.api("POST", path)).status).toBe(201)
    expectError(await server.api("POST", path), 429, "AGH_MAX_SESSIONS")
    expect(store.get(id as string)?.history.map((r) => r.status)).toEqual([
      "running",
      "running",
      "start_failed",
    ])
  })

  it("answers 404 for an unknown trigger", async () => {
    expectError(await server.api("POST", `${BASE}/trg_0000000000000000/run`), 404, "AGH_TRIGGER_NOT_FOUND")
  })
})
