import { randomBytes } from "node:crypto"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DirectConnectError } from "../../src/client/directConnectError.js"
import { RemoteClient } from "../../src/client/remoteClient.js"
import { createSnapshotBundle } from "../../src/teleport/bundle.js"
import { type RemoteHost, startRemoteHost } from "../cli/remoteHost.js"
import { type GitFixture, makeGitFixture } from "../teleport/gitFixture.js"

const LIMIT = 256 * 1024

let fx: GitFixture
let host: RemoteHost
let client: RemoteClient
let seed: string

beforeAll(async () => {
  fx = makeGitFixture("agh-remote-client-")
  host = await startRemoteHost({ sessions: "fake", maxBundleBytes: LIMIT })
  client = new RemoteClient({ serverUrl: host.url, authToken: readFileSync(host.tokenPath, "utf8").trim() })
  const repo = fx.initRepo("project")
  fx.write(join(repo, "a.txt"), "a\n")
  seed = (await fx.run(createSnapshotBundle(repo, join(fx.dir, "seed.bundle")))).bundlePath
})

afterAll(async () => {
  await host?.close()
  fx?.cleanup()
})

async function failure(promise: Promise<unknown>): Promise<DirectConnectError> {
  try {
    await promise
  } catch (error) {
    return error as DirectConnectError
  }
  throw new Error("expected a failure")
}

describe("RemoteClient", () => {
  it("uploads a bundle with progress up to its size, and deletes it", async () => {
    const steps: Array<[number, number | undefined]> = []
    const uploaded = await client.uploadBundle(seed, (done, total) => steps.push([done, total]))
    expect(uploaded.bundleId).toMatch(/^b_[0-9a-f]{32}$/)
    const size = uploaded.bytes
    expect(steps[0]).toEqual([0, size])
    expect(steps.at(-1)).toEqual([size, size])
    expect(host.bundleFiles()).toEqual([`${uploaded.bundleId}.bundle`])
    await client.deleteBundle(uploaded.bundleId)
    expect(host.bundleFiles()).toEqual([])
  })

  it("reads the host's early 413 while the upload is still going out; nothing is kept", async () => {
    const big = join(fx.dir, "big.bundle")
    writeFileSync(big, randomBytes(8 * LIMIT))
    const error = await failure(client.uploadBundle(big))
    expect(error.code).toBe("AGH_BUNDLE_TOO_LARGE")
    expect(error.status).toBe(413)
    expect(error.message).toBe(
      `POST ${host.url}/bundles answered 413: bundle upload of ${8 * LIMIT} bytes (Content-Length) is larger than the limit of ${LIMIT} bytes`,
    )
    expect(host.bundleFiles()).toEqual([])
  })

  it("reports a corrupt bundle with the host's code, and a missing session for a download", async () => {
    const bad = join(fx.dir, "bad.bundle")
    writeFileSync(bad, "# v2 git bundle\nnonsense\n")
    expect((await failure(client.uploadBundle(bad))).code).toBe("AGH_BUNDLE_INVALID")
    expect(host.bundleFiles()).toEqual([])

    const out = join(fx.dir, "changes.bundle")
    const missing = await failure(client.downloadChanges("s_missing", out))
    expect(missing.code).toBe("AGH_SESSION_NOT_FOUND")
    expect(existsSync(out)).toBe(false)
  })

  it("says Unreachable when nothing listens, naming the URL", async () => {
    const nowhere = new RemoteClient({ serverUrl: "http://127.0.0.1:1", authToken: "x" })
    const error = await failure(nowhere.uploadBundle(seed))
    expect(error.code).toBe("AGH_CLIENT_UNREACHABLE")
    expect(error.message).toMatch(/^POST http:\/\/127\.0\.0\.1:1\/bundles failed: .*ECONNREFUSED/)
  })
})
