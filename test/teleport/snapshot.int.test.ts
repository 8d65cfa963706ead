import * as fs from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createSnapshotBundle } from "../../src/teleport/bundle.js"
import { inspectRepository } from "../../src/teleport/inspectRepository.js"
import { parseSnapshotMessage } from "../../src/teleport/snapshot.js"
import type { TeleportError } from "../../src/teleport/teleportError.js"
import { type GitFixture, makeGitFixture, repoState, unpackBundle } from "./gitFixture.js"

let fx: GitFixture
beforeEach(() => {
  fx = makeGitFixture()
})
afterEach(() => fx.cleanup())

/** A repository with one commit and every kind of change a user can have lying around. */
function busyRepo(): string {
  const repo = fx.initRepo("user")
  fx.write(join(repo, "tracked.txt"), "v1\n")
  fx.write(join(repo, "staged.txt"), "s1\n")
  fx.write(join(repo, "deleted.txt"), "gone soon\n")
  fx.write(join(repo, ".gitignore"), "*.log\nbuild/\n")
  fx.git(repo, "add", "-A")
  fx.git(repo, "commit", "-qm", "initial")
  fx.write(join(repo, "staged.txt"), "s2 staged\n")
  fx.git(repo, "add", "staged.txt")
  fx.write(join(repo, "staged.txt"), "s3 staged then edited\n")
  fx.write(join(repo, "tracked.txt"), "v2 unstaged\n")
  fs.rmSync(join(repo, "deleted.txt"))
  fx.write(join(repo, "untracked dir/new file.txt"), "untracked\n")
  fx.write(join(repo, "debug.log"), "ignored\n")
  fx.write(join(repo, "build/out.bin"), "ignored too\n")
  fx.git(repo, "stash", "list")
  return repo
}

describe("inspectRepository", () => {
  it("describes a repository with commits, remotes and changes", async () => {
    const repo = busyRepo()
    fx.git(repo, "remote", "add", "origin", "https://example.com/acme/app.git")
    fx.git(repo, "remote", "add", "local", "/srv/git/app.git")
    const info = await fx.run(inspectRepository(join(repo, "untracked dir")))
    expect(info).toEqual({
      root: repo,
      head: fx.git(repo, "rev-parse", "HEAD"),
      branch: "main",
      remotes: [
        { name: "local", url: "/srv/git/app.git" },
        { name: "origin", url: "https://example.com/acme/app.git" },
      ],
      dirty: true,
      hasUntracked: true,
      objectFormat: "sha1",
    })
  })

  it("reports an unborn HEAD, a detached HEAD and a clean tree", async () => {
    const repo = fx.initRepo("fresh")
    expect(await fx.run(inspectRepository(repo))).toMatchObject({ head: null, branch: "main", dirty: false })
    fx.write(join(repo, "a"), "a\n")
    fx.git(repo, "add", "a")
    fx.git(repo, "commit", "-qm", "a")
    fx.git(repo, "checkout", "-q", "--detach")
    const info = await fx.run(inspectRepository(repo))
    expect(info).toMatchObject({ head: fx.git(repo, "rev-parse", "HEAD"), branch: null })
    expect(info.dirty).toBe(false)
    expect(info.hasUntracked).toBe(false)
  })

  it("fails with AGH_GIT_NOT_A_REPO outside a work tree, naming the directory", async () => {
    const plain = join(fx.dir, "plain")
    fs.mkdirSync(plain)
    const err = (await fx.fail(inspectRepository(plain))) as TeleportError
    expect(err.code).toBe("AGH_GIT_NOT_A_REPO")
    expect(err.message).toContain(plain)
    const missing = (await fx.fail(inspectRepository(join(fx.dir, "nope")))) as TeleportError
    expect(missing.code).toBe("AGH_GIT_NOT_A_REPO")
    expect(missing.message).toBe(`${join(fx.dir, "nope")} is not a directory`)
    fx.git(fx.dir, "init", "-q", "--bare", "bare.git")
    const bare = (await fx.fail(inspectRepository(join(fx.dir, "bare.git")))) as TeleportError
    expect(bare.code).toBe("AGH_GIT_NOT_A_REPO")
  })
})

describe("createSnapshotBundle", () => {
  it("captures staged, unstaged and untracked files, not ignored ones, and records HEAD and branch", async () => {
    const repo = busyRepo()
    const head = fx.git(repo, "rev-parse", "HEAD")
    const out = join(fx.dir, "seed.bundle")
    const made = await fx.run(createSnapshotBundle(repo, out))
    expect(made).toMatchObject({ bundlePath: out, headSha: head, branch: "main" })
    expect(made.bytes).toBe(fs.statSync(out).size)

    const check = unpackBundle(fx, out, "check")
    expect(fx.git(check, "rev-parse", "refs/agenthost/head")).toBe(head)
    expect(fx.git(check, "rev-parse", "refs/agenthost/snapshot")).toBe(made.snapshotSha)
    const files = fx.git(check, "ls-tree", "-r", "--name-only", made.snapshotSha).split("\n")
    expect(files.sort()).toEqual([".gitignore", "staged.txt", "tracked.txt", "untracked dir/new file.txt"])
    expect(fx.git(check, "show", `${made.snapshotSha}:staged.txt`)).toBe("s3 staged then edited")
    expect(fx.git(check, "show", `${made.snapshotSha}:tracked.txt`)).toBe("v2 unstaged")
    // The second parent records the index: the staged version, the deleted file still there.
    const indexCommit = fx.git(check, "rev-parse", `${made.snapshotSha}^2`)
    expect(fx.git(check, "show", `${indexCommit}:staged.txt`)).toBe("s2 staged")
    expect(fx.git(check, "show", `${indexCommit}:tracked.txt`)).toBe("v1")
    expect(fx.git(check, "rev-parse", `${made.snapshotSha}^1`)).toBe(head)
    const message = fx.gitRaw(check, "log", "-1", "--format=%B", made.snapshotSha)
    expect(parseSnapshotMessage(message)).toEqual({ head, branch: "main" })
  })

  it("leaves the user's index, work tree, refs, reflogs, stash and objects exactly as they were", async () => {
    const repo = busyRepo()
    const before = repoState(fx, repo)
    const indexBytes = fs.readFileSync(join(repo, ".git", "index"))
    await fx.run(createSnapshotBundle(repo, join(fx.dir, "seed.bundle")))
    expect(repoState(fx, repo)).toEqual(before)
    expect(fs.readFileSync(join(repo, ".git", "index")).equals(indexBytes)).toBe(true)
  })

  it("snapshots a repository whose HEAD is unborn", async () => {
    const repo = fx.initRepo("fresh")
    fx.write(join(repo, "first.txt"), "hello\n")
    fx.git(repo, "add", "first.txt")
    fx.write(join(repo, "second.txt"), "untracked\n")
    const before = repoState(fx, repo)
    const out = join(fx.dir, "fresh.bundle")
    const made = await fx.run(createSnapshotBundle(repo, out))
    expect(made).toMatchObject({ headSha: null, branch: "main" })
    expect(repoState(fx, repo)).toEqual(before)
    const check = unpackBundle(fx, out, "check")
    expect(fx.gitRaw(check, "for-each-ref", "--format=%(refname)")).toBe("refs/agenthost/snapshot\n")
    expect(fx.git(check, "ls-tree", "-r", "--name-only", made.snapshotSha)).toBe("first.txt\nsecond.txt")
    expect(fx.git(check, "ls-tree", "-r", "--name-only", `${made.snapshotSha}^1`)).toBe("first.txt")
  })

  it("snapshots a detached HEAD without changes: the snapshot's tree is HEAD's", async () => {
    const repo = fx.initRepo("clean")
    fx.write(join(repo, "a.txt"), "a\n")
    fx.git(repo, "add", "a.txt")
    fx.git(repo, "commit", "-qm", "a")
    fx.git(repo, "checkout", "-q", "--detach")
    const made = await fx.run(createSnapshotBundle(repo, join(fx.dir, "clean.bundle")))
    expect(made.branch).toBeNull()
    const check = unpackBundle(fx, made.bundlePath, "check")
    expect(fx.git(check, "rev-parse", `${made.snapshotSha}^{tree}`)).toBe(
      fx.git(repo, "rev-parse", "HEAD^{tree}"),
    )
  })

  it("fails with AGH_GIT_NOT_A_REPO and writes nothing outside a repository", async () => {
    const plain = join(fx.dir, "plain")
    fs.mkdirSync(plain)
    const out = join(fx.dir, "x.bundle")
    const err = (await fx.fail(createSnapshotBundle(plain, out))) as TeleportError
    expect(err.code).toBe("AGH_GIT_NOT_A_REPO")
    expect(fs.existsSync(out)).toBe(false)
  })
})
