import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Cause, Effect, Exit, type Layer } from "effect"
import { Git } from "../../src/adapters/git.js"

/**
 * Throw-away git world for integration tests: a temp dir, a private HOME (so the machine's git
 * configuration cannot leak in), fixed identities and dates, and the live `Git` layer on that environment.
 */
export interface GitFixture {
  readonly dir: string
  readonly home: string
  readonly env: Record<string, string>
  readonly layer: Layer.Layer<Git>
  /** Runs git like a user would (their env), returns trimmed stdout. */
  readonly git: (cwd: string, ...args: string[]) => string
  /** Raw stdout (not trimmed), for porcelain output. */
  readonly gitRaw: (cwd: string, ...args: string[]) => string
  /** A fresh repository at `dir/<name>` with `main` as its initial branch. */
  readonly initRepo: (name: string) => string
  readonly write: (path: string, content: string) => void
  readonly run: <A, E>(effect: Effect.Effect<A, E, Git>) => Promise<A>
  readonly fail: <A, E>(effect: Effect.Effect<A, E, Git>) => Promise<E>
  readonly cleanup: () => void
}

export function makeGitFixture(prefix = "agh-git-"): GitFixture {
  const dir = fs.realpathSync(fs.mkdtempSync(join(os.tmpdir(), prefix)))
  const home = join(dir, "home")
  fs.mkdirSync(home)
  fs.writeFileSync(join(home, ".gitconfig"), "[init]\n\tdefaultBranch = main\n")
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    GIT_CONFIG_NOSYSTEM: "1",
    // The fixture's own `git status` must not refresh indexes the tests compare byte for byte.
    GIT_OPTIONAL_LOCKS: "0",
    GIT_AUTHOR_NAME: "Test User",
    GIT_AUTHOR_EMAIL: "test@example.com",
    GIT_COMMITTER_NAME: "Test User",
    GIT_COMMITTER_EMAIL: "test@example.com",
    GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
    GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
  }
  const layer = Git.layerWith({ env })
  const gitRaw = (cwd: string, ...args: string[]) =>
    execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  const git = (cwd: string, ...args: string[]) => gitRaw(cwd, ...args).trim()
  const write = (path: string, content: string) => {
    fs.mkdirSync(join(path, ".."), { recursive: true })
    fs.writeFileSync(path, content)
  }
  const initRepo = (name: string) => {
    const repo = join(dir, name)
    fs.mkdirSync(repo, { recursive: true })
    git(repo, "init", "-q")
    return repo
  }
  const run = <A, E>(effect: Effect.Effect<A, E, Git>) => Effect.runPromise(Effect.provide(effect, layer))
  const fail = async <A, E>(effect: Effect.Effect<A, E, Git>): Promise<E> => {
    const exit = await Effect.runPromiseExit(Effect.provide(effect, layer))
    if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
    const found = exit.cause.reasons.find(Cause.isFailReason)
    if (found === undefined) throw new Error(`expected a typed failure: ${Cause.pretty(exit.cause)}`)
    return found.error
  }
  return {
    dir,
    home,
    env,
    layer,
    git,
    gitRaw,
    initRepo,
    write,
    run,
    fail,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  }
}

/** Everything about a repository a teleport step must not change. */
export function repoState(fx: GitFixture, repo: string): Record<string, unknown> {
  const gitDir = fx.git(repo, "rev-parse", "--absolute-git-dir")
  const index = join(gitDir, "index")
  const objects: string[] = []
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name)
      if (entry.isDirectory()) walk(p)
      else objects.push(p.slice(gitDir.length))
    }
  }
  walk(join(gitDir, "objects"))
  const logs: string[] = []
  if (fs.existsSync(join(gitDir, "logs"))) {
    const walkLogs = (d: string) => {
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        const p = join(d, entry.name)
        if (entry.isDirectory()) walkLogs(p)
        else logs.push(`${p.slice(gitDir.length)}:${fs.readFileSync(p, "utf8")}`)
      }
    }
    walkLogs(join(gitDir, "logs"))
  }
  const indexStat = fs.existsSync(index) ? fs.statSync(index) : undefined
  return {
    status: fx.gitRaw(repo, "status", "--porcelain=v1", "--untracked-files=all"),
    stash: fx.gitRaw(repo, "stash", "list"),
    refs: fx.gitRaw(repo, "for-each-ref"),
    head: fs.readFileSync(join(gitDir, "HEAD"), "utf8"),
    index: indexStat === undefined ? null : fs.readFileSync(index).toString("base64"),
    indexMtime: indexStat?.mtimeMs ?? null,
    objects: objects.sort(),
    logs: logs.sort(),
    gitDirEntries: fs.readdirSync(gitDir).sort(),
  }
}

/** A fetchable copy of a bundle's refs, to inspect what it holds. */
export function unpackBundle(fx: GitFixture, bundle: string, name: string): string {
  const repo = fx.initRepo(name)
  fx.git(repo, "fetch", "-q", bundle, "refs/agenthost/*:refs/agenthost/*")
  return repo
}
