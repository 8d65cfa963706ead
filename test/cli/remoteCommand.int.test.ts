import { randomBytes } from "node:crypto"
import { writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { CliIo } from "../../src/cli/cliCommand.js"
import { main } from "../../src/cli/main.js"
import { type GitFixture, makeGitFixture, repoState } from "../teleport/gitFixture.js"
import { fakeIo } from "./connectIo.js"
import { type RemoteHost, startRemoteHost } from "./remoteHost.js"

let fx: GitFixture
let host: RemoteHost | undefined

beforeEach(() => {
  fx = makeGitFixture("agh-remote-cli-")
})

afterEach(async () => {
  await host?.close()
  host = undefined
  fx.cleanup()
})

/** Runs `agenthost <args>` in-process in `cwd`, with the fixture's git environment. */
async function agenthost(cwd: string, args: string[], options: { stderrTty?: boolean } = {}) {
  const t = fakeIo({ cwd })
  if (options.stderrTty === true) Object.assign(t.stderr, { isTTY: true })
  const io: CliIo = { ...t.io, env: fx.env }
  const code = await main(args, io)
  return { code, stdout: t.stdout.plain(), stderr: t.stderr.plain(), rawStderr: t.stderr.text }
}

function sessionIdIn(stderr: string): string {
  const id = /session (s_[0-9a-f]+) started/.exec(stderr)?.[1]
  if (id === undefined) throw new Error(`no session id in: ${stderr}`)
  return id
}

/** A repository with one commit of `edited-file`, the usual starting point. */
function committedRepo(): { repo: string; head: string } {
  const repo = fx.initRepo("project")
  fx.write(join(repo, "edited-file"), "as committed\n")
  fx.git(repo, "add", "edited-file")
  fx.git(repo, "commit", "-q", "-m", "first")
  return { repo, head: fx.git(repo, "rev-parse", "HEAD") }
}

describe("agenthost remote with a real host and the built-in agent", () => {
  it("teleports an uncommitted change, and pull brings the session's change back as agenthost/<id>", async () => {
    host = await startRemoteHost()
    const { repo, head } = committedRepo()
    fx.write(join(repo, "edited-file"), "edited just before remote\n")
    const before = repoState(fx, repo)

    const remote = await agenthost(
      repo,
      ["remote", ...host.clientArgs(), "--attach", "--yes", "$ cat edited-file\n$ echo x > new.txt"],
      { stderrTty: true },
    )
    expect(remote.stderr).toContain(
      `repository ${repo} · branch main at ${head.slice(0, 12)} · no remotes · uncommitted changes\n`,
    )
    expect(remote.stderr).toContain(`host ${host.url} · remote sessions allowed · 0/32 sessions live\n`)
    expect(remote.rawStderr).toMatch(
      /\r\x1b\[Kuploading bundle {2}[\d.]+ (?:B|KiB) \/ [\d.]+ (?:B|KiB) {2}100%\n/,
    )
    expect(remote.stderr).toContain("from a bundle of your working tree")
    expect(remote.code).toBe(0)
    // The session saw the edit made just before `remote`, uncommitted as it was.
    expect(remote.stdout).toContain("edited just before remote")
    const id = sessionIdIn(remote.stderr)
    expect(repoState(fx, repo)).toEqual(before)

    const pull = await agenthost(repo, ["pull", id, ...host.clientArgs()])
    expect(pull.code).toBe(0)
    const sha = fx.git(repo, "rev-parse", `agenthost/${id}`)
    expect(pull.stdout).toBe(
      `branch agenthost/${id} at ${sha}: 1 commit on top of ${head.slice(0, 12)}, the last one holding its uncommitted work\n`,
    )
    expect(fx.git(repo, "show", `agenthost/${id}:new.txt`)).toBe("x")
    expect(fx.git(repo, "show", `agenthost/${id}:edited-file`)).toBe("edited just before remote")
    // Only the branch is new: the user's branch, index and working tree are as they were.
    const after = repoState(fx, repo)
    expect(after.status).toBe(before.status)
    expect(after.head).toBe(before.head)
    expect(after.index).toBe(before.index)

    const again = await agenthost(repo, ["pull", id, ...host.clientArgs()])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain(
      `agenthost pull: AGH_GIT_BRANCH_EXISTS: branch agenthost/${id} already exists`,
    )
    expect((await agenthost(repo, ["remote", "pull", id, "--force", ...host.clientArgs()])).code).toBe(0)
    // The session ended with the host; its bundle went with it.
    await host.close()
    host = undefined
  })

  it("lets the host clone a clean repository from a remote it reaches; attach follows the session", async () => {
    host = await startRemoteHost()
    const { repo: seed, head } = committedRepo()
    const origin = join(host.workRoot, "origin.git")
    fx.git(fx.dir, "clone", "-q", "--bare", seed, origin)
    const repo = join(fx.dir, "checkout")
    fx.git(fx.dir, "clone", "-q", origin, repo)

    const remote = await agenthost(repo, ["remote", ...host.clientArgs(), "$ cat edited-file"])
    expect(remote.stderr).toContain(`cloned by the host from origin (${origin})`)
    expect(remote.code).toBe(0)
    const id = remote.stdout.trim()
    expect(id).toBe(sessionIdIn(remote.stderr))
    expect(host.bundleFiles()).toEqual([])

    const attached = await agenthost(repo, ["remote", "attach", id, "--yes", ...host.clientArgs()])
    expect(attached.code).toBe(0)
    expect(attached.stdout).toContain("as committed")
    // Flags first, as `--url U ID` reads naturally: the id is the first argument that is not a flag's.
    const flagsFirst = await agenthost(repo, ["attach", ...host.clientArgs(), "--yes", id])
    expect(flagsFirst.code).toBe(0)
    expect(flagsFirst.stdout).toContain("as committed")

    const pull = await agenthost(repo, ["pull", id, ...host.clientArgs()])
    expect(pull.stdout).toBe(`branch agenthost/${id} at ${head}: 0 commits on top of ${head.slice(0, 12)}\n`)
  })
})

describe("agenthost remote preconditions", () => {
  it("reports an unreachable host, a missing token file and a directory that is not a repository together", async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const notRepo = join(fx.dir, "plain")
    fx.write(join(notRepo, "file"), "x")

    const res = await agenthost(notRepo, [
      "remote",
      "--url",
      `http://127.0.0.1:${port}`,
      "--token-file",
      join(fx.dir, "no-token"),
      "--home",
      fx.dir,
      "do it",
    ])
    expect(res.code).toBe(2)
    const lines = res.stderr.split("\n")
    expect(
      lines.filter((l) => l.startsWith("agenthost remote: ")).map((l) => l.split(":")[1]?.trim()),
    ).toEqual([
      "AGH_CLIENT_TOKEN_FILE",
      "AGH_CLIENT_UNREACHABLE",
      "AGH_GIT_NOT_A_REPO",
      "AGH_REMOTE_PRECONDITIONS",
    ])
    expect(res.stderr).toContain(
      `agenthost remote: AGH_CLIENT_TOKEN_FILE: token file ${join(fx.dir, "no-token")} does not exist`,
    )
    expect(res.stderr).toContain(
      `agenthost remote: AGH_GIT_NOT_A_REPO: ${notRepo} is not inside a git work tree`,
    )
    expect(res.stderr).toContain(
      "  fix: run `agenthost remote` inside the git repository you want to teleport\n",
    )
    expect(res.stderr).toContain(
      "  fix: start it with `agenthost serve`, or pass --url with the address it printed\n",
    )
    expect(res.stderr).toMatch(
      /AGH_REMOTE_PRECONDITIONS: 3 preconditions failed \(above\); nothing was sent\n$/,
    )
  })

  it("reports a disallowed host, a full host and a non-repository together; a wrong token with the rest", async () => {
    host = await startRemoteHost({
      sessions: "fake",
      config: { allow_remote_sessions: false, max_sessions: 1 },
    })
    await host.manager.create({ agent: "builtin", skipPermissions: false })
    const notRepo = join(fx.dir, "plain")
    fx.write(join(notRepo, "file"), "x")

    const res = await agenthost(notRepo, ["remote", ...host.clientArgs(), "do it"])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain(
      `agenthost remote: AGH_POLICY_REMOTE_SESSIONS: the host at ${host.url} does not allow remote sessions (config allow_remote_sessions is false)\n` +
        `  fix: set "allow_remote_sessions": true in the host's <home>/config.json and restart it\n` +
        `agenthost remote: AGH_MAX_SESSIONS: the host at ${host.url} already runs 1 of at most 1 sessions\n`,
    )
    expect(res.stderr).toContain("agenthost remote: AGH_GIT_NOT_A_REPO: ")
    expect(res.stderr).toContain("AGH_REMOTE_PRECONDITIONS: 3 preconditions failed")

    const wrongToken = join(fx.dir, "wrong-token")
    writeFileSync(wrongToken, "0".repeat(64))
    const refused = await agenthost(notRepo, [
      "remote",
      "--url",
      host.url,
      "--token-file",
      wrongToken,
      "do it",
    ])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(
      `agenthost remote: AGH_AUTH_INVALID: the host at ${host.url} refused the token in ${wrongToken} (so its policy and capacity could not be checked)\n`,
    )
    expect(refused.stderr).toContain("agenthost remote: AGH_GIT_NOT_A_REPO: ")
    expect(refused.stderr).toContain("AGH_REMOTE_PRECONDITIONS: 2 preconditions failed")
  })

  it("refuses a bundle over the host's limit before sending it, and nothing reaches the host", async () => {
    host = await startRemoteHost({ sessions: "fake", maxBundleBytes: 4096 })
    const { repo } = committedRepo()
    // Random bytes do not compress: the bundle cannot fit in 4 KiB.
    writeFileSync(join(repo, "noise.bin"), randomBytes(16 * 1024))
    const res = await agenthost(repo, ["remote", ...host.clientArgs(), "--detach", "look"])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(
      new RegExp(
        `agenthost remote: AGH_BUNDLE_TOO_LARGE: the bundle of ${repo} is \\d+ bytes \\([\\d.]+ KiB\\); the host at ${host.url} accepts at most 4096 bytes\\n$`,
      ),
    )
    expect(host.bundleFiles()).toEqual([])
    expect(host.manager.list()).toEqual([])
  })

  it("needs a prompt and knows its subcommands", async () => {
    const { repo } = committedRepo()
    const none = await agenthost(repo, ["remote"])
    expect(none).toMatchObject({
      code: 2,
      stderr: 'agenthost remote: AGH_CLI_USAGE: a prompt is required: agenthost remote "<prompt>"\n',
    })
    const attach = await agenthost(repo, ["remote", "attach"])
    expect(attach.stderr).toBe(
      "agenthost remote: AGH_CLI_USAGE: attach needs a session id: agenthost attach ID\n",
    )
    const pull = await agenthost(repo, ["pull", "../escape"])
    expect(pull.code).toBe(2)
    expect(pull.stderr).toContain("agenthost pull: AGH_TELEPORT_BAD_SESSION_ID: ")
  })
})
