import * as fs from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  Git,
  GitError,
  type GitRunOptions,
  gitFailureReason,
  hostGitEnv,
  makeLiveGit,
  userGitEnv,
} from "../../src/adapters/git.js"
import { type GitFixture, makeGitFixture } from "../teleport/gitFixture.js"

let fx: GitFixture
beforeEach(() => {
  fx = makeGitFixture("agh-gitadapter-")
})
afterEach(() => fx.cleanup())

const run = (args: string[], options: GitRunOptions) => Git.use((git) => git.run(args, options))

describe("GitError", () => {
  it("answers 507 for a full disk and 500 for every other git failure, beside its code", () => {
    const of = (reason: "Failed" | "Unavailable" | "DiskFull") =>
      new GitError({ reason, message: "m", args: ["status"], cwd: "/" })
    expect([of("DiskFull").code, of("DiskFull").status]).toEqual(["AGH_DISK_FULL", 507])
    expect([of("Failed").code, of("Failed").status]).toEqual(["AGH_GIT_FAILED", 500])
    expect([of("Unavailable").code, of("Unavailable").status]).toEqual(["AGH_GIT_UNAVAILABLE", 500])
  })
})

describe("Git adapter (live)", () => {
  it("passes arguments as an array: shell syntax reaches git verbatim and runs nothing", async () => {
    const repo = fx.initRepo("r")
    const marker = join(fx.dir, "pwned")
    const value = `$(touch ${marker}); touch ${marker}`
    await fx.run(run(["config", "test.value", value], { cwd: repo, isolation: "user" }))
    const read = await fx.run(run(["config", "--get", "test.value"], { cwd: repo, isolation: "user" }))
    expect(read.stdout).toBe(`${value}\n`)
    expect(fs.existsSync(marker)).toBe(false)
  })

  it("fails with AGH_GIT_FAILED naming the command, directory, exit code and git's message", async () => {
    const repo = fx.initRepo("r")
    const err = (await fx.fail(
      run(["rev-parse", "--verify", "nope"], { cwd: repo, isolation: "user" }),
    )) as GitError
    expect(err.code).toBe("AGH_GIT_FAILED")
    expect(err.exitCode).toBe(128)
    expect(err.args).toEqual(["rev-parse", "--verify", "nope"])
    expect(err.message).toBe(
      `git rev-parse --verify nope failed (exit 128) in ${repo}: fatal: Needed a single revision`,
    )
    const ok = await fx.run(
      run(["rev-parse", "--verify", "-q", "nope"], { cwd: repo, isolation: "user", okExitCodes: [0, 1] }),
    )
    expect(ok.exitCode).toBe(1)
  })

  it("reports a missing git as AGH_GIT_UNAVAILABLE and a missing directory as a failure, not as missing git", async () => {
    const broken = makeLiveGit({ env: fx.env, binary: join(fx.dir, "no-such-git") })
    const missing = (await fx.fail(
      run(["status"], { cwd: join(fx.dir, "gone"), isolation: "user" }),
    )) as GitError
    expect(missing.code).toBe("AGH_GIT_FAILED")
    expect(missing.message).toContain(join(fx.dir, "gone"))
    const unavailable = await Effect.runPromise(
      Effect.flip(broken.run(["--version"], { cwd: fx.dir, isolation: "user" })),
    )
    expect(unavailable.code).toBe("AGH_GIT_UNAVAILABLE")
  })

  it("host isolation ignores global configuration; user isolation honours it", async () => {
    const repo = fx.initRepo("r")
    fs.appendFileSync(join(fx.home, ".gitconfig"), "[agenthost]\n\tprobe = from-global\n")
    const user = await fx.run(run(["config", "--get", "agenthost.probe"], { cwd: repo, isolation: "user" }))
    expect(user.stdout.trim()).toBe("from-global")
    const host = await fx.run(
      run(["config", "--get", "agenthost.probe"], { cwd: repo, isolation: "host", okExitCodes: [0, 1] }),
    )
    expect(host.exitCode).toBe(1)
    const hooks = await fx.run(run(["config", "--get", "core.hooksPath"], { cwd: repo, isolation: "host" }))
    expect(hooks.stdout.trim()).toBe("/dev/null")
  })

  it("user isolation drops variables that would redirect git to another repository", async () => {
    const a = fx.initRepo("a")
    const b = fx.initRepo("b")
    const git = makeLiveGit({ env: { ...fx.env, GIT_DIR: join(b, ".git"), GIT_INDEX_FILE: join(b, "idx") } })
    const top = await Effect.runPromise(
      git.run(["rev-parse", "--show-toplevel"], { cwd: a, isolation: "user" }),
    )
    expect(top.stdout.trim()).toBe(a)
  })
})

describe("git environments", () => {
  it("host env carries no variable of the host but PATH and TMPDIR", () => {
    const env = hostGitEnv({ PATH: "/bin", TMPDIR: "/t", AWS_SECRET_ACCESS_KEY: "s3cr3t", HOME: "/root" })
    expect(env.PATH).toBe("/bin")
    expect(env.TMPDIR).toBe("/t")
    expect(Object.values(env)).not.toContain("s3cr3t")
    expect(env.HOME).not.toBe("/root")
    expect(env.GIT_CONFIG_GLOBAL).toBe("/dev/null")
  })

  it("user env keeps the user's variables, drops redirections and never prompts", () => {
    const env = userGitEnv({
      HOME: "/home/me",
      GIT_DIR: "/x",
      GIT_CONFIG_KEY_0: "core.hooksPath",
      EDITOR: "vi",
    })
    expect(env).toMatchObject({
      HOME: "/home/me",
      EDITOR: "vi",
      GIT_TERMINAL_PROMPT: "0",
      GIT_OPTIONAL_LOCKS: "0",
    })
    expect(env.GIT_DIR).toBeUndefined()
    expect(env.GIT_CONFIG_KEY_0).toBeUndefined()
  })

  it("classifies a full disk from git's message", () => {
    expect(gitFailureReason("fatal: write error: No space left on device\n")).toBe("DiskFull")
    expect(gitFailureReason("error: unable to write file: Disk quota exceeded")).toBe("DiskFull")
    expect(gitFailureReason("fatal: bad object HEAD")).toBe("Failed")
  })
})
