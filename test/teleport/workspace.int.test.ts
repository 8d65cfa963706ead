import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Git } from "../../src/adapters/git.js"
import { createSnapshotBundle } from "../../src/teleport/bundle.js"
import { makeBundleStore } from "../../src/teleport/bundleStore.js"
import { reachableRemotes } from "../../src/teleport/reachableRemotes.js"
import type { TeleportError } from "../../src/teleport/teleportError.js"
import { prepareWorkspace } from "../../src/teleport/workspace.js"
import { type GitFixture, makeGitFixture } from "./gitFixture.js"

let fx: GitFixture
beforeEach(() => {
  fx = makeGitFixture("agh-workspace-")
})
afterEach(() => fx.cleanup())

const workRoot = () => join(fx.dir, "host", "work")

function userRepo(): string {
  const repo = fx.initRepo("user")
  fx.write(join(repo, "README.md"), "# app\n")
  fx.write(join(repo, "src/main.ts"), "console.log(1)\n")
  fx.write(join(repo, "old.txt"), "old\n")
  fx.write(join(repo, ".gitignore"), "node_modules/\n")
  fs.writeFileSync(join(repo, "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 })
  fs.symlinkSync("README.md", join(repo, "link.md"))
  fx.git(repo, "add", "-A")
  fx.git(repo, "commit", "-qm", "initial")
  fx.git(repo, "checkout", "-q", "-b", "feature/x")
  fx.write(join(repo, "src/main.ts"), "console.log(2)\n")
  fx.git(repo, "add", "src/main.ts")
  fx.write(join(repo, "README.md"), "# app, edited\n")
  fx.git(repo, "rm", "-q", "old.txt")
  fx.write(join(repo, "notes/todo.txt"), "untracked\n")
  fx.write(join(repo, "node_modules/dep/index.js"), "ignored\n")
  return repo
}

async function upload(repo: string) {
  const made = await fx.run(createSnapshotBundle(repo, join(fx.dir, "seed.bundle")))
  const bundles = makeBundleStore({ dir: join(fx.dir, "host", "bundles") })
  const received = await fx.run(
    bundles.receive(fs.createReadStream(made.bundlePath), { maxBytes: 50_000_000 }),
  )
  return { made, bundles, bundleId: received.bundleId }
}

const status = (repo: string) => fx.gitRaw(repo, "status", "--porcelain=v1", "--untracked-files=all")

describe("prepareWorkspace from a bundle", () => {
  it("restores the same HEAD, branch and uncommitted changes (staged, unstaged, untracked)", async () => {
    const repo = userRepo()
    const { made, bundles, bundleId } = await upload(repo)
    const ws = await fx.run(
      prepareWorkspace({ source: { bundleId, bundles }, workRoot: workRoot(), sessionId: "s_1" }),
    )
    expect(ws).toEqual({
      workDir: join(workRoot(), "s_1"),
      source: "bundle",
      headSha: made.headSha,
      branch: "feature/x",
      snapshotSha: made.snapshotSha,
    })
    expect(fx.git(ws.workDir, "rev-parse", "HEAD")).toBe(fx.git(repo, "rev-parse", "HEAD"))
    expect(fx.git(ws.workDir, "symbolic-ref", "HEAD")).toBe("refs/heads/feature/x")
    expect(status(ws.workDir)).toBe(status(repo))
    expect(status(ws.workDir)).toBe(" M README.md\nD  old.txt\nM  src/main.ts\n?? notes/todo.txt\n")
    expect(fs.readFileSync(join(ws.workDir, "README.md"), "utf8")).toBe("# app, edited\n")
    expect(fs.statSync(join(ws.workDir, "run.sh")).mode & 0o111).not.toBe(0)
    expect(fs.readlinkSync(join(ws.workDir, "link.md"))).toBe("README.md")
    expect(fs.existsSync(join(ws.workDir, "node_modules"))).toBe(false)
    // No remote pointing at a bundle file that is deleted when the session ends.
    expect(fx.git(ws.workDir, "remote")).toBe("")
  })

  it("restores an unborn HEAD and a detached HEAD", async () => {
    const fresh = fx.initRepo("fresh")
    fx.write(join(fresh, "a.txt"), "staged\n")
    fx.git(fresh, "add", "a.txt")
    fx.write(join(fresh, "b.txt"), "untracked\n")
    const first = await upload(fresh)
    const ws = await fx.run(
      prepareWorkspace({
        source: { bundleId: first.bundleId, bundles: first.bundles },
        workRoot: workRoot(),
        sessionId: "s_2",
      }),
    )
    expect(ws).toMatchObject({ headSha: null, branch: "main" })
    expect(status(ws.workDir)).toBe(status(fresh))
    expect(status(ws.workDir)).toBe("A  a.txt\n?? b.txt\n")

    fx.git(fresh, "commit", "-qm", "a")
    fx.git(fresh, "checkout", "-q", "--detach")
    const second = await upload(fresh)
    const detached = await fx.run(
      prepareWorkspace({
        source: { bundleId: second.bundleId, bundles: second.bundles },
        workRoot: workRoot(),
        sessionId: "s_3",
      }),
    )
    expect(detached).toMatchObject({ headSha: fx.git(fresh, "rev-parse", "HEAD"), branch: null })
    expect(fx.git(detached.workDir, "rev-parse", "HEAD")).toBe(fx.git(fresh, "rev-parse", "HEAD"))
    expect(status(detached.workDir)).toBe("?? b.txt\n")
  })

  it("runs no hook, template, filter or hooksPath the host's or the repository's configuration would run", async () => {
    const repo = fx.initRepo("evil")
    const marker = join(fx.dir, "pwned")
    const hook = `#!/bin/sh\necho "$0" >> ${marker}\n`
    fx.write(join(repo, ".gitattributes"), "* filter=evil\n")
    fs.mkdirSync(join(repo, ".githooks"))
    fs.writeFileSync(join(repo, ".githooks", "post-checkout"), hook, { mode: 0o755 })
    fs.mkdirSync(join(repo, "hooks"))
    fs.writeFileSync(join(repo, "hooks", "post-checkout"), hook, { mode: 0o755 })
    fx.write(join(repo, "config"), "[core]\n\thooksPath = .githooks\n")
    fx.write(join(repo, "code.txt"), "payload\n")
    fx.git(repo, "add", "-A")
    fx.git(repo, "commit", "-qm", "innocent")
    const { bundles, bundleId } = await upload(repo)

    // A host machine whose git configuration would run things: a template with a hook, a global hooksPath
    // into the checked-out content, and a smudge filter the content's .gitattributes asks for.
    const evilHome = join(fx.dir, "evil-home")
    fs.mkdirSync(join(evilHome, "template", "hooks"), { recursive: true })
    fs.writeFileSync(join(evilHome, "template", "hooks", "post-checkout"), hook, { mode: 0o755 })
    fs.writeFileSync(
      join(evilHome, ".gitconfig"),
      `[init]\n\ttemplateDir = ${join(evilHome, "template")}\n[core]\n\thooksPath = .githooks\n` +
        `[filter "evil"]\n\tsmudge = "sh -c 'echo smudge >> ${marker}; cat'"\n\tclean = cat\n`,
    )
    const hostEnv = { ...fx.env, HOME: evilHome, XDG_CONFIG_HOME: join(evilHome, ".config") }

    // Control: plain git on this host does run them, so the check below can fail.
    const control = join(fx.dir, "control")
    execFileSync("git", ["clone", "-q", repo, control], { env: hostEnv, stdio: "ignore" })
    expect(fs.readFileSync(marker, "utf8")).toContain("smudge")
    expect(fs.readFileSync(marker, "utf8")).toContain("post-checkout")
    fs.rmSync(marker)

    const ws = await Effect.runPromise(
      Effect.provide(
        prepareWorkspace({ source: { bundleId, bundles }, workRoot: workRoot(), sessionId: "s_evil" }),
        Git.layerWith({ env: hostEnv }),
      ),
    )
    expect(fs.readFileSync(join(ws.workDir, "code.txt"), "utf8")).toBe("payload\n")
    expect(fs.existsSync(marker)).toBe(false)
    expect(fs.existsSync(join(ws.workDir, ".git", "hooks"))).toBe(false)
  })

  it("refuses an existing directory, a bad session id and a missing bundle, leaving nothing behind", async () => {
    const repo = userRepo()
    const { bundles, bundleId } = await upload(repo)
    fs.mkdirSync(join(workRoot(), "taken"), { recursive: true })
    const exists = (await fx.fail(
      prepareWorkspace({ source: { bundleId, bundles }, workRoot: workRoot(), sessionId: "taken" }),
    )) as TeleportError
    expect(exists.code).toBe("AGH_WORKSPACE_EXISTS")
    expect(exists.message).toBe(`work directory ${join(workRoot(), "taken")} already exists`)
    const outside = (await fx.fail(
      prepareWorkspace({ source: { bundleId, bundles }, workRoot: workRoot(), sessionId: "../outside" }),
    )) as TeleportError
    expect(outside.code).toBe("AGH_TELEPORT_BAD_SESSION_ID")
    const missing = (await fx.fail(
      prepareWorkspace({
        source: { bundleId: "b_00000000000000000000000000000009", bundles },
        workRoot: workRoot(),
        sessionId: "s_4",
      }),
    )) as TeleportError
    expect(missing.code).toBe("AGH_BUNDLE_NOT_FOUND")
    expect(fs.readdirSync(workRoot())).toEqual(["taken"])
  })

  it("removes the work directory when the bundle turns out bad", async () => {
    const bad = join(fx.dir, "bad.bundle")
    fs.writeFileSync(
      bad,
      "# v2 git bundle\n0000000000000000000000000000000000000000 refs/agenthost/snapshot\n\nPACK",
    )
    const err = await fx.fail(
      prepareWorkspace({ source: { bundlePath: bad }, workRoot: workRoot(), sessionId: "s_5" }),
    )
    expect((err as TeleportError).code).toBe("AGH_BUNDLE_INVALID")
    expect(fs.readdirSync(workRoot())).toEqual([])
  })
})

describe("prepareWorkspace by cloning", () => {
  it("clones a repository the host can reach, at its HEAD or at a branch, with the base recorded", async () => {
    const repo = userRepo()
    fx.git(repo, "commit", "-qm", "feature work")
    const ws = await fx.run(
      prepareWorkspace({ source: { cloneUrl: repo }, workRoot: workRoot(), sessionId: "c_1" }),
    )
    expect(ws).toMatchObject({ source: "clone", branch: "feature/x", snapshotSha: null })
    expect(ws.headSha).toBe(fx.git(repo, "rev-parse", "HEAD"))
    expect(fx.git(ws.workDir, "rev-parse", "refs/agenthost/head")).toBe(ws.headSha)
    expect(status(ws.workDir)).toBe("")
    const onMain = await fx.run(
      prepareWorkspace({ source: { cloneUrl: repo, ref: "main" }, workRoot: workRoot(), sessionId: "c_2" }),
    )
    expect(onMain).toMatchObject({ branch: "main", headSha: fx.git(repo, "rev-parse", "main") })
    // The source's own HEAD branch, which the clone has already made locally.
    const onDefault = await fx.run(
      prepareWorkspace({
        source: { cloneUrl: repo, ref: "feature/x" },
        workRoot: workRoot(),
        sessionId: "c_5",
      }),
    )
    expect(onDefault).toMatchObject({ branch: "feature/x", headSha: fx.git(repo, "rev-parse", "HEAD") })
    expect(fx.git(onDefault.workDir, "rev-parse", "--abbrev-ref", "feature/x@{upstream}")).toBe(
      "origin/feature/x",
    )
    const missing = (await fx.fail(
      prepareWorkspace({ source: { cloneUrl: repo, ref: "nope" }, workRoot: workRoot(), sessionId: "c_3" }),
    )) as TeleportError
    expect(missing.code).toBe("AGH_GIT_REF_NOT_FOUND")
    const unreachable = (await fx.fail(
      prepareWorkspace({
        source: { cloneUrl: join(fx.dir, "nowhere") },
        workRoot: workRoot(),
        sessionId: "c_4",
      }),
    )) as TeleportError
    expect(unreachable.code).toBe("AGH_GIT_REMOTE_UNREACHABLE")
    expect(fs.readdirSync(workRoot()).sort()).toEqual(["c_1", "c_2", "c_5"])
  })
})

describe("reachableRemotes", () => {
  it("keeps local repositories inside the allowed roots and allowed URL prefixes only", async () => {
    const repo = fx.initRepo("srv/app")
    const outside = fx.initRepo("elsewhere/app")
    const remotes = [
      { name: "local", url: repo },
      { name: "fileurl", url: `file://${repo}` },
      { name: "outside", url: outside },
      { name: "missing", url: join(fx.dir, "srv", "missing") },
      { name: "notrepo", url: join(fx.dir, "srv") },
      { name: "github", url: "https://github.com/acme/app.git" },
      { name: "scp", url: "git@github.com:acme/app.git" },
      { name: "relative", url: "../app" },
    ]
    const got = await fx.run(
      reachableRemotes(remotes, {
        localRoots: [join(fx.dir, "srv")],
        urlPrefixes: ["https://github.com/acme/"],
      }),
    )
    expect(got).toEqual([
      { name: "local", url: repo, cloneUrl: repo, kind: "local" },
      { name: "fileurl", url: `file://${repo}`, cloneUrl: repo, kind: "local" },
      {
        name: "github",
        url: "https://github.com/acme/app.git",
        cloneUrl: "https://github.com/acme/app.git",
        kind: "network",
      },
    ])
    expect(await fx.run(reachableRemotes(remotes, { localRoots: [] }))).toEqual([])
  })
})
