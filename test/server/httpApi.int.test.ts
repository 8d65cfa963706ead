import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs"
import { request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FakeSessionHandle } from "../support/fakeSessionHandle.js"
import { startTestServer, type TestServer } from "./testServer.js"

const WRONG = "0".repeat(64)

describe("HTTP API", () => {
  let t: TestServer
  let outside: string

  beforeAll(async () => {
    t = await startTestServer()
    outside = mkdtempSync(join(tmpdir(), "agh-outside-"))
  })
  afterAll(async () => {
    await t.close()
    rmSync(outside, { recursive: true, force: true })
  })

  const existing = () => {
    const id = "s_existing"
    return t.manager.get(id) ?? t.manager.add(new FakeSessionHandle({ id, workDir: t.workRoot }))
  }

  describe("authentication on every route", () => {
    const routes = (): Array<[string, string, unknown?]> => [
      ["POST", "/sessions", {}],
      ["GET", "/sessions"],
      ["GET", `/sessions/${existing().id}`],
      ["GET", `/sessions/${existing().id}/messages?after=0`],
      ["GET", `/sessions/${existing().id}/ws`],
      ["DELETE", "/sessions/s_does_not_exist"],
      ["GET", "/openapi.json"],
    ]

    it("refuses a request without a token with 401 AGH_AUTH_REQUIRED", async () => {
      for (const [method, path, body] of routes()) {
        const res = await t.api(method, path, { token: null, body })
        expect(res.status, `${method} ${path}`).toBe(401)
        expect(res.json).toEqual({
          error: { code: "AGH_AUTH_REQUIRED", message: expect.stringContaining("Bearer") },
        })
        expect(res.headers.get("www-authenticate")).toContain("Bearer")
      }
    })

    it("refuses a wrong token, a token of another length and a non-bearer scheme with 401 AGH_AUTH_INVALID", async () => {
      for (const [method, path, body] of routes()) {
        for (const headers of [
          { authorization: `Bearer ${WRONG}` },
          { authorization: `Bearer ${t.token}x` },
          { authorization: `Basic ${Buffer.from(`u:${t.token}`).toString("base64")}` },
        ]) {
          const res = await t.api(method, path, { token: null, body, headers })
          expect(res.status, `${method} ${path} ${headers.authorization}`).toBe(401)
          expect((res.json as { error: { code: string } }).error.code).toBe("AGH_AUTH_INVALID")
        }
      }
    })

    it("lets the right token through", async () => {
      for (const [method, path, body] of routes()) {
        const res = await t.api(method, path, { body })
        expect(res.status, `${method} ${path}`).not.toBe(401)
      }
    })

    it("serves GET /healthz without a token", async () => {
      const res = await t.api("GET", "/healthz", { token: null })
      expect(res.status).toBe(200)
      expect(res.json).toEqual({ ok: true })
    })
  })

  describe("routing", () => {
    it("answers an unknown route with 404 AGH_NOT_FOUND", async () => {
      const res = await t.api("GET", "/nope")
      expect(res.status).toBe(404)
      expect(res.json).toEqual({ error: { code: "AGH_NOT_FOUND", message: "no route for GET /nope" } })
    })

    it("answers a wrong method with 405 and Allow", async () => {
      const res = await t.api("PUT", "/sessions")
      expect(res.status).toBe(405)
      expect(res.headers.get("allow")).toBe("GET, POST")
      expect((res.json as { error: { code: string } }).error.code).toBe("AGH_METHOD_NOT_ALLOWED")
    })

    it("answers a plain GET on the WebSocket route with 426", async () => {
      const res = await t.api("GET", `/sessions/${existing().id}/ws`)
      expect(res.status).toBe(426)
      expect((res.json as { error: { code: string } }).error.code).toBe("AGH_WS_UPGRADE_REQUIRED")
    })

    it("serves an OpenAPI 3.1 document describing every route", async () => {
      const res = await t.api("GET", "/openapi.json")
      expect(res.status).toBe(200)
      const doc = res.json as {
        openapi: string
        paths: Record<string, Record<string, { security: unknown[]; requestBody?: unknown }>>
        components: { schemas: Record<string, unknown> }
      }
      expect(doc.openapi).toBe("3.1.0")
      expect(Object.keys(doc.paths).sort()).toEqual([
        "/healthz",
        "/openapi.json",
        "/sessions",
        "/sessions/{id}",
        "/sessions/{id}/messages",
        "/sessions/{id}/ws",
      ])
      expect(Object.keys(doc.paths["/sessions"] ?? {}).sort()).toEqual(["get", "post"])
      expect(doc.paths["/healthz"]?.get?.security).toEqual([])
      expect(doc.paths["/sessions"]?.post?.requestBody).toEqual({
        required: false,
        content: { "application/json": { schema: { $ref: "#/components/schemas/CreateSessionRequest" } } },
      })
      expect(doc.components.schemas).toHaveProperty("SessionInfo")
      expect(JSON.stringify(doc)).not.toContain("#/$defs/")
    })
  })

  describe("POST /sessions bodies", () => {
    const expectError = async (
      init: Parameters<TestServer["api"]>[2],
      status: number,
      code: string,
      message: string | RegExp,
    ) => {
      const res = await t.api("POST", "/sessions", init)
      expect(res.status).toBe(status)
      const error = (res.json as { error: { code: string; message: string } }).error
      expect(error.code).toBe(code)
      if (typeof message === "string") expect(error.message).toBe(message)
      else expect(error.message).toMatch(message)
    }

    it("names the field of a wrong type", async () => {
      await expectError(
        { body: { cwd: 42 } },
        400,
        "AGH_BAD_REQUEST",
        'field "cwd": Expected string | null, got 42',
      )
      await expectError(
        { body: { dangerously_skip_permissions: "yes" } },
        400,
        "AGH_BAD_REQUEST",
        /^field "dangerously_skip_permissions": Expected boolean \| null/,
      )
    })

    it("names every unknown field", async () => {
      await expectError(
        { body: { prompt: "hi", promt: "typo" } },
        400,
        "AGH_BAD_REQUEST",
        'field "promt": unknown field',
      )
    })

    it("refuses a body that is not an object", async () => {
      await expectError({ body: [1, 2] }, 400, "AGH_BAD_REQUEST", "body: Expected object, got [1,2]")
    })

    it("refuses invalid JSON with AGH_BAD_JSON", async () => {
      await expectError(
        { rawBody: '{"cwd":', headers: { "content-type": "application/json" } },
        400,
        "AGH_BAD_JSON",
        /^request body is not valid JSON: /,
      )
    })

    it("refuses a non-JSON content type with 415", async () => {
      await expectError(
        { rawBody: "cwd=/tmp", headers: { "content-type": "application/x-www-form-urlencoded" } },
        415,
        "AGH_UNSUPPORTED_MEDIA_TYPE",
        'request body must be application/json, got content-type "application/x-www-form-urlencoded"',
      )
    })

    it("refuses a body over max_body_bytes with 413", async () => {
      const big = JSON.stringify({ prompt: "x".repeat(1024 * 1024) })
      await expectError(
        { rawBody: big, headers: { "content-type": "application/json" } },
        413,
        "AGH_BODY_TOO_LARGE",
        `request body of ${Buffer.byteLength(big)} bytes exceeds 1048576 bytes (config max_body_bytes)`,
      )
    })

    it("refuses a chunked body that grows over the limit with 413", async () => {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${t.url}/sessions`, {
          method: "POST",
          headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
        })
        req.on("response", (res) => {
          let text = ""
          res.on("data", (c: Buffer) => {
            text += c.toString()
          })
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
        })
        req.on("error", reject)
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        for (let i = 0; i < 20; i++) req.write(chunk)
        req.end()
      })
      expect(status).toBe(413)
      expect(JSON.parse(body)).toEqual({
        error: {
          code: "AGH_BODY_TOO_LARGE",
          message: "request body exceeds 1048576 bytes (config max_body_bytes)",
        },
      })
    })
  })

  describe("POST /sessions policy", () => {
    it("creates a session in a fresh work dir and returns 201 with ws_url", async () => {
      const before = t.manager.created.length
      const res = await t.api("POST", "/sessions", { body: { prompt: "hello", title: "t1" } })
      expect(res.status).toBe(201)
      const body = res.json as { session_id: string; ws_url: string; work_dir: string; status: string }
      expect(body.session_id).toMatch(/^s_[0-9a-f]{24}$/)
      expect(body.ws_url).toBe(`${t.wsBase}/sessions/${body.session_id}/ws`)
      expect(body.work_dir).toBe(join(t.workRoot, body.session_id))
      expect(body.status).toBe("starting")
      expect(res.headers.get("location")).toBe(`/sessions/${body.session_id}`)
      expect(t.manager.created.slice(before)).toEqual([
        { agent: "builtin", skipPermissions: false, prompt: "hello", title: "t1" },
      ])
      expect(t.manager.get(body.session_id)?.userMessages).toEqual([
        {
          type: "user",
          message: { role: "user", content: "hello" },
          parent_tool_use_id: null,
          session_id: body.session_id,
        },
      ])
    })

    it("accepts a cwd inside a work root (real path) and treats null fields as absent", async () => {
      const dir = join(t.workRoot, "project-a")
      mkdirSync(dir, { recursive: true })
      const res = await t.api("POST", "/sessions", { body: { cwd: `${dir}/./`, agent: null, title: null } })
      expect(res.status).toBe(201)
      expect((res.json as { work_dir: string }).work_dir).toBe(dir)
    })

    it("refuses a cwd outside the work roots with 403 AGH_POLICY_CWD", async () => {
      const res = await t.api("POST", "/sessions", { body: { cwd: outside } })
      expect(res.status).toBe(403)
      expect(res.json).toEqual({
        error: {
          code: "AGH_POLICY_CWD",
          message: `cwd ${JSON.stringify(outside)} (real path ${JSON.stringify(outside)}) is outside the allowed work roots: ${t.workRoot}`,
        },
      })
    })

    it("refuses a symlink inside a work root that points outside", async () => {
      const link = join(t.workRoot, "escape")
      symlinkSync(outside, link)
      const res = await t.api("POST", "/sessions", { body: { cwd: link } })
      expect(res.status).toBe(403)
      expect((res.json as { error: { code: string } }).error.code).toBe("AGH_POLICY_CWD")
    })

    it("refuses `..` that climbs out of the root", async () => {
      const res = await t.api("POST", "/sessions", { body: { cwd: `${t.workRoot}/../` } })
      expect(res.status).toBe(403)
    })

    it("refuses a missing or relative cwd with 400 AGH_CWD_INVALID", async () => {
      const missing = join(t.workRoot, "missing")
      let res = await t.api("POST", "/sessions", { body: { cwd: missing } })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({
        error: {
          code: "AGH_CWD_INVALID",
          message: `cwd ${JSON.stringify(missing)} does not exist or cannot be resolved (ENOENT)`,
        },
      })
      res = await t.api("POST", "/sessions", { body: { cwd: "relative/dir" } })
      expect(res.json).toEqual({
        error: { code: "AGH_CWD_INVALID", message: 'cwd "relative/dir" is not an absolute path' },
      })
    })

    it("refuses skipping permissions unless the config allows it", async () => {
      const res = await t.api("POST", "/sessions", { body: { dangerously_skip_permissions: true } })
      expect(res.status).toBe(403)
      expect((res.json as { error: { code: string } }).error.code).toBe("AGH_POLICY_SKIP_PERMISSIONS")
      const ok = await t.api("POST", "/sessions", { body: { dangerously_skip_permissions: false } })
      expect(ok.status).toBe(201)
    })

    it("refuses teleport (bundle_id) unless allow_remote_sessions", async () => {
      const res = await t.api("POST", "/sessions", { body: { bundle_id: "b_1" } })
      expect(res.status).toBe(403)
      expect((res.json as { error: { code: string } }).error.code).toBe("AGH_POLICY_REMOTE_SESSIONS")
    })

    it("refuses an unknown agent with 400 naming it", async () => {
      const res = await t.api("POST", "/sessions", { body: { agent: "gpt" } })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({
        error: {
          code: "AGH_UNKNOWN_AGENT",
          message: 'unknown agent "gpt"; configured agents: builtin, claude',
        },
      })
    })

    it("passes a failure of the session runtime through with its code", async () => {
      const { SessionManagerError } = await import("../../src/server/sessionManager.js")
      t.manager.failCreate = new SessionManagerError({
        reason: "CreateFailed",
        message: "agent binary missing",
      })
      try {
        const res = await t.api("POST", "/sessions", {})
        expect(res.status).toBe(500)
        expect(res.json).toEqual({
          error: { code: "AGH_SESSION_CREATE_FAILED", message: "agent binary missing" },
        })
      } finally {
        t.manager.failCreate = undefined
      }
    })
  })

  describe("sessions", () => {
    it("lists, shows, reads messages after a seq and kills", async () => {
      const res = await t.api("POST", "/sessions", { body: { title: "listed" } })
      const id = (res.json as { session_id: string }).session_id
      const session = t.manager.get(id)!
      for (let i = 1; i <= 5; i++) session.emit({ type: "assistant", n: i })

      const list = (await t.api("GET", "/sessions")).json as {
        sessions: Array<{ id: string; ws_url: string }>
      }
      expect(list.sessions.map((s) => s.id)).toContain(id)

      const one = await t.api("GET", `/sessions/${id}`)
      expect(one.json).toMatchObject({
        id,
        title: "listed",
        status: "starting",
        last_seq: 5,
        ws_url: `${t.wsBase}/sessions/${id}/ws`,
      })

      const page = await t.api("GET", `/sessions/${id}/messages?after=2`)
      expect(page.json).toEqual({
        session_id: id,
        last_seq: 5,
        messages: [3, 4, 5].map((n) => ({ type: "assistant", n, seq: n })),
      })
      const limited = (await t.api("GET", `/sessions/${id}/messages?after=0&limit=2`)).json as {
        messages: unknown[]
      }
      expect(limited.messages).toHaveLength(2)

      for (const bad of ["-1", "abc", "1.5", "6"]) {
        const r = await t.api("GET", `/sessions/${id}/messages?after=${bad}`)
        expect(r.status, bad).toBe(400)
        expect((r.json as { error: { message: string } }).error.message).toMatch(/^query parameter "after": /)
      }

      const killed = await t.api("DELETE", `/sessions/${id}`)
      expect(killed.status).toBe(200)
      expect(killed.json).toMatchObject({ id, status: "killed" })
      const again = await t.api("DELETE", `/sessions/${id}`)
      expect(again.json).toMatchObject({ id, status: "killed" })
    })

    it("answers an unknown session with 404 AGH_SESSION_NOT_FOUND on every session route", async () => {
      for (const [method, path] of [
        ["GET", "/sessions/s_nope"],
        ["DELETE", "/sessions/s_nope"],
        ["GET", "/sessions/s_nope/messages"],
      ] as const) {
        const res = await t.api(method, path)
        expect(res.status).toBe(404)
        expect(res.json).toEqual({ error: { code: "AGH_SESSION_NOT_FOUND", message: 'no session "s_nope"' } })
      }
    })
  })
})

describe("max_sessions", () => {
  it("refuses a session over the cap with 429 AGH_MAX_SESSIONS, counting only live sessions", async () => {
    const t = await startTestServer({ max_sessions: 2 })
    try {
      const a = await t.api("POST", "/sessions", {})
      // Both requests race for the last slot: exactly one gets it.
      const [b, c] = await Promise.all([t.api("POST", "/sessions", {}), t.api("POST", "/sessions", {})])
      expect([a.status, b.status, c.status].sort()).toEqual([201, 201, 429])
      const refused = [b, c].find((r) => r.status === 429)
      expect(refused?.json).toEqual({
        error: {
          code: "AGH_MAX_SESSIONS",
          message: "the host already runs 2 sessions (config max_sessions is 2); end one first",
        },
      })
      t.manager.get((a.json as { session_id: string }).session_id)?.finish()
      expect((await t.api("POST", "/sessions", {})).status).toBe(201)
    } finally {
      await t.close()
    }
  })
})
