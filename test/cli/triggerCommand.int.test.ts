import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { main } from "../../src/cli/main.js"
import { memoryEventLogLayer } from "../../src/eventlog/memoryEventLog.js"
import { triggersRoutes } from "../../src/server/routes/triggersRoutes.js"
import { openTriggerStore, type TriggerStore } from "../../src/triggers/triggerStore.js"
import { startTestServer, type TestServer } from "../server/testServer.js"
import { T0 } from "../triggers/triggerHarness.js"
import { fakeIo } from "./connectIo.js"

let server: TestServer
let store: TriggerStore
let workDir: string

beforeEach(async () => {
  store = await openTriggerStore({ eventLog: memoryEventLogLayer, clock: new ManualClock(T0) })
  server = await startTestServer({}, { routes: [triggersRoutes(store)] })
  workDir = join(server.workRoot, "project")
  mkdirSync(workDir, { recursive: true })
})

afterEach(async () => {
  await server.close()
  await store.close()
})

/** Runs `agenthost trigger ...` in-process against the test server. */
async function trigger(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { io, stdout, stderr } = fakeIo({ cwd: server.workRoot })
  const code = await main(["trigger", ...args, "--home", server.home, "--url", server.url], io)
  return { code, out: stdout.text, err: stderr.text }
}

describe("agenthost trigger", () => {
  it("creates, lists, gets, updates and runs a trigger", async () => {
    const created = await trigger(
      "create",
      "--name",
      "nightly",
      "--prompt",
      "run the tests",
      "--cwd",
      "project",
      "--cron",
      "*/5 * * * *",
      "--tz",
      "UTC",
      "--json",
    )
    expect(created.err).toBe("")
    expect(created.code).toBe(0)
    const json = JSON.parse(created.out) as Record<string, unknown>
    expect(json).toMatchObject({
      name: "nightly",
      project: { work_dir: workDir },
      schedule: { cron: "*/5 * * * *", tz: "UTC" },
      enabled: true,
    })
    const id = json.id as string
    expect(id).toMatch(/^trg_[0-9a-f]{16}$/)

    const list = await trigger("list")
    expect(list.code).toBe(0)
    expect(list.out).toMatch(/^ID\s+NAME\s+STATE\s+SCHEDULE\s+NEXT RUN\s+LAST RUN\n/)
    expect(list.out).toContain(id)
    expect(list.out).toMatch(/nightly\s+enabled\s+\*\/5 \* \* \* \* \(UTC\)/)

    const listed = JSON.parse((await trigger("list", "--json")).out) as unknown[]
    expect(listed).toEqual([json])

    const get = await trigger("get", id)
    expect(get.out).toContain(`id:        ${id}`)
    expect(get.out).toContain(`project:   ${workDir}`)
    expect(get.out).toContain("  run the tests\n")
    expect(get.out).toContain("runs:      0")

    const paused = await trigger("update", id, "--disable", "--no-cron", "--prompt", "lint")
    expect(paused.code).toBe(0)
    expect(paused.out).toContain(`updated trigger ${id}`)
    expect(paused.out).toContain("state:     paused")
    expect(paused.out).toContain("schedule:  none (manual runs only)")
    expect(store.get(id)).toMatchObject({ enabled: false, schedule: null, prompt: "lint" })

    const refused = await trigger("run", id)
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(/^agenthost trigger: AGH_TRIGGER_DISABLED: .*409.*paused/)

    const run = await trigger("run", id, "--force")
    expect(run.err).toBe("")
    expect(run.code).toBe(0)
    const session = server.manager.list()[0]
    expect(session).toBeDefined()
    expect(run.out).toContain(`session: ${session?.id}`)
    expect(run.out).toContain(`ws url:  ${server.wsBase}/sessions/${session?.id}/ws`)
    expect(run.out).toContain(`attach:  agenthost connect --url ${server.url} --session ${session?.id}`)

    const runs = await trigger("get", id)
    expect(runs.out).toMatch(/runs:\s+1 \(last 1, oldest first\)/)
    expect(runs.out).toMatch(
      new RegExp(`run_[0-9a-f]{16}\\s+manual\\s+running\\s+\\S+\\s+session ${session?.id}`),
    )

    const deleted = await trigger("delete", id)
    expect(deleted.out).toBe(`deleted trigger ${id}\n`)
    const gone = await trigger("get", id)
    expect(gone.code).toBe(1)
    expect(gone.err).toContain("AGH_TRIGGER_NOT_FOUND")
  })

  it("reports the host's coded errors and refuses bad usage before reading anything", async () => {
    const bad = await trigger("create", "--name", "x", "--prompt", "p", "--cwd", "/", "--json")
    expect(bad.code).toBe(1)
    expect(bad.err).toContain("AGH_POLICY_CWD")
    const cron = await trigger("create", "--name", "x", "--prompt", "p", "--cwd", "project", "--cron", "nope")
    expect(cron.code).toBe(1)
    expect(cron.err).toContain("AGH_BAD_REQUEST: POST ")
    expect(cron.err).toContain('field "schedule.cron"')

    const usage: Array<[string[], string]> = [
      [[], "expected list, get ID, create"],
      [["frobnicate"], 'unknown action "frobnicate"'],
      [["get"], "get needs a trigger id"],
      [["create", "--name", "x"], "create needs --prompt, --cwd or --repo"],
      [["create", "--name", "x", "--prompt", "p", "--cwd", "a", "--repo", "u"], "either --cwd or --repo"],
      [["update", "trg_1"], "update needs at least one change"],
      [["update", "trg_1", "--enable", "--disable"], "either --enable or --disable"],
      [["update", "trg_1", "--cron", "* * * * *", "--no-cron"], "either --cron or --no-cron"],
      [["list", "--force"], "--force is not an option of trigger list"],
      [["run", "trg_1", "extra"], 'unexpected argument "extra"'],
    ]
    for (const [args, message] of usage) {
      const { io, stderr } = fakeIo({ cwd: server.workRoot })
      // No --home: a usage error must come before looking for a token file.
      const code = await main(["trigger", ...args], io)
      expect(code, args.join(" ")).toBe(2)
      expect(stderr.text).toContain("AGH_CLI_USAGE")
      expect(stderr.text).toContain(message)
    }
  })

  it("names the token file when it is missing, without any token", async () => {
    const home = mkdtempSync(join(tmpdir(), "agh-trigger-home-"))
    try {
      const { io, stderr } = fakeIo({ cwd: home })
      const code = await main(["trigger", "list", "--home", home, "--url", server.url], io)
      expect(code).toBe(1)
      expect(stderr.text).toContain(`AGH_CLIENT_TOKEN_FILE: token file ${join(home, "token")} does not exist`)
      writeFileSync(join(home, "token"), "not-the-token\n")
      const refused = fakeIo({ cwd: home })
      expect(await main(["trigger", "list", "--home", home, "--url", server.url], refused.io)).toBe(1)
      expect(refused.stderr.text).toContain("AGH_AUTH_INVALID")
      expect(refused.stderr.text).not.toContain("not-the-token")
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
