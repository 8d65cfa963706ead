import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { liveClock, ManualClock } from "../../src/adapters/clock.js"
import { directConnectConfigFor } from "../../src/client/directConnectSession.js"
import { DirectConnectSessionManager } from "../../src/client/directConnectSessionManager.js"
import { memoryEventLogLayer } from "../../src/eventlog/memoryEventLog.js"
import { prepareHome } from "../../src/server/home.js"
import { type Host, startHost } from "../../src/server/host.js"
import { triggersRoutes } from "../../src/server/routes/triggersRoutes.js"
import { makeTriggerRepositories } from "../../src/triggers/triggerRepository.js"
import { openTriggerStore, type TriggerStore } from "../../src/triggers/triggerStore.js"
import { type GitFixture, makeGitFixture } from "../teleport/gitFixture.js"
import { idsFrom } from "../triggers/triggerHarness.js"
import { type ApiResponse, startTestServer, type TestServer } from "./testServer.js"

const BASE = "/v1/code/triggers"

let fx: GitFixture
const cleanups: Array<() => Promise<void> | void> = []

beforeEach(() => {
  fx = makeGitFixture("agh-trgrepo-")
})

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  fx.cleanup()
})

/**
 * `<root>/origin` with three commits: A on main (tag v1), B on branch feature, C on main (HEAD). `note.txt`
 * names the commit, so a session that cats it shows which ref it got.
 */
function originRepo(root: string): { repo: string; shas: Record<"a" | "b" | "c", string> } {
  const repo = join(root, "origin")
  mkdirSync(repo, { recursive: true })
  fx.git(repo, "init", "-q", "-b", "main")
  const commit = (text: string) => {
    writeFileSync(join(repo, "note.txt"), `${text}\n`)
    fx.git(repo, "add", "note.txt")
    fx.git(repo, "commit", "-qm", text)
    return fx.git(repo, "rev-parse", "HEAD")
  }
  const a = commit("from A")
  fx.git(repo, "tag", "v1")
  fx.git(repo, "checkout", "-q", "-b", "feature")
  const b = commit("from feature")
  fx.git(repo, "checkout", "-q", "main")
  const c = commit("from C")
  return { repo, shas: { a, b, c } }
}

function expectError(res: ApiResponse, status: number, code: string, ...fragments: string[]): void {
  expect(res.status, JSON.stringify(res.json)).toBe(status)
  const error = (res.json as { error: { code: string; message: string } }).error
  expect(error.code).toBe(code)
  for (const f of fragments) expect(error.message).toContain(f)
}

/** Work-root entries other than the origin repository: the workspaces runs left. */
const workspaces = (workRoot: string) =>
  readdirSync(workRoot).filter((e) => e !== "origin" && e !== "project")

describe("repository triggers on a real host with the built-in agent", () => {
  let host: Host
  let url: string
  let token: string
  let workRoot: string

  beforeEach(async () => {
    const home = prepareHome(join(fx.dir, "agh"))
    const config = { ...home.config, port: 0, allow_remote_sessions: true }
    host = await startHost({ home, config, clock: liveClock, hostEnv: process.env })
    cleanups.push(() => host.close())
    ;({ url } = await host.server.listen())
    token = home.token
    workRoot = config.work_roots[0] as string
  })

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, json: text === "" ? undefined : JSON.parse(text) }
  }

  /** Attaches, allows every permission request, and resolves with the messages up to the first result. */
  async function runToResult(sessionId: string): Promise<string> {
    const messages: unknown[] = []
    let resolve: () => void = () => {}
    const done = new Promise<void>((r) => {
      resolve = r
    })
    const client: DirectConnectSessionManager = new DirectConnectSessionManager(
      directConnectConfigFor(url, sessionId, token),
      {
        onMessage: (m) => {
          messages.push(m)
          if ((m as { type?: string }).type === "result") resolve()
        },
        onPermissionRequest: (request, id) =>
          client.respondToPermissionRequest(id, { behavior: "allow", updatedInput: request.input }),
      },
    )
    cleanups.push(() => client.disconnect())
    client.connect()
    await done
    client.disconnect()
    return JSON.stringify(messages)
  }

  it("runs each run in a fresh clone at the ref, kept after the session for pull", async () => {
    const { shas } = originRepo(workRoot)
    const created = await api("POST", BASE, {
      name: "feature check",
      prompt: "$ cat note.txt",
      project: { repository: { url: join(workRoot, "origin"), ref: "feature" } },
    })
    expect(created.status, JSON.stringify(created.json)).toBe(201)
    const id = created.json.id as string

    const first = await api("POST", `${BASE}/${id}/run`)
    expect(first.status, JSON.stringify(first.json)).toBe(201)
    const sessionId = first.json.session_id as string
    expect(await runToResult(sessionId)).toContain("from feature\\n")
    // The session's own history (what any client replays) holds the file of that ref.
    const history = await api("GET", `/sessions/${sessionId}/messages`)
    expect(JSON.stringify(history.json)).toContain("from feature\\n")

    const info = (await api("GET", `/sessions/${sessionId}`)).json as { work_dir: string }
    expect(info.work_dir).toBe(join(workRoot, `${id}_${first.json.run_id as string}`))
    expect(fx.git(info.work_dir, "rev-parse", "HEAD")).toBe(shas.b)
    expect(fx.git(info.work_dir, "symbolic-ref", "HEAD")).toBe("refs/heads/feature")

    const second = await api("POST", `${BASE}/${id}/run`)
    expect(second.status, JSON.stringify(second.json)).toBe(201)
    const otherDir = (
      (await api("GET", `/sessions/${second.json.session_id as string}`)).json as {
        work_dir: string
      }
    ).work_dir
    expect(otherDir).not.toBe(info.work_dir)
    expect(readFileSync(join(otherDir, "note.txt"), "utf8")).toBe("from feature\n")

    // The session ends; its workspace stays, and the pull-back sees the agent's work against the ref.
    writeFileSync(join(info.work_dir, "result.txt"), "done\n")
    expect((await api("DELETE", `/sessions/${sessionId}`)).json).toMatchObject({ status: "killed" })
    expect(existsSync(join(info.work_dir, "note.txt"))).toBe(true)
    const changes = await fetch(`${url}/sessions/${sessionId}/changes`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(changes.status).toBe(200)
    expect(changes.headers.get("x-agenthost-base-sha")).toBe(shas.b)
    expect(changes.headers.get("x-agenthost-uncommitted")).toBe("true")
    await changes.arrayBuffer()
    await host.triggers.settled()
    expect(host.triggers.get(id)?.history.map((r) => [r.run_id, r.status])).toEqual([
      [first.json.run_id, "killed"],
      [second.json.run_id, "running"],
    ])
  })

  it("checks out a tag detached, and the source's HEAD without a ref", async () => {
    const { repo, shas } = originRepo(workRoot)
    const make = async (repository: Record<string, string>) => {
      const res = await api("POST", BASE, { name: "t", prompt: "hello", project: { repository } })
      expect(res.status, JSON.stringify(res.json)).toBe(201)
      const run = await api("POST", `${BASE}/${res.json.id as string}/run`)
      expect(run.status, JSON.stringify(run.json)).toBe(201)
      return ((await api("GET", `/sessions/${run.json.session_id as string}`)).json as { work_dir: string })
        .work_dir
    }
    const tagged = await make({ url: `file://${repo}`, ref: "v1" })
    expect(fx.git(tagged, "rev-parse", "HEAD")).toBe(shas.a)
    expect(readFileSync(join(tagged, "note.txt"), "utf8")).toBe("from A\n")
    const byCommit = await make({ url: repo, ref: shas.b })
    expect(fx.git(byCommit, "rev-parse", "HEAD")).toBe(shas.b)
    const head = await make({ url: repo })
    expect(fx.git(head, "rev-parse", "HEAD")).toBe(shas.c)
    expect(fx.git(head, "symbolic-ref", "HEAD")).toBe("refs/heads/main")
    expect(workspaces(workRoot)).toHaveLength(3)
  })
})

describe("repository triggers: admission and failed starts", () => {
  let server: TestServer
  let store: TriggerStore

  async function start(overrides: { allow_remote_sessions?: boolean; max_sessions?: number } = {}) {
    store = await openTriggerStore({
      eventLog: memoryEventLogLayer,
      clock: new ManualClock(Date.parse("2026-01-01T00:00:00Z")),
      ids: idsFrom(["80000000"]),
    })
    cleanups.push(() => store.close())
    // The repositories get the roots the way startHost passes them: the config's work_roots.
    server = await startTestServer(
      { allow_remote_sessions: true, ...overrides },
      {
        routes: [
          (context) =>
            triggersRoutes(store, {
              repositories: makeTriggerRepositories({ workRoots: context.config.work_roots }),
            })(context),
        ],
      },
    )
    cleanups.push(() => server.close())
    return originRepo(server.workRoot)
  }

  it("refuses at create and update a repository the host cannot clone, naming what it accepts", async () => {
    const { repo } = await start()
    const outside = join(fx.dir, "outside")
    mkdirSync(outside)
    fx.git(outside, "init", "-q")
    for (const url of [outside, "https://example.com/r.git", "git@example.com:r.git", "origin"]) {
      expectError(
        await server.api("POST", BASE, {
          body: { name: "n", prompt: "p", project: { repository: { url } } },
        }),
        422,
        "AGH_TRIGGER_PROJECT_UNSUPPORTED",
        `repository ${JSON.stringify(url)} is not one this host can clone`,
        `inside its work roots (${server.workRoot})`,
        "no URL prefixes are configured",
      )
    }
    // A directory inside the roots that is not a repository is refused as well.
    mkdirSync(join(server.workRoot, "project"))
    expectError(
      await server.api("POST", BASE, {
        body: { name: "n", prompt: "p", project: { repository: { url: join(server.workRoot, "project") } } },
      }),
      422,
      "AGH_TRIGGER_PROJECT_UNSUPPORTED",
    )
    expect(store.list()).toEqual([])

    const ok = await server.api("POST", BASE, {
      body: { name: "n", prompt: "p", project: { repository: { url: repo, ref: "nope" } } },
    })
    expect(ok.status, JSON.stringify(ok.json)).toBe(201)
    const id = (ok.json as { id: string }).id
    expectError(
      await server.api("POST", `${BASE}/${id}`, { body: { project: { repository: { url: outside } } } }),
      422,
      "AGH_TRIGGER_PROJECT_UNSUPPORTED",
      JSON.stringify(outside),
    )
    expect(store.get(id)?.project).toEqual({ repository: { url: repo, ref: "nope" } })
  })

  it("records a bad ref as start_failed with its code and leaves no workspace", async () => {
    const { repo } = await start()
    const created = await server.api("POST", BASE, {
      body: { name: "n", prompt: "p", project: { repository: { url: repo, ref: "nope" } } },
    })
    const id = (created.json as { id: string }).id
    expectError(
      await server.api("POST", `${BASE}/${id}/run`),
      400,
      "AGH_GIT_REF_NOT_FOUND",
      'has no branch or commit "nope"',
    )
    expect(store.get(id)?.history).toEqual([
      expect.objectContaining({
        status: "start_failed",
        session_id: null,
        error: expect.objectContaining({ code: "AGH_GIT_REF_NOT_FOUND" }),
      }),
    ])
    expect(server.manager.created).toEqual([])
    expect(workspaces(server.workRoot)).toEqual([])
  })

  it("refuses a run whose repository left the roots, and removes the clone of a run refused by the cap", async () => {
    const { repo } = await start({ max_sessions: 1 })
    mkdirSync(join(server.workRoot, "project"))
    const busy = await server.api("POST", BASE, {
      body: { name: "busy", prompt: "p", project: { work_dir: join(server.workRoot, "project") } },
    })
    const repoTrigger = await server.api("POST", BASE, {
      body: { name: "r", prompt: "p", project: { repository: { url: repo } } },
    })
    const id = (repoTrigger.json as { id: string }).id
    expect((await server.api("POST", `${BASE}/${(busy.json as { id: string }).id}/run`)).status).toBe(201)
    expectError(await server.api("POST", `${BASE}/${id}/run`), 429, "AGH_MAX_SESSIONS")
    expect(workspaces(server.workRoot)).toEqual([])

    rmSync(repo, { recursive: true, force: true })
    expectError(await server.api("POST", `${BASE}/${id}/run`), 422, "AGH_TRIGGER_PROJECT_UNSUPPORTED", repo)
    expect(store.get(id)?.history.map((r) => [r.status, r.error?.code])).toEqual([
      ["start_failed", "AGH_MAX_SESSIONS"],
      ["start_failed", "AGH_TRIGGER_PROJECT_UNSUPPORTED"],
    ])
  })

  it("needs allow_remote_sessions, at create and at run", async () => {
    const { repo } = await start({ allow_remote_sessions: false })
    expectError(
      await server.api("POST", BASE, {
        body: { name: "n", prompt: "p", project: { repository: { url: repo } } },
      }),
      403,
      "AGH_POLICY_REMOTE_SESSIONS",
      "allow_remote_sessions is false",
    )
    // One saved before the host's policy changed is refused when it runs, before anything is cloned.
    const saved = await store.create({
      name: "old",
      prompt: "p",
      project: { repository: { url: repo } },
      agent: "builtin",
    })
    expectError(await server.api("POST", `${BASE}/${saved.id}/run`), 403, "AGH_POLICY_REMOTE_SESSIONS")
    expect(store.get(saved.id)?.history[0]?.status).toBe("start_failed")
    expect(workspaces(server.workRoot)).toEqual([])
  })
})
