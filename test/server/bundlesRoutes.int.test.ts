import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bundlesRoutes } from "../../src/server/routes/bundlesRoutes.js"
import { hostRoutes } from "../../src/server/routes/hostRoutes.js"
import { createSnapshotBundle } from "../../src/teleport/bundle.js"
import { importSessionChanges } from "../../src/teleport/pullBack.js"
import { prepareWorkspace } from "../../src/teleport/workspace.js"
import { FakeSessionHandle } from "../support/fakeSessionHandle.js"
import { type GitFixture, makeGitFixture } from "../teleport/gitFixture.js"
import { startTestServer, type TestServer } from "./testServer.js"

const MAX_BUNDLE_BYTES = 64 * 1024

let fx: GitFixture
let t: TestServer
let repo: string
let bundle: Buffer
let head: string

const bundlesDir = () => join(t.home, "bundles")
const bundleFiles = () => {
  try {
    return readdirSync(bundlesDir())
  } catch {
    return []
  }
}
const changesTempDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith("agh-changes-"))

beforeAll(async () => {
  fx = makeGitFixture("agh-bundles-route-")
  repo = fx.initRepo("project")
  fx.write(join(repo, "README.md"), "hello\n")
  fx.git(repo, "add", "README.md")
  fx.git(repo, "commit", "-q", "-m", "first")
  head = fx.git(repo, "rev-parse", "HEAD")
  fx.write(join(repo, "README.md"), "hello, edited\n")
  const made = await fx.run(createSnapshotBundle(repo, join(fx.dir, "seed.bundle")))
  bundle = readFileSync(made.bundlePath)
  t = await startTestServer(
    { allow_remote_sessions: true },
    {
      routes: [
        bundlesRoutes({ maxBundleBytes: MAX_BUNDLE_BYTES, git: fx.layer }),
        hostRoutes({ maxBundleBytes: MAX_BUNDLE_BYTES }),
      ],
    },
  )
})

afterAll(async () => {
  await t?.close()
  fx?.cleanup()
})

/** A streamed upload without Content-Length, `chunks` chunks of `size` bytes, as a slow client sends it. */
function chunkedUpload(chunks: number, size: number) {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const req = request(`${t.url}/bundles`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.token}`, "content-type": "application/x-git-bundle" },
    })
    req.on("response", (res) => {
      let text = ""
      res.on("data", (c: Buffer) => {
        text += c.toString()
      })
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on("error", reject)
    const chunk = Buffer.alloc(size, 0x61)
    for (let i = 0; i < chunks; i++) req.write(chunk)
    req.end()
  })
}

/**
 * A raw TCP client that ignores the answer and keeps sending a chunked body (minding backpressure, at most
 * `limit` bytes): resolves with what it read and how much it had sent when the host closed the connection.
 */
function stubbornUpload(limit: number) {
  return new Promise<{ response: string; sent: number }>((resolve) => {
    const socket = connect(Number(new URL(t.url).port), "127.0.0.1")
    let response = ""
    let sent = 0
    let closed = false
    socket.on("data", (c: Buffer) => {
      response += c.toString()
    })
    socket.on("error", () => undefined)
    socket.once("close", () => {
      closed = true
      resolve({ response, sent })
    })
    socket.write(
      "POST /bundles HTTP/1.1\r\nHost: localhost\r\n" +
        `Authorization: Bearer ${t.token}\r\nTransfer-Encoding: chunked\r\n\r\n`,
    )
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x62), Buffer.from("\r\n")])
    const pump = () => {
      while (!closed && sent < limit) {
        sent += 0x10000
        if (!socket.write(chunk)) {
          socket.once("drain", pump)
          return
        }
      }
    }
    pump()
  })
}

describe("POST /bundles", () => {
  it("stores a checked snapshot bundle under a fresh id, and DELETE removes it", async () => {
    const res = await t.api("POST", "/bundles", { rawBody: bundle })
    expect(res.status).toBe(201)
    const body = res.json as Record<string, unknown>
    expect(body).toEqual({
      bundle_id: expect.stringMatching(/^b_[0-9a-f]{32}$/),
      bytes: bundle.length,
      head_sha: head,
      snapshot_sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      branch: "main",
    })
    const id = body.bundle_id as string
    expect(res.headers.get("location")).toBe(`/bundles/${id}`)
    expect(bundleFiles()).toEqual([`${id}.bundle`])
    expect(statSync(join(bundlesDir(), `${id}.bundle`)).mode & 0o777).toBe(0o600)

    expect((await t.api("DELETE", `/bundles/${id}`)).status).toBe(204)
    expect(bundleFiles()).toEqual([])
    const again = await t.api("DELETE", `/bundles/${id}`)
    expect(again.status).toBe(404)
    expect(again.json).toEqual({
      error: { code: "AGH_BUNDLE_NOT_FOUND", message: `no bundle "${id}" on this host` },
    })
  })

  it("refuses a corrupt bundle with 400 AGH_BUNDLE_INVALID and keeps nothing", async () => {
    const corrupt = Buffer.from(bundle)
    // Past the header, inside the pack: the header still parses, the objects do not.
    for (let i = corrupt.length - 200; i < corrupt.length - 100; i++) corrupt[i] = (corrupt[i] ?? 0) ^ 0xff
    const res = await t.api("POST", "/bundles", { rawBody: corrupt })
    expect(res.status).toBe(400)
    expect((res.json as { error: { code: string } }).error.code).toBe("AGH_BUNDLE_INVALID")
    expect(bundleFiles()).toEqual([])

    const garbage = await t.api("POST", "/bundles", { rawBody: "not a bundle at all\n" })
    expect(garbage.status).toBe(400)
    expect((garbage.json as { error: { code: string } }).error.code).toBe("AGH_BUNDLE_INVALID")
    expect(bundleFiles()).toEqual([])
  })

  it("refuses an oversized upload by its Content-Length with 413, before reading it", async () => {
    const big = Buffer.alloc(MAX_BUNDLE_BYTES + 1, 0x61)
    const res = await t.api("POST", "/bundles", { rawBody: big })
    expect(res.status).toBe(413)
    expect(res.json).toEqual({
      error: {
        code: "AGH_BUNDLE_TOO_LARGE",
        message: `bundle upload of ${MAX_BUNDLE_BYTES + 1} bytes (Content-Length) is larger than the limit of ${MAX_BUNDLE_BYTES} bytes`,
      },
    })
    expect(bundleFiles()).toEqual([])
  })

  it("refuses a streamed upload that grows over the limit with 413 and keeps nothing", async () => {
    const res = await chunkedUpload(20, 16 * 1024)
    expect(res.status).toBe(413)
    expect(res.body).toEqual({
      error: {
        code: "AGH_BUNDLE_TOO_LARGE",
        message: `bundle upload is larger than the limit of ${MAX_BUNDLE_BYTES} bytes`,
      },
    })
    expect(bundleFiles()).toEqual([])
  })

  it("closes the connection of a client that keeps sending after the 413", async () => {
    const res = await stubbornUpload(256 * 1024 * 1024)
    expect(res.response).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/)
    expect(res.response).toContain('"code":"AGH_BUNDLE_TOO_LARGE"')
    // Cut after the drain allowance (plus what the socket buffers held), long before the whole upload.
    expect(res.sent).toBeLessThan(64 * 1024 * 1024)
    expect(bundleFiles()).toEqual([])
  })

  it("needs the token and writes nothing without it", async () => {
    const res = await t.api("POST", "/bundles", { rawBody: bundle, token: null })
    expect(res.status).toBe(401)
    expect(bundleFiles()).toEqual([])
  })
})

describe("GET /sessions/:id/changes", () => {
  it("streams the session's commits and uncommitted work as a bundle the client pulls into agenthost/<id>", async () => {
    const id = "s_changes1"
    const stored = (await t.api("POST", "/bundles", { rawBody: bundle })).json as { bundle_id: string }
    const workspace = await fx.run(
      prepareWorkspace({
        source: { bundlePath: join(bundlesDir(), `${stored.bundle_id}.bundle`) },
        workRoot: t.workRoot,
        sessionId: id,
      }),
    )
    t.manager.add(new FakeSessionHandle({ id, workDir: workspace.workDir }))
    writeFileSync(join(workspace.workDir, "new.txt"), "x\n")
    const before = changesTempDirs()

    const res = await fetch(`${t.url}/sessions/${id}/changes`, {
      headers: { authorization: `Bearer ${t.token}` },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe("application/x-git-bundle")
    expect(res.headers.get("x-agenthost-base-sha")).toBe(head)
    expect(res.headers.get("x-agenthost-commits")).toBe("1")
    expect(res.headers.get("x-agenthost-uncommitted")).toBe("true")
    const bytes = Buffer.from(await res.arrayBuffer())
    expect(String(bytes.length)).toBe(res.headers.get("content-length"))
    const file = join(fx.dir, "changes.bundle")
    writeFileSync(file, bytes)

    const pulled = await fx.run(importSessionChanges(repo, file, id))
    expect(pulled.sha).toBe(res.headers.get("x-agenthost-result-sha"))
    expect(fx.git(repo, "show", `agenthost/${id}:new.txt`)).toBe("x")
    expect(fx.git(repo, "show", `agenthost/${id}:README.md`)).toBe("hello, edited")
    // The download's temp directory goes away with the stream.
    await expect.poll(() => changesTempDirs().filter((d) => !before.includes(d))).toEqual([])
  })

  it("answers 404 for an unknown session and 400 AGH_GIT_NOT_A_REPO for a work dir without git", async () => {
    const missing = await t.api("GET", "/sessions/s_nope/changes")
    expect(missing.status).toBe(404)
    expect((missing.json as { error: { code: string } }).error.code).toBe("AGH_SESSION_NOT_FOUND")

    const plain = join(t.workRoot, "s_plain")
    mkdirSync(plain, { recursive: true })
    t.manager.add(new FakeSessionHandle({ id: "s_plain", workDir: plain }))
    const res = await t.api("GET", "/sessions/s_plain/changes")
    expect(res.status).toBe(400)
    expect(res.json).toEqual({
      error: {
        code: "AGH_GIT_NOT_A_REPO",
        message: `session s_plain has no changes to pull: its work directory ${plain} is not the top of a git repository`,
      },
    })
  })
})

describe("host capabilities and clone sources", () => {
  it("reports policy and capacity", async () => {
    const res = await t.api("GET", "/host/capabilities")
    expect(res.status).toBe(200)
    const live = t.manager
      .list()
      .filter((s) => !["completed", "failed", "killed"].includes(s.info().status)).length
    expect(res.json).toEqual({
      allow_remote_sessions: true,
      allow_skip_permissions: false,
      max_sessions: 32,
      live_sessions: live,
      max_bundle_bytes: MAX_BUNDLE_BYTES,
      default_agent: "builtin",
      agents: ["builtin", "claude"],
    })
    expect((await t.api("GET", "/host/capabilities", { token: "wrong" })).status).toBe(401)
  })

  it("lists only remotes inside the work roots that git can read, and admits exactly those as clone_url", async () => {
    const origin = join(t.workRoot, "origin.git")
    fx.git(fx.dir, "clone", "-q", "--bare", repo, origin)
    const outside = join(fx.dir, "outside.git")
    fx.git(fx.dir, "clone", "-q", "--bare", repo, outside)
    const remotes = [
      { name: "origin", url: origin },
      { name: "outside", url: outside },
      { name: "github", url: "https://github.com/acme/project.git" },
      { name: "notgit", url: t.workRoot },
    ]
    const res = await t.api("POST", "/host/reachable-remotes", { body: { remotes } })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      reachable: [{ name: "origin", url: origin, clone_url: origin, kind: "local" }],
    })

    const refused = await t.api("POST", "/sessions", { body: { clone_url: outside, prompt: "hi" } })
    expect(refused.status).toBe(403)
    expect((refused.json as { error: { code: string; message: string } }).error).toEqual({
      code: "AGH_POLICY_CLONE_URL",
      message: expect.stringContaining(`clone_url "${outside}" is not a repository this host may clone`),
    })
    const both = await t.api("POST", "/sessions", { body: { clone_url: origin, bundle_id: "b_x" } })
    expect(both.status).toBe(400)
    expect((both.json as { error: { code: string } }).error.code).toBe("AGH_BAD_REQUEST")

    const before = t.manager.created.length
    const ok = await t.api("POST", "/sessions", {
      body: { clone_url: origin, clone_ref: head, prompt: "hi" },
    })
    expect(ok.status).toBe(201)
    expect(t.manager.created.slice(before)).toEqual([
      { agent: "builtin", skipPermissions: false, prompt: "hi", cloneUrl: origin, cloneRef: head },
    ])
  })

  it("documents the binary routes in the OpenAPI document", async () => {
    const doc = (await t.api("GET", "/openapi.json")).json as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>
    }
    expect(doc.paths["/bundles"]?.post?.requestBody).toEqual({
      required: true,
      description: expect.any(String),
      content: { "application/x-git-bundle": { schema: { type: "string", format: "binary" } } },
    })
    expect(doc.paths["/sessions/{id}/changes"]?.get?.responses["200"]).toEqual({
      description: "The bundle",
      content: { "application/x-git-bundle": { schema: { type: "string", format: "binary" } } },
    })
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/host/capabilities", "/host/reachable-remotes"]),
    )
  })
})

describe("a host that does not allow remote sessions", () => {
  it("does not say which repositories it could clone", async () => {
    const closed = await startTestServer({}, { routes: [hostRoutes()] })
    try {
      const res = await closed.api("POST", "/host/reachable-remotes", {
        body: { remotes: [{ name: "o", url: "/x" }] },
      })
      expect(res.status).toBe(403)
      expect((res.json as { error: { code: string } }).error.code).toBe("AGH_POLICY_REMOTE_SESSIONS")
      const caps = (await closed.api("GET", "/host/capabilities")).json as { allow_remote_sessions: boolean }
      expect(caps.allow_remote_sessions).toBe(false)
    } finally {
      await closed.close()
    }
  })
})
