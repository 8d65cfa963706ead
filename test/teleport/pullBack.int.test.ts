import * as fs from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createSnapshotBundle } from "../../src/teleport/bundle.js"
import { exportSessionChanges, importSessionChanges } from "../../src/teleport/pullBack.js"
import type { TeleportError } from "../../src/teleport/teleportError.js"
import { prepareWorkspace } from "../../src/teleport/workspace.js"
import { type GitFixture, makeGitFixture, repoState } from "./gitFixture.js"

let fx: GitFixture
beforeEach(() => {
  fx = makeGitFixture("agh-pullback-")
})
afterEach(() => fx.cleanup())

const workRoot = () => join(fx.dir, "host", "work")

/** User repo on `main` with two commits and a local edit, teleported into a workspace. */
async function teleported(sessionId: string) {
  const repo = fx.initRepo("user")
  fx.write(join(repo, "app.txt"), "v1\n")
  fx.write(join(repo, "keep.txt"), "keep\n")
  fx.git(repo, "add", "-A")
  fx.git(repo, "commit", "-qm", "initial")
  fx.write(join(repo, "keep.txt"), "keep, second version\n")
  fx.git(repo, "commit", "-qam", "second")
  fx.write(join(repo, "app.txt"), "v2 by the user, uncommitted\n")
  const made = await fx.run(createSnapshotBundle(repo, join(fx.dir, "seed.bundle")))
  const ws = await fx.run(
    prepareWorkspace({ source: { bundlePath: made.bundlePath }, workRoot: workRoot(), sessionId }),
  )
  return { repo, ws, base: made.headSha ?? "" }
}

describe("pull-back", () => {
  it("brings the session's commits and uncommitted work back as agenthost/<id>, leaving the user's branch alone", async () => {
    const { repo, ws, base } = await teleported("s_1")
    // The session: commits one change, leaves another uncommitted and a new file untracked.
    fx.write(join(ws.workDir, "feature.txt"), "feature\n")
    fx.git(ws.workDir, "add", "feature.txt")
    fx.git(ws.workDir, "commit", "-qm", "session: add feature")
    fx.write(join(ws.workDir, "keep.txt"), "edited by the session\n")
    fx.write(join(ws.workDir, "scratch/notes.md"), "untracked notes\n")
    const wsState = repoState(fx, ws.workDir)

    const exported = await fx.run(
      exportSessionChanges(ws.workDir, join(fx.dir, "result.bundle"), { sessionId: "s_1" }),
    )
    expect(exported).toMatchObject({ baseSha: base, commits: 2, uncommitted: true })
    expect(repoState(fx, ws.workDir)).toEqual(wsState)

    // The user moved on meanwhile; none of it may be touched.
    fx.write(join(repo, "keep.txt"), "user edit after teleport\n")
    const before = repoState(fx, repo)
    const pulled = await fx.run(importSessionChanges(repo, exported.bundlePath, "s_1"))
    expect(pulled).toEqual({ branch: "agenthost/s_1", sha: exported.resultSha, commits: 2, baseSha: base })
    const after = repoState(fx, repo)
    expect(after.status).toBe(before.status)
    expect(after.index).toBe(before.index)
    expect(after.head).toBe(before.head)
    expect(after.stash).toBe(before.stash)
    expect(after.refs).toBe(`${exported.resultSha} commit\trefs/heads/agenthost/s_1\n${before.refs}`)
    expect(fs.readFileSync(join(repo, "keep.txt"), "utf8")).toBe("user edit after teleport\n")

    const tip = "agenthost/s_1"
    expect(fx.git(repo, "log", "--format=%s", `${base}..${tip}`)).toBe(
      "agenthost: uncommitted work of session s_1\nsession: add feature",
    )
    expect(fx.git(repo, "show", `${tip}:keep.txt`)).toBe("edited by the session")
    expect(fx.git(repo, "show", `${tip}:scratch/notes.md`)).toBe("untracked notes")
    expect(fx.git(repo, "show", `${tip}:app.txt`)).toBe("v2 by the user, uncommitted")
    expect(fx.git(repo, "show", `${tip}~1:feature.txt`)).toBe("feature")
  })

  it("refuses an existing branch with AGH_GIT_BRANCH_EXISTS, replaces it when forced, refuses a checked-out one", async () => {
    const { repo, ws } = await teleported("s_2")
    fx.write(join(ws.workDir, "one.txt"), "one\n")
    const first = await fx.run(exportSessionChanges(ws.workDir, join(fx.dir, "r1.bundle")))
    await fx.run(importSessionChanges(repo, first.bundlePath, "s_2"))
    fx.write(join(ws.workDir, "two.txt"), "two\n")
    const second = await fx.run(exportSessionChanges(ws.workDir, join(fx.dir, "r2.bundle")))

    const exists = (await fx.fail(importSessionChanges(repo, second.bundlePath, "s_2"))) as TeleportError
    expect(exists.code).toBe("AGH_GIT_BRANCH_EXISTS")
    expect(exists.message).toBe(
      `branch agenthost/s_2 already exists at ${first.resultSha} in ${repo}; pull with --force to replace it`,
    )
    expect(fx.git(repo, "rev-parse", "agenthost/s_2")).toBe(first.resultSha)
    const forced = await fx.run(importSessionChanges(repo, second.bundlePath, "s_2", { force: true }))
    expect(forced.sha).toBe(second.resultSha)
    expect(fx.git(repo, "rev-parse", "agenthost/s_2")).toBe(second.resultSha)

    fx.git(repo, "stash", "-q")
    fx.git(repo, "checkout", "-q", "agenthost/s_2")
    const checkedOut = (await fx.fail(
      importSessionChanges(repo, second.bundlePath, "s_2", { force: true }),
    )) as TeleportError
    expect(checkedOut.code).toBe("AGH_GIT_BRANCH_CHECKED_OUT")
  })

  it("reports no commits when the session changed nothing", async () => {
    const { repo, ws, base } = await teleported("s_3")
    // Undo the user's edit in the workspace: the work tree equals HEAD again.
    fx.git(ws.workDir, "checkout", "-q", "--", "app.txt")
    const exported = await fx.run(exportSessionChanges(ws.workDir, join(fx.dir, "r.bundle")))
    expect(exported).toMatchObject({ resultSha: base, commits: 0, uncommitted: false })
    expect(await fx.run(importSessionChanges(repo, exported.bundlePath, "s_3"))).toEqual({
      branch: "agenthost/s_3",
      sha: base,
      commits: 0,
      baseSha: base,
    })
  })

  it("round-trips a repository that had no commits", async () => {
    const repo = fx.initRepo("fresh")
    fx.write(join(repo, "draft.txt"), "draft\n")
    const made = await fx.run(createSnapshotBundle(repo, join(fx.dir, "seed.bundle")))
    const ws = await fx.run(
      prepareWorkspace({ source: { bundlePath: made.bundlePath }, workRoot: workRoot(), sessionId: "s_4" }),
    )
    fx.git(ws.workDir, "add", "-A")
    fx.git(ws.workDir, "commit", "-qm", "first commit, made by the session")
    const exported = await fx.run(exportSessionChanges(ws.workDir, join(fx.dir, "r.bundle")))
    expect(exported).toMatchObject({ baseSha: null, commits: 1, uncommitted: false })
    const pulled = await fx.run(importSessionChanges(repo, exported.bundlePath, "s_4"))
    expect(pulled.commits).toBe(1)
    expect(fx.git(repo, "show", "agenthost/s_4:draft.txt")).toBe("draft")
    expect(fx.gitRaw(repo, "status", "--porcelain")).toBe("?? draft.txt\n")
  })

  it("never runs a filter or fsmonitor the agent planted in the workspace's .git/config", async () => {
    const { ws } = await teleported("s_5")
    const marker = join(fx.dir, "pwned")
    fx.write(join(ws.workDir, ".gitattributes"), "*.txt filter=evil\n")
    fs.appendFileSync(
      join(ws.workDir, ".git", "config"),
      `[filter "evil"]\n\tclean = "sh -c 'echo clean >> ${marker}; cat'"\n[core]\n\tfsmonitor = sh -c 'echo fsmonitor >> ${marker}'\n`,
    )
    // Control: plain git in the workspace does run it.
    fx.gitRaw(ws.workDir, "add", "app.txt")
    fx.git(ws.workDir, "reset", "-q")
    expect(fs.readFileSync(marker, "utf8")).toContain("clean")
    expect(fs.readFileSync(marker, "utf8")).toContain("fsmonitor")
    fs.rmSync(marker)

    const exported = await fx.run(exportSessionChanges(ws.workDir, join(fx.dir, "r.bundle")))
    expect(exported.uncommitted).toBe(true)
    expect(fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : "").toBe("")
  })

  it("rejects a bundle whose starting point the user's repository does not have", async () => {
    const { ws } = await teleported("s_6")
    fx.git(ws.workDir, "commit", "-qam", "session commit")
    const exported = await fx.run(exportSessionChanges(ws.workDir, join(fx.dir, "r.bundle")))
    const stranger = fx.initRepo("stranger")
    fx.write(join(stranger, "x"), "x\n")
    fx.git(stranger, "add", "x")
    fx.git(stranger, "commit", "-qm", "unrelated")
    const err = (await fx.fail(importSessionChanges(stranger, exported.bundlePath, "s_6"))) as TeleportError
    expect(err.code).toBe("AGH_BUNDLE_INVALID")
    expect(fx.git(stranger, "branch", "--list", "agenthost/*")).toBe("")
  })
})
