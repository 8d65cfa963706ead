import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { open } from "node:fs/promises"
import { join } from "node:path"
import { Readable } from "node:stream"
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { sequentialIds } from "../../src/adapters/ids.js"
import { createSnapshotBundle } from "../../src/teleport/bundle.js"
import { BUNDLE_ID_PATTERN, makeBundleStore } from "../../src/teleport/bundleStore.js"
import type { TeleportError } from "../../src/teleport/teleportError.js"
import { type GitFixture, makeGitFixture } from "./gitFixture.js"

let fx: GitFixture
let seed: Buffer
let seedHead: string
beforeAll(async () => {
  // One real snapshot bundle, made once: each test mangles its own copy.
  const maker = makeGitFixture("agh-bundleseed-")
  const repo = maker.initRepo("user")
  // Random content, so the bundle is as big as the files (about 100 kB) and limits bite.
  for (let i = 0; i < 20; i++) maker.write(join(repo, `file${i}.txt`), randomBytes(5000).toString("base64"))
  maker.git(repo, "add", "-A")
  maker.git(repo, "commit", "-qm", "initial")
  maker.write(join(repo, "wip.txt"), "work in progress\n")
  const made = await maker.run(createSnapshotBundle(repo, join(maker.dir, "seed.bundle")))
  seed = fs.readFileSync(made.bundlePath)
  seedHead = made.headSha ?? ""
  maker.cleanup()
})
beforeEach(() => {
  fx = makeGitFixture("agh-bundles-")
})
afterEach(() => fx.cleanup())

const storeDir = () => join(fx.dir, "home", "bundles")
const chunks = (data: Buffer, size = 4096) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
    })(),
  )
const leftovers = () => (fs.existsSync(storeDir()) ? fs.readdirSync(storeDir()) : [])

describe("BundleStore", () => {
  it("stores a streamed snapshot bundle under a fresh id, and deletes it", async () => {
    const store = makeBundleStore({ dir: storeDir() })
    const got = await fx.run(store.receive(chunks(seed), { maxBytes: seed.length }))
    expect(got.bundleId).toMatch(BUNDLE_ID_PATTERN)
    expect(got).toMatchObject({ bytes: seed.length, headSha: seedHead, branch: "main" })
    expect(fs.readFileSync(got.path).equals(seed)).toBe(true)
    expect(leftovers()).toEqual([`${got.bundleId}.bundle`])
    expect(await fx.run(store.path(got.bundleId))).toBe(got.path)
    expect(await fx.run(store.delete(got.bundleId))).toBe(true)
    expect(leftovers()).toEqual([])
    expect(await fx.run(store.delete(got.bundleId))).toBe(false)
    const gone = (await fx.fail(store.path(got.bundleId))) as TeleportError
    expect(gone.code).toBe("AGH_BUNDLE_NOT_FOUND")
  })

  it("takes ids from the Ids adapter and refuses ids that are not bundle ids", async () => {
    const store = makeBundleStore({ dir: storeDir(), ids: sequentialIds() })
    const got = await fx.run(store.receive([seed], { maxBytes: 10_000_000 }))
    expect(got.bundleId).toBe("b_00000000000040008000000000000001")
    const bad = (await fx.fail(store.path("../../etc/passwd"))) as TeleportError
    expect(bad.code).toBe("AGH_BUNDLE_NOT_FOUND")
    expect(bad.message).toBe('no bundle "../../etc/passwd" (bad id)')
  })

  it("refuses an upload over the limit with AGH_BUNDLE_TOO_LARGE, leaves nothing, and does not destroy the body", async () => {
    const store = makeBundleStore({ dir: storeDir() })
    const body = chunks(seed, 1024)
    const err = (await fx.fail(store.receive(body, { maxBytes: 10_000 }))) as TeleportError
    expect(err.code).toBe("AGH_BUNDLE_TOO_LARGE")
    expect(err.status).toBe(413)
    expect(err.message).toBe("bundle upload is larger than the limit of 10000 bytes")
    expect(leftovers()).toEqual([])
    // The route still owns the request: it answers 413 before closing the connection.
    expect(body.destroyed).toBe(false)
  })

  it.each([
    ["garbage", () => Buffer.from("this is not a bundle\n\nat all")],
    ["truncated", () => seed.subarray(0, Math.floor(seed.length * 0.6))],
    [
      "corrupted pack",
      () => {
        const copy = Buffer.from(seed)
        const at = copy.length - 200
        copy[at] = (copy[at] ?? 0) ^ 0xff
        return copy
      },
    ],
  ])("rejects a %s bundle with AGH_BUNDLE_INVALID and removes it", async (_name, make) => {
    const store = makeBundleStore({ dir: storeDir() })
    const err = (await fx.fail(store.receive([make()], { maxBytes: 10_000_000 }))) as TeleportError
    expect(err.code).toBe("AGH_BUNDLE_INVALID")
    expect(err.message).toMatch(/^bundle .*\.incoming-b_[0-9a-f]{32}: /)
    expect(leftovers()).toEqual([])
  })

  it("rejects a valid git bundle that is not an agenthost snapshot", async () => {
    const repo = fx.initRepo("plain")
    fx.write(join(repo, "a"), "a\n")
    fx.git(repo, "add", "a")
    fx.git(repo, "commit", "-qm", "a")
    const plain = join(fx.dir, "plain.bundle")
    fx.git(repo, "bundle", "create", "-q", plain, "main")
    const store = makeBundleStore({ dir: storeDir() })
    const err = (await fx.fail(
      store.receive([fs.readFileSync(plain)], { maxBytes: 10_000_000 }),
    )) as TeleportError
    expect(err.code).toBe("AGH_BUNDLE_INVALID")
    expect(err.message).toContain("no refs/agenthost/snapshot ref")
    expect(leftovers()).toEqual([])
  })

  it("rejects a snapshot whose history holds a tree entry named .git", async () => {
    const repo = fx.initRepo("evil")
    fx.write(join(repo, "a.txt"), "a\n")
    fx.git(repo, "add", "a.txt")
    fx.git(repo, "commit", "-qm", "a")
    const blob = execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: repo, env: fx.env, input: "x" })
    const tree = execFileSync("git", ["mktree"], {
      cwd: repo,
      env: fx.env,
      input: `100644 blob ${blob.toString().trim()}\t.git\n`,
    })
    fx.git(
      repo,
      "update-ref",
      "refs/heads/main",
      fx.git(repo, "commit-tree", tree.toString().trim(), "-p", "HEAD", "-m", "evil"),
    )
    const made = await fx.run(createSnapshotBundle(repo, join(fx.dir, "evil.bundle")))
    const store = makeBundleStore({ dir: storeDir() })
    const err = (await fx.fail(
      store.receive([fs.readFileSync(made.bundlePath)], { maxBytes: 10_000_000 }),
    )) as TeleportError
    expect(err.code).toBe("AGH_BUNDLE_INVALID")
    expect(err.message).toContain("hasDotgit")
    expect(leftovers()).toEqual([])
  })

  it("reports a full disk as AGH_DISK_FULL and removes the partial file", async () => {
    let temp = ""
    const store = makeBundleStore({
      dir: storeDir(),
      openUploadFile: async (path) => {
        temp = path
        fs.writeFileSync(path, "")
        return open("/dev/full", "w")
      },
    })
    const err = (await fx.fail(store.receive(chunks(seed), { maxBytes: 10_000_000 }))) as TeleportError
    expect(err.code).toBe("AGH_DISK_FULL")
    expect(err.status).toBe(507)
    expect(err.message).toContain(temp)
    expect(fs.existsSync(temp)).toBe(false)
    expect(leftovers()).toEqual([])
  })

  it("reports a body that breaks off as AGH_BUNDLE_UPLOAD_FAILED and keeps nothing", async () => {
    const store = makeBundleStore({ dir: storeDir() })
    async function* broken() {
      yield seed.subarray(0, 1000)
      throw new Error("socket hang up")
    }
    const err = (await fx.fail(store.receive(broken(), { maxBytes: 10_000_000 }))) as TeleportError
    expect(err.code).toBe("AGH_BUNDLE_UPLOAD_FAILED")
    expect(err.message).toBe("bundle upload ended with an error after 1000 bytes: socket hang up")
    expect(leftovers()).toEqual([])
  })

  it("sweeps partial uploads and verification repositories left by a crash", async () => {
    const store = makeBundleStore({ dir: storeDir() })
    expect(await fx.run(store.sweep())).toBe(0)
    fs.mkdirSync(join(storeDir(), ".verify-abc", "objects"), { recursive: true })
    fs.writeFileSync(join(storeDir(), ".incoming-b_1"), "partial")
    fs.writeFileSync(join(storeDir(), "b_00000000000000000000000000000001.bundle"), "kept")
    expect(await fx.run(store.sweep())).toBe(2)
    expect(leftovers()).toEqual(["b_00000000000000000000000000000001.bundle"])
  })
})
