import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"

const BIN = join(import.meta.dirname, "../../bin/agenthost.js")
const TOKEN = "tok_5e3ret_d0_n0t_l3ak_8f2a91c4"

let home: string
let host: Server | undefined

beforeAll(() => {
  if (!existsSync(join(import.meta.dirname, "../../dist/cli/triggerCommand.js"))) {
    throw new Error("dist/ is missing the trigger command: run `npm run build` first (npm test does)")
  }
})

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "agh-trigger-token-"))
  writeFileSync(join(home, "secret-token"), `${TOKEN}\n`, { mode: 0o600 })
})

afterEach(async () => {
  await new Promise<void>((resolve) => (host === undefined ? resolve() : host.close(() => resolve())))
  host = undefined
  rmSync(home, { recursive: true, force: true })
})

/** What the host saw of the client process while it held the request open. */
interface Seen {
  authorization: string | undefined
  cmdline: string
  environ: string
}

/**
 * A stand-in host on 127.0.0.1 port 0 that holds each request open while it reads the client's
 * /proc/<pid>/cmdline and environ — the client is alive and has the token in memory at that moment.
 */
async function startHost(
  pid: () => number | undefined,
  answer: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = []
  host = createServer((req, res) => {
    const p = pid()
    const read = (file: string) => {
      try {
        return readFileSync(`/proc/${p}/${file}`).toString("latin1")
      } catch {
        return ""
      }
    }
    seen.push({
      authorization: req.headers.authorization,
      cmdline: read("cmdline"),
      environ: read("environ"),
    })
    answer(req, res)
  })
  await new Promise<void>((resolve) => host?.listen(0, "127.0.0.1", resolve))
  const { port } = host.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, seen }
}

function runCli(args: ReadonlyArray<string>): {
  pid: () => number | undefined
  done: Promise<{ code: number | null; out: string; err: string; argv: ReadonlyArray<string> }>
} {
  const child = spawn(process.execPath, [BIN, "trigger", ...args], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let out = ""
  let err = ""
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString()
  })
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString()
  })
  const done = new Promise<{ code: number | null; out: string; err: string; argv: ReadonlyArray<string> }>(
    (resolve) => child.once("close", (code) => resolve({ code, out, err, argv: child.spawnargs })),
  )
  return { pid: () => child.pid, done }
}

describe("agenthost trigger keeps the token in the process", () => {
  it("sends it as a bearer header, never in argv, environment or output", async () => {
    let pid: () => number | undefined = () => undefined
    const { url, seen } = await startHost(
      () => pid(),
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ triggers: [{ id: "trg_0123456789abcdef", name: "n", enabled: true }] }))
      },
    )
    const cli = runCli([
      "list",
      "--json",
      "--url",
      url,
      "--token-file",
      join(home, "secret-token"),
      "--home",
      home,
    ])
    pid = cli.pid
    const result = await cli.done
    expect(result.err).toBe("")
    expect(result.code).toBe(0)
    expect(JSON.parse(result.out)).toEqual([{ id: "trg_0123456789abcdef", name: "n", enabled: true }])
    expect(seen).toHaveLength(1)
    expect(seen[0]?.authorization).toBe(`Bearer ${TOKEN}`)
    // The process was alive and readable when the host looked (Linux).
    expect(seen[0]?.cmdline).toContain("trigger")
    expect(seen[0]?.cmdline).not.toContain(TOKEN)
    expect(seen[0]?.environ).not.toContain(TOKEN)
    expect(result.argv.join(" ")).not.toContain(TOKEN)
    expect(result.out).not.toContain(TOKEN)
  })

  it("does not echo the token when the host refuses it", async () => {
    const { url, seen } = await startHost(
      () => undefined,
      (_req, res) => {
        res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" })
        res.end(
          JSON.stringify({ error: { code: "AGH_AUTH_INVALID", message: "the bearer token is not valid" } }),
        )
      },
    )
    const result = await runCli([
      "run",
      "trg_0123456789abcdef",
      "--url",
      url,
      "--token-file",
      join(home, "secret-token"),
    ]).done
    expect(seen).toHaveLength(1)
    expect(result.code).toBe(1)
    expect(result.err).toContain("AGH_AUTH_INVALID")
    expect(`${result.out}${result.err}`).not.toContain(TOKEN)
  })
})
