import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { main } from "../../src/cli/main.js"
import { FakeDirectConnectServer } from "../support/fakeDirectConnectServer.js"
import { fakeIo } from "./connectIo.js"

const TOKEN = "cli-test-token"

let server: FakeDirectConnectServer
let home: string
let project: string

beforeEach(async () => {
  server = await FakeDirectConnectServer.start({ token: TOKEN })
  home = mkdtempSync(join(tmpdir(), "agh-connect-"))
  project = join(home, "project")
  mkdirSync(project)
  writeFileSync(join(home, "token"), `${TOKEN}\n`)
  chmodSync(join(home, "token"), 0o600)
  // The client finds the host through <home>/config.json, as `agenthost serve` writes it.
  writeFileSync(
    join(home, "config.json"),
    JSON.stringify({ host: "127.0.0.1", port: Number(new URL(server.url).port) }),
  )
})

afterEach(async () => {
  await server.close()
  rmSync(home, { recursive: true, force: true })
})

function only<T>(items: Iterable<T>): T {
  const all = [...items]
  expect(all).toHaveLength(1)
  return all[0] as T
}

describe("agenthost connect without a terminal", () => {
  it("creates a session in the current directory, streams the turn and exits 0 on success", async () => {
    const t = fakeIo({ cwd: project })
    const code = await main(["connect", "--home", home, "hello there"], t.io)
    expect(code).toBe(0)
    const session = only(server.sessions.values())
    expect(session.workDir).toBe(project)
    expect(session.prompts).toEqual(["hello there"])
    expect(t.stdout.text).toBe(
      `· fake in ${project}\nYou said: hello there\nDone.\n✓ done in 1.2s · $0.0123\n`,
    )
    expect(t.stderr.text).toBe(
      `session ${session.id} · work dir ${project}\nre-attach with: agenthost connect --session ${session.id}\n`,
    )
  })

  it("denies permission requests unless --yes, saying why", async () => {
    const t = fakeIo({ cwd: project })
    const code = await main(["connect", "--home", home, "$ echo hi"], t.io)
    expect(code).toBe(0)
    expect(t.stdout.text).toContain(
      "$ echo hi\nAllow Bash: echo hi? [y/N] n (stdin is not a terminal; pass --yes to allow)\n" +
        "  ✗ denied: the client has no terminal to ask (agenthost connect without --yes)\n",
    )
    const session = only(server.sessions.values())
    expect(session.received.filter((f) => f.type === "control_response")).toEqual([
      {
        type: "control_response",
        response: {
          subtype: "success",
          request_id: "perm_1",
          response: {
            behavior: "deny",
            message: "denied: the client has no terminal to ask (agenthost connect without --yes)",
          },
        },
      },
    ])
  })

  it("allows every request with --yes and shows the tool output", async () => {
    const t = fakeIo({ cwd: project })
    const code = await main(["connect", "--home", home, "--yes", "$ echo hi\n$ ls"], t.io)
    expect(code).toBe(0)
    expect(t.stdout.text).toContain("$ echo hi\nAllow Bash: echo hi? [y/N] y (--yes)\n  ran: echo hi\n")
    expect(t.stdout.text).toContain("$ ls\nAllow Bash: ls? [y/N] y (--yes)\n  ran: ls\n")
  })

  it("reads the prompt from stdin when none is given, and exits 1 when the turn fails", async () => {
    const t = fakeIo({ cwd: project })
    t.stdin.end("please !fail\n")
    const code = await main(["connect", "--home", home], t.io)
    expect(code).toBe(1)
    expect(only(server.sessions.values()).prompts).toEqual(["please !fail"])
    expect(t.stdout.text).toContain("✗ error_during_execution after 1.2s · $0.0123\n")
  })

  it("attaches with --session: history first, then its own prompt, exiting after the new result", async () => {
    const existing = server.createSession({ cwd: project, prompt: "earlier" })
    const t = fakeIo({ cwd: home })
    const code = await main(["connect", "--home", home, "--session", existing.id, "later"], t.io)
    expect(code).toBe(0)
    expect(existing.prompts).toEqual(["earlier", "later"])
    const out = t.stdout.text
    expect(out.indexOf("You said: earlier")).toBeLessThan(out.indexOf("You said: later"))
    expect(out.match(/✓ done/g)).toHaveLength(2)
    expect(t.stderr.text).toContain(`attached to session ${existing.id} (idle) · work dir ${project}\n`)
  })

  it("attached to an idle session without a prompt, prints the history and exits 0", async () => {
    const existing = server.createSession({ cwd: project, prompt: "earlier" })
    const t = fakeIo({ cwd: home })
    t.stdin.end()
    const code = await main(["connect", "--home", home, "--session", existing.id], t.io)
    expect(code).toBe(0)
    expect(t.stdout.text).toBe(`· fake in ${project}\nYou said: earlier\nDone.\n✓ done in 1.2s · $0.0123\n`)
  })

  it("attached to a session waiting for permission, answers the pending request and waits for the result", async () => {
    const existing = server.createSession({ cwd: project, prompt: "$ make" })
    const t = fakeIo({ cwd: home })
    const code = await main(["connect", "--home", home, "--session", existing.id, "--yes"], t.io)
    expect(code).toBe(0)
    expect(t.stdout.text.match(/Allow Bash: make\? \[y\/N\] y \(--yes\)/g)).toHaveLength(1)
    expect(t.stdout.text).toContain("  ran: make\n")
  })

  it("fails with the host's code on a wrong token, and names a missing token file", async () => {
    writeFileSync(join(home, "token"), "not-the-token\n")
    const t = fakeIo({ cwd: project })
    expect(await main(["connect", "--home", home, "hi"], t.io)).toBe(1)
    expect(t.stderr.text).toMatch(
      /^agenthost connect: AGH_AUTH_INVALID: POST http:\/\/127\.0\.0\.1:\d+\/sessions was refused with 401/,
    )

    const missing = join(home, "nope")
    const t2 = fakeIo({ cwd: project })
    expect(await main(["connect", "--home", home, "--token-file", missing, "hi"], t2.io)).toBe(1)
    expect(t2.stderr.text).toBe(
      `agenthost connect: AGH_CLIENT_TOKEN_FILE: token file ${missing} does not exist (start \`agenthost serve\` once to create it, or pass --token-file)\n`,
    )
    expect(server.sessions.size).toBe(0)
  })

  it("refuses to run without a prompt when stdin is not a terminal", async () => {
    const t = fakeIo({ cwd: project })
    t.stdin.end("  \n")
    expect(await main(["connect", "--home", home], t.io)).toBe(2)
    expect(t.stderr.text).toBe(
      "agenthost connect: AGH_CLI_USAGE: a prompt is required when stdin is not a terminal\n",
    )
  })

  it("exits 1 when the session is killed while it waits for the running turn's result", async () => {
    const busy = server.createSession({ cwd: project })
    busy.status = "busy"
    const t = fakeIo({ cwd: project })
    t.stdin.end()
    const running = main(["connect", "--home", home, "--url", server.url, "--session", busy.id], t.io)
    await server.waitForUpgrades(1)
    server.kill(busy.id)
    expect(await running).toBe(1)
    expect(t.stderr.text).toContain(
      "session stream ended: the host closed the session stream: session killed (close code 1000)\n",
    )
  })
})

describe("agenthost connect on a terminal", () => {
  it("asks permission, sends typed prompts, interrupts on Ctrl-C and detaches on a second Ctrl-C", async () => {
    const t = fakeIo({ cwd: project, tty: true })
    const running = main(["connect", "--home", home, "$ echo hi"], t.io)
    await t.stdout.waitFor(/Allow Bash: echo hi\? \[y\/N\] /)
    t.stdin.write("y\r")
    await t.stdout.waitFor(/ran: echo hi/)
    await t.stdout.waitFor(/✓ done/)
    const session = only(server.sessions.values())

    t.stdin.write("$ sleep 100\r")
    await t.stdout.waitFor(/Allow Bash: sleep 100\? \[y\/N\] /)
    t.stdin.write("\x03")
    await server.waitForFrame(session.id, (f) => f.type === "control_request")
    await t.stdout.waitFor(/error_during_execution/)
    expect(t.stdout.plain()).toContain("^C interrupting the turn (Ctrl-C again within 2 s to detach)")
    expect(t.stdout.plain()).toContain("(that permission request was settled elsewhere)")
    t.stdin.write("\x03")
    expect(await running).toBe(0)
    expect(t.stdout.plain()).toContain(
      `detached; the session goes on. Re-attach with: agenthost connect --session ${session.id}`,
    )
    expect(session.prompts).toEqual(["$ echo hi", "$ sleep 100"])
    expect(session.received.filter((f) => f.type === "control_response")).toHaveLength(1)
  })
})
