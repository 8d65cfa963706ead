import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { main } from "../../src/cli/main.js"
import { FakeDirectConnectServer } from "../support/fakeDirectConnectServer.js"
import { fakeIo } from "./connectIo.js"

const TOKEN = "sessions-test-token"

let server: FakeDirectConnectServer
let home: string

beforeEach(async () => {
  server = await FakeDirectConnectServer.start({ token: TOKEN })
  home = mkdtempSync(join(tmpdir(), "agh-sessions-"))
  // A token file outside <home>, passed with a relative --token-file resolved against the cwd.
  writeFileSync(join(home, "my-token"), TOKEN)
  chmodSync(join(home, "my-token"), 0o600)
})

afterEach(async () => {
  await server.close()
  rmSync(home, { recursive: true, force: true })
})

async function run(...args: string[]) {
  const t = fakeIo({ cwd: home })
  const code = await main(
    ["sessions", ...args, "--home", home, "--url", server.url, "--token-file", "my-token"],
    t.io,
  )
  return { code, stdout: t.stdout.text, stderr: t.stderr.text }
}

describe("agenthost sessions", () => {
  it("lists sessions as a table and as JSON", async () => {
    expect(await run("ls")).toEqual({ code: 0, stdout: "no sessions\n", stderr: "" })
    const a = server.createSession({ cwd: "/work/a", title: "fix the build" })
    const b = server.createSession({ cwd: "/work/b", prompt: "$ make" })
    const table = await run("ls")
    expect(table.code).toBe(0)
    expect(table.stdout.split("\n")).toEqual([
      "ID                          STATUS               AGENT    STARTED                   TODOS  TITLE / WORK DIR",
      `${a.id}  idle                 builtin  2026-01-01T00:00:00.000Z  -      fix the build`,
      `${b.id}  awaiting_permission  builtin  2026-01-01T00:00:00.000Z  -      /work/b`,
      "",
    ])
    const json = await run("ls", "--json")
    expect(JSON.parse(json.stdout).map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      [a.id, "idle"],
      [b.id, "awaiting_permission"],
    ])
  })

  it("shows one session and kills it", async () => {
    const s = server.createSession({ cwd: "/work/a", prompt: "hi" })
    const shown = await run("show", s.id)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(
      `id: ${s.id}\ntitle: (none)\nstatus: idle\nagent: builtin\nwork_dir: /work/a\n`,
    )
    expect(shown.stdout).toContain("last_seq: 4\n")
    expect(shown.stdout).toContain("todo_list: (empty)\n")
    expect(JSON.parse((await run("show", s.id, "--json")).stdout).work_dir).toBe("/work/a")

    expect(await run("kill", s.id)).toEqual({
      code: 0,
      stdout: `killed ${s.id} (status killed)\n`,
      stderr: "",
    })
    expect(server.session(s.id).status).toBe("killed")
  })

  it("reports the host's code for an unknown session and usage errors with AGH_CLI_USAGE", async () => {
    const missing = await run("show", "s_missing")
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(
      `agenthost sessions: AGH_SESSION_NOT_FOUND: GET ${server.url}/sessions/s_missing answered 404: no session "s_missing"\n`,
    )
    expect((await run("kill")).stderr).toBe("agenthost sessions: AGH_CLI_USAGE: kill needs a session id\n")
    expect((await run("frobnicate")).stderr).toBe(
      'agenthost sessions: AGH_CLI_USAGE: unknown action "frobnicate"; expected ls, show ID or kill ID\n',
    )
    expect((await run("ls", "extra")).code).toBe(2)
  })

  it("never takes the token from the environment", async () => {
    const t = fakeIo({ cwd: home })
    const io = { ...t.io, env: { AGENTHOST_TOKEN: TOKEN, AGENTHOST_HOME: home } }
    const code = await main(["sessions", "ls", "--url", server.url], io)
    expect(code).toBe(1)
    expect(t.stderr.text).toContain(`AGH_CLIENT_TOKEN_FILE: token file ${join(home, "token")} does not exist`)
  })
})
