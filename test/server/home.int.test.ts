import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { defaultServerConfig } from "../../src/server/config.js"
import { prepareHome } from "../../src/server/home.js"
import { makeTokenVerifier } from "../../src/server/token.js"

let base: string
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "agh-home-"))
})
afterEach(() => rmSync(base, { recursive: true, force: true }))

const mode = (path: string) => statSync(path).mode & 0o777

describe("prepareHome", () => {
  it("creates home (0700), token (0600), config with defaults, logs, sessions and the work root", () => {
    const home = join(base, "h")
    const prepared = prepareHome(home)
    expect(mode(home)).toBe(0o700)
    expect(mode(prepared.tokenPath)).toBe(0o600)
    expect(prepared.token).toMatch(/^[0-9a-f]{64}$/)
    expect(readFileSync(prepared.tokenPath, "utf8")).toBe(`${prepared.token}\n`)
    expect(JSON.parse(readFileSync(prepared.configPath, "utf8"))).toEqual(
      JSON.parse(JSON.stringify(defaultServerConfig(home))),
    )
    for (const dir of ["logs", "sessions", "work"]) expect(statSync(join(home, dir)).isDirectory()).toBe(true)
    expect(prepared.created).toEqual([
      home,
      join(home, "token"),
      join(home, "config.json"),
      join(home, "logs"),
      join(home, "sessions"),
      join(home, "work"),
    ])
  })

  it("never overwrites an existing token or config", () => {
    const home = join(base, "h")
    const first = prepareHome(home)
    writeFileSync(first.configPath, JSON.stringify({ port: 9000 }))
    const second = prepareHome(home)
    expect(second.token).toBe(first.token)
    expect(second.config.port).toBe(9000)
    expect(second.created).toEqual([])
  })

  it("refuses a token file that group or others can read", () => {
    const home = join(base, "h")
    const { tokenPath } = prepareHome(home)
    chmodSync(tokenPath, 0o644)
    expect(() => prepareHome(home)).toThrow(
      expect.objectContaining({
        code: "AGH_TOKEN_INSECURE",
        message: `token file ${tokenPath} has mode 0644: group or others can read it; run \`chmod 600 ${tokenPath}\``,
      }),
    )
  })

  it("refuses a token file that does not hold a token", () => {
    const home = join(base, "h")
    const { tokenPath } = prepareHome(home)
    writeFileSync(tokenPath, "short\n")
    expect(() => prepareHome(home)).toThrow(expect.objectContaining({ code: "AGH_TOKEN_INVALID" }))
  })

  it("refuses an invalid config naming the file and field", () => {
    const home = join(base, "h")
    const { configPath } = prepareHome(home)
    writeFileSync(configPath, '{"max_sessions": "many"}')
    expect(() => prepareHome(home)).toThrow(
      expect.objectContaining({
        code: "AGH_CONFIG_INVALID",
        message: `${configPath}: field "max_sessions": Expected number, got "many"`,
      }),
    )
    writeFileSync(configPath, "{")
    expect(() => prepareHome(home)).toThrow(
      expect.objectContaining({
        code: "AGH_CONFIG_INVALID",
        message: expect.stringContaining(`${configPath} is not valid JSON`),
      }),
    )
  })

  it("refuses a home that is a file", () => {
    const home = join(base, "file")
    writeFileSync(home, "")
    expect(() => prepareHome(home)).toThrow(expect.objectContaining({ code: "AGH_HOME_UNUSABLE" }))
  })
})

describe("makeTokenVerifier", () => {
  it("accepts only the exact token, whatever the length presented", () => {
    const verify = makeTokenVerifier("ab".repeat(32))
    expect(verify("ab".repeat(32))).toBe(true)
    expect(verify("ab".repeat(31))).toBe(false)
    expect(verify(`${"ab".repeat(32)}0`)).toBe(false)
    expect(verify("")).toBe(false)
  })
})
