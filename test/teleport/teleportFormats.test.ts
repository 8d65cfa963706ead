import { describe, expect, it } from "vitest"
import { parseBundleHeader } from "../../src/teleport/bundleHeader.js"
import { parseRemotes, parseStatus } from "../../src/teleport/inspectRepository.js"
import { localPathOf } from "../../src/teleport/reachableRemotes.js"
import {
  formatSnapshotMessage,
  parseCommitObject,
  parseSnapshotMessage,
} from "../../src/teleport/snapshot.js"
import { fsFailure, TELEPORT_ERRORS } from "../../src/teleport/teleportError.js"

const A = "a".repeat(40)
const B = "b".repeat(40)

describe("snapshot commit message", () => {
  it("writes trailers the host reads back", () => {
    const message = formatSnapshotMessage({ head: A, branch: "feature/x" })
    expect(message).toBe(
      `agenthost snapshot\n\nAgenthost-Snapshot: 1\nAgenthost-Head: ${A}\nAgenthost-Branch: feature/x\n`,
    )
    expect(parseSnapshotMessage(message)).toEqual({ head: A, branch: "feature/x" })
    expect(parseSnapshotMessage(formatSnapshotMessage({ head: null, branch: null }))).toEqual({
      head: null,
      branch: null,
    })
  })

  it("rejects other formats and malformed heads", () => {
    expect(
      parseSnapshotMessage("agenthost snapshot\n\nAgenthost-Snapshot: 2\nAgenthost-Head: unborn\n"),
    ).toBeUndefined()
    expect(
      parseSnapshotMessage("agenthost snapshot\n\nAgenthost-Snapshot: 1\nAgenthost-Head: HEAD~1\n"),
    ).toBeUndefined()
    expect(parseSnapshotMessage("just a commit\n")).toBeUndefined()
  })

  it("parses a raw commit object", () => {
    const raw = `tree ${A}\nparent ${B}\nparent ${A}\nauthor x <x> 0 +0000\ncommitter x <x> 0 +0000\n\nsubject\n\nbody\n`
    expect(parseCommitObject(raw)).toEqual({ tree: A, parents: [B, A], message: "subject\n\nbody\n" })
  })
})

describe("bundle header", () => {
  it("parses v2 and v3 headers with refs and prerequisites", () => {
    const v2 = Buffer.from(`# v2 git bundle\n-${B} some commit\n${A} refs/agenthost/snapshot\n\nPACK...`)
    expect(parseBundleHeader(v2)).toEqual({
      version: 2,
      objectFormat: "sha1",
      prerequisites: [B],
      refs: [{ name: "refs/agenthost/snapshot", sha: A }],
      headerBytes: v2.indexOf("PACK"),
    })
    const sha256 = "c".repeat(64)
    const v3 = Buffer.from(
      `# v3 git bundle\n@object-format=sha256\n@filter=blob:none\n${sha256} refs/heads/main\n\n`,
    )
    expect(parseBundleHeader(v3)).toMatchObject({ version: 3, objectFormat: "sha256", filter: "blob:none" })
  })

  it("names what is wrong with a header that is not one", () => {
    expect(parseBundleHeader(Buffer.from("PK\u0003\u0004 zip file"))).toBe("no end of header found")
    expect(parseBundleHeader(Buffer.from("# v9 git bundle\n\n"))).toBe("not a v2 or v3 git bundle")
    expect(parseBundleHeader(Buffer.from("# v2 git bundle\nnot-a-sha refs/x\n\n"))).toBe(
      'bad header line "not-a-sha refs/x"',
    )
    expect(parseBundleHeader(Buffer.from("# v3 git bundle\n@evil=1\n\n"))).toBe(
      'unknown bundle capability "@evil=1"',
    )
  })
})

describe("git output parsers", () => {
  it("reads fetch URLs from `git remote -v`", () => {
    const out =
      "origin\thttps://h/a.git (fetch)\norigin\thttps://h/a.git (push)\nup\t/srv/a b (fetch)\nup\t/srv/a b (push)\n"
    expect(parseRemotes(out)).toEqual([
      { name: "origin", url: "https://h/a.git" },
      { name: "up", url: "/srv/a b" },
    ])
  })

  it("tells tracked changes from untracked files in porcelain v2", () => {
    expect(parseStatus("")).toEqual({ dirty: false, hasUntracked: false })
    expect(parseStatus("? new.txt\0")).toEqual({ dirty: false, hasUntracked: true })
    expect(parseStatus(`1 .M N... 100644 100644 100644 ${A} ${A} a.txt\0`)).toEqual({
      dirty: true,
      hasUntracked: false,
    })
    // The original path of a rename is its own field and must not be read as an entry.
    expect(parseStatus(`2 R. N... 100644 100644 100644 ${A} ${A} R100 new\0? fake\0`)).toEqual({
      dirty: true,
      hasUntracked: false,
    })
  })

  it("recognises local remote URLs only", () => {
    expect(localPathOf("/srv/git/app.git")).toBe("/srv/git/app.git")
    expect(localPathOf("file:///srv/git/app%20x.git")).toBe("/srv/git/app x.git")
    expect(localPathOf("https://github.com/a/b.git")).toBeUndefined()
    expect(localPathOf("git@github.com:a/b.git")).toBeUndefined()
    expect(localPathOf("../sibling")).toBeUndefined()
  })
})

describe("teleport errors", () => {
  it("maps a full disk to AGH_DISK_FULL and other I/O errors to AGH_TELEPORT_IO", () => {
    const full = fsFailure(
      "writing",
      "/h/b",
      Object.assign(new Error("ENOSPC: no space left"), { code: "ENOSPC" }),
    )
    expect([full.code, full.status, full.message]).toEqual([
      "AGH_DISK_FULL",
      507,
      "disk full while writing /h/b: ENOSPC: no space left",
    ])
    const denied = fsFailure(
      "writing",
      "/h/b",
      Object.assign(new Error("EACCES: denied"), { code: "EACCES" }),
    )
    expect([denied.code, denied.message]).toEqual(["AGH_TELEPORT_IO", "writing /h/b failed: EACCES: denied"])
  })

  it("gives every reason a distinct AGH_ code", () => {
    const codes = Object.values(TELEPORT_ERRORS).map((e) => e.code)
    expect(new Set(codes).size).toBe(codes.length)
    for (const code of codes) expect(code).toMatch(/^AGH_[A-Z_]+$/)
  })
})
