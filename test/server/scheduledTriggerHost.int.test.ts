import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { prepareHome } from "../../src/server/home.js"
import { type Host, startHost } from "../../src/server/host.js"

const T0 = Date.parse("2026-01-01T00:00:00Z")
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function hostOnManualClock() {
  const dir = mkdtempSync(join(tmpdir(), "agh-sched-trigger-host-"))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const home = prepareHome(join(dir, "home"))
  const config = { ...home.config, port: 0 }
  const project = join(config.work_roots[0] as string, "proj")
  mkdirSync(project, { recursive: true })
  const clock = new ManualClock(T0)
  const host: Host = await startHost({ home, config, clock, hostEnv: process.env })
  cleanups.push(() => host.close())
  const { url } = await host.server.listen()
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${home.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  }
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await host.scheduler.settle()
      await host.triggers.settled()
    }
  }
  return { host, clock, api, project, settle }
}

describe("a scheduled trigger on a running host", () => {
  it("fires through the cron scheduler into a real session, in the trigger's history and cron history", async () => {
    const { host, clock, api, project, settle } = await hostOnManualClock()
    const created = await api("POST", "/v1/code/triggers", {
      name: "nightly",
      prompt: "hello from the schedule",
      project: { work_dir: project },
      agent: "builtin",
      schedule: { cron: "*/5 * * * *", tz: "UTC" },
    })
    expect(created.status, JSON.stringify(created.json)).toBe(201)
    const id = created.json.id as string
    await settle()
    const due = host.scheduler.triggers()?.armedFireAt(id)
    expect(due).toBe(Date.parse(created.json.next_run_at as string))
    expect(due).toBeGreaterThanOrEqual(T0 + 5 * 60_000)

    clock.advanceTo((due as number) - 1)
    await settle()
    expect((await api("GET", `/v1/code/triggers/${id}`)).json.history).toEqual([])
    clock.advanceTo(due as number)
    await settle()

    const trigger = (await api("GET", `/v1/code/triggers/${id}`)).json
    const history = trigger.history as ReadonlyArray<Record<string, unknown>>
    expect(history).toHaveLength(1)
    expect(history[0]?.reason).toBe("schedule")
    const sessionId = history[0]?.session_id as string
    expect(sessionId).toMatch(/^s_/)
    const session = await api("GET", `/sessions/${sessionId}`)
    expect(session.json.title).toBe("trigger nightly")
    expect(session.json.work_dir).toBe(project)

    const cron = await api("GET", "/cron/history?triggers=true")
    expect(cron.status).toBe(200)
    expect(cron.json.stream).toBe("sched-triggers")
    const fired = (cron.json.rows as ReadonlyArray<Record<string, unknown>>).filter((r) => r.what === "fired")
    expect(fired.map((r) => [r.task, r.session_id])).toEqual([[id, sessionId]])

    // A jitter change reschedules the trigger, and next_run_at shows the time it is armed for.
    const before = host.scheduler.triggers()?.armedFireAt(id) as number
    expect((await api("POST", "/cron/config", { recurringFrac: 0.2 })).status).toBe(200)
    await settle()
    const after = host.scheduler.triggers()?.armedFireAt(id) as number
    expect(after).toBeGreaterThan(before)
    expect(Date.parse((await api("GET", `/v1/code/triggers/${id}`)).json.next_run_at as string)).toBe(after)

    const both = await api("GET", `/cron/history?triggers=true&project=${encodeURIComponent(project)}`)
    expect(both.status).toBe(400)
    expect((both.json.error as { code: string }).code).toBe("AGH_BAD_REQUEST")
  })
})
