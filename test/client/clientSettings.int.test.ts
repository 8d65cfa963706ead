import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  DEFAULT_SERVER_URL,
  normalizeServerUrl,
  resolveServerUrl,
  resolveWsUrl,
} from "../../src/client/serverUrl.js"
import { readTokenFile } from "../../src/client/tokenFile.js"

let home: string
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "agh-client-settings-"))
})
afterEach(() => {
  rmSync(home, { recursive: true, force: true })
})

const errorOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return error as { code: string; message: string }
  }
  throw new Error("expected a throw")
}

describe("readTokenFile", () => {
  it("reads the token, ignoring surrounding whitespace", () => {
    writeFileSync(join(home, "token"), "  abc123\n")
    expect(readTokenFile(join(home, "token"))).toBe("abc123")
  })

  it("names the file when it is missing, empty, or holds more than a token", () => {
    const path = join(home, "token")
    expect(errorOf(() => readTokenFile(path))).toMatchObject({
      code: "AGH_CLIENT_TOKEN_FILE",
      message: `token file ${path} does not exist (start \`agenthost serve\` once to create it, or pass --token-file)`,
    })
    writeFileSync(path, "\n")
    expect(errorOf(() => readTokenFile(path)).message).toBe(`token file ${path} is empty`)
    writeFileSync(path, "abc def\n")
    expect(errorOf(() => readTokenFile(path)).message).toContain("holds more than one word")
    expect(errorOf(() => readTokenFile(home)).message).toMatch(/cannot be read \(EISDIR\)$/)
  })
})

describe("resolveServerUrl", () => {
  it("prefers --url, then <home>/config.json, then the default", () => {
    expect(resolveServerUrl(home)).toBe(DEFAULT_SERVER_URL)
    writeFileSync(join(home, "config.json"), JSON.stringify({ host: "10.0.0.5", port: 9000 }))
    expect(resolveServerUrl(home)).toBe("http://10.0.0.5:9000")
    expect(resolveServerUrl(home, "https://host.example/base/")).toBe("https://host.example/base")
  })

  it("reaches a wildcard bind through loopback and brackets IPv6", () => {
    writeFileSync(join(home, "config.json"), JSON.stringify({ host: "0.0.0.0", port: 7420 }))
    expect(resolveServerUrl(home)).toBe("http://127.0.0.1:7420")
    writeFileSync(join(home, "config.json"), JSON.stringify({ host: "::", port: 7420 }))
    expect(resolveServerUrl(home)).toBe("http://[::1]:7420")
    writeFileSync(join(home, "config.json"), JSON.stringify({ port: 1234 }))
    expect(resolveServerUrl(home)).toBe("http://127.0.0.1:1234")
  })

  it("rejects a broken config.json, a bad port and a non-http URL with AGH_CLIENT_BAD_URL", () => {
    writeFileSync(join(home, "config.json"), "{ nope")
    expect(errorOf(() => resolveServerUrl(home))).toMatchObject({
      code: "AGH_CLIENT_BAD_URL",
      message: `${join(home, "config.json")} is not valid JSON`,
    })
    writeFileSync(join(home, "config.json"), JSON.stringify({ port: 0 }))
    expect(errorOf(() => resolveServerUrl(home)).message).toContain("has port 0")
    expect(errorOf(() => normalizeServerUrl("ftp://x")).message).toBe(
      '--url "ftp://x" must start with http:// or https://',
    )
    expect(errorOf(() => normalizeServerUrl("not a url")).code).toBe("AGH_CLIENT_BAD_URL")
  })
})

describe("resolveWsUrl", () => {
  it("turns the host's ws_url into a connectable WebSocket URL", () => {
    expect(resolveWsUrl("http://127.0.0.1:7420", "ws://127.0.0.1:7420/sessions/s1/ws", "s1")).toBe(
      "ws://127.0.0.1:7420/sessions/s1/ws",
    )
    expect(resolveWsUrl("https://h.example", "/sessions/s1/ws", "s1")).toBe("wss://h.example/sessions/s1/ws")
    expect(resolveWsUrl("http://10.1.2.3:7420", "ws://0.0.0.0:7420/sessions/s1/ws", "s1")).toBe(
      "ws://10.1.2.3:7420/sessions/s1/ws",
    )
    expect(resolveWsUrl("http://h:1", undefined, "a b")).toBe("ws://h:1/sessions/a%20b/ws")
  })
})
