import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { prepareHome } from "../../src/server/home.js"

const BIN = join(import.meta.dirname, "../../bin/agenthost.js")

interface Served {
  readonly child: ChildProcess
  readonly url: string
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts the built CLI and resolves once it printed where to connect. */
function serve(args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let out = ""
  let err = ""
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not start; stdout=${out} stderr=${err}`)),
      15_000,
    )
    child.stderr?.on("data", (c: Buffer) => {
      err += c.toString()
    })
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m?.[1] !== undefined) {
        clearTimeout(timer)
        resolve({ child, url: m[1], stdout: () => out, stderr: () => err, exited })
      }
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code}; stdout=${out} stderr=${err}`))
    })
  })
}

let base: string
let running: ChildProcess | undefined

beforeAll(() => {
  if (!existsSync(join(import.meta.dirname, "../../dist/cli/main.js"))) {
    throw new Error("dist/ is missing: run `npm run build` first (npm test does)")
  }
})

afterEach(() => {
  if (running !== undefined && running.exitCode === null) running.kill("SIGKILL")
  running = undefined
  if (base !== undefined) rmSync(base, { recursive: true, force: true })
})

describe("agenthost serve (built CLI)", () => {
  it("on first start creates home, token (0600) and config, prints the URL and token path but not the token", async () => {
    base = mkdtempSync(join(tmpdir(), "agh-serve-"))
    const home = join(base, "home")
    const served = await serve(["--home", home, "--port", "0"])
    running = served.child
    const token = readFileSync(join(home, "token"), "utf8").trim()
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    expect(statSync(join(home, "token")).mode & 0o777).toBe(0o600)
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(JSON.parse(readFileSync(join(home, "config.json"), "utf8"))).toMatchObject({
      host: "127.0.0.1",
      port: 7420,
    })
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(served.stdout()).toContain(`token file: ${join(home, "token")}`)
    expect(served.stdout() + served.stderr()).not.toContain(token)

    expect(await (await fetch(`${served.url}/healthz`)).json()).toEqual({ ok: true })
    const unauthorized = await fetch(`${served.url}/sessions`)
    expect(unauthorized.status).toBe(401)
    const list = await fetch(`${served.url}/sessions`, { headers: { authorization: `Bearer ${token}` } })
    expect(await list.json()).toEqual({ sessions: [] })

    served.child.kill("SIGTERM")
    expect(await served.exited).toEqual({ code: 0, signal: null })
    expect(served.stderr()).toContain("SIGTERM: shutting down")
  })

  it("uses $AGENTHOST_HOME and exits promptly on SIGINT despite an idle keep-alive connection", async () => {
    base = mkdtempSync(join(tmpdir(), "agh-serve-"))
    const served = await serve(["--port", "0"], { AGENTHOST_HOME: join(base, "env-home") })
    running = served.child
    expect(existsSync(join(base, "env-home", "token"))).toBe(true)
    // An idle keep-alive connection must not hold the shutdown.
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200)
    const started = Date.now()
    served.child.kill("SIGINT")
    expect((await served.exited).code).toBe(0)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it("re-reads cron.json on SIGHUP, and keeps the settings in force when it is invalid", async () => {
    base = mkdtempSync(join(tmpdir(), "agh-serve-"))
    const home = join(base, "home")
    const served = await serve(["--home", home, "--port", "0"])
    running = served.child
    const token = readFileSync(join(home, "token"), "utf8").trim()
    const jitter = async () =>
      (
        (await (
          await fetch(`${served.url}/cron/config`, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as { jitter: { recurringFrac: number } }
      ).jitter.recurringFrac
    // Resolves on the stderr chunk that completes `text` (the process's own output, no timer).
    const stderrShows = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!served.stderr().includes(text)) return
          served.child.stderr?.off("data", check)
          resolve()
        }
        served.child.stderr?.on("data", check)
        check()
      })
    expect(await jitter()).toBe(0.1)
    writeFileSync(join(home, "cron.json"), JSON.stringify({ jitter: { recurringFrac: 0.25 } }))
    served.child.kill("SIGHUP")
    await stderrShows("SIGHUP: reloaded")
    expect(await jitter()).toBe(0.25)
    writeFileSync(join(home, "cron.json"), JSON.stringify({ jitter: { recurringFrac: 7 } }))
    served.child.kill("SIGHUP")
    await stderrShows("SIGHUP: kept the settings in force")
    expect(await jitter()).toBe(0.25)
    served.child.kill("SIGTERM")
    expect((await served.exited).code).toBe(0)
  })

  it("refuses to start with an insecure token file, naming it", async () => {
    base = mkdtempSync(join(tmpdir(), "agh-serve-"))
    const home = join(base, "home")
    chmodSync(prepareHome(home).tokenPath, 0o640)
    const child = spawn(process.execPath, [BIN, "serve", "--home", home, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    running = child
    let err = ""
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve))
    expect(code).toBe(2)
    expect(err).toContain(
      `agenthost serve: AGH_TOKEN_INSECURE: token file ${join(home, "token")} has mode 0640`,
    )
  })

  it("reports a port in use with AGH_LISTEN_FAILED", async () => {
    base = mkdtempSync(join(tmpdir(), "agh-serve-"))
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve))
    const port = String((blocker.address() as AddressInfo).port)
    const child = spawn(process.execPath, [BIN, "serve", "--home", join(base, "b"), "--port", port], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    let err = ""
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString()
    })
    expect(await new Promise<number | null>((resolve) => child.once("exit", resolve))).toBe(2)
    expect(err).toContain(`AGH_LISTEN_FAILED: cannot listen on 127.0.0.1:${port}: EADDRINUSE`)
    await new Promise((resolve) => blocker.close(resolve))
  })
})
