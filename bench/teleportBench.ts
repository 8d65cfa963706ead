import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { Git } from "../src/adapters/git.js"
import { createSnapshotBundle } from "../src/teleport/bundle.js"
import { makeBundleStore } from "../src/teleport/bundleStore.js"
import { exportSessionChanges } from "../src/teleport/pullBack.js"
import { prepareWorkspace } from "../src/teleport/workspace.js"
import { type Bench, medianOf } from "./harness.js"

const FILES = 1_000
const FILE_BYTES = 8_000

async function ms(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

/**
 * Teleport on a repository of 1,000 incompressible 8 kB files (~8 MB) with a few uncommitted edits:
 * snapshot + bundle, upload with the full check, workspace restore and export, each against the plain git
 * operation it is built on (`git bundle create`, `git clone` of the bundle), measured in the same run.
 */
export const teleportBench: Bench = async () => {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "agh-bench-teleport-"))
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "b",
    GIT_AUTHOR_EMAIL: "b@b",
    GIT_COMMITTER_NAME: "b",
    GIT_COMMITTER_EMAIL: "b@b",
  }
  const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, env, stdio: "ignore" })
  const run = <A, E>(effect: Effect.Effect<A, E, Git>) =>
    Effect.runPromise(Effect.provide(effect, Git.layerWith({ env })))
  try {
    const repo = join(dir, "repo")
    fs.mkdirSync(repo)
    git(repo, "init", "-q", "-b", "main")
    for (let i = 0; i < FILES; i++) fs.writeFileSync(join(repo, `f${i}.bin`), randomBytes(FILE_BYTES))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    for (let i = 0; i < 10; i++) fs.writeFileSync(join(repo, `f${i}.bin`), randomBytes(FILE_BYTES))
    fs.writeFileSync(join(repo, "new.txt"), "untracked\n")

    let n = 0
    let raw = ""
    const rawBundle = await medianOf(3, () =>
      ms(() => {
        raw = join(dir, `raw${n++}.bundle`)
        git(repo, "bundle", "create", "-q", raw, "HEAD")
      }),
    )
    let seed = ""
    const snapshot = await medianOf(3, () =>
      ms(async () => {
        seed = (await run(createSnapshotBundle(repo, join(dir, `seed${n++}.bundle`)))).bundlePath
      }),
    )
    const rawClone = await medianOf(3, () => ms(() => git(dir, "clone", "-q", raw, join(dir, `clone${n++}`))))
    const store = makeBundleStore({ dir: join(dir, "bundles") })
    let bundleId = ""
    const receive = await medianOf(3, () =>
      ms(async () => {
        bundleId = (await run(store.receive(fs.createReadStream(seed), { maxBytes: 1e9 }))).bundleId
      }),
    )
    let workDir = ""
    const workspace = await medianOf(3, () =>
      ms(async () => {
        const ws = await run(
          prepareWorkspace({
            source: { bundleId, bundles: store },
            workRoot: join(dir, "work"),
            sessionId: `s${n++}`,
          }),
        )
        workDir = ws.workDir
      }),
    )
    const exported = await medianOf(3, () =>
      ms(() => run(exportSessionChanges(workDir, join(dir, `r${n++}.bundle`)))),
    )
    const bytes = fs.statSync(seed).size
    return {
      title: `teleport (${FILES} files, ${(bytes / 1e6).toFixed(1)} MB bundle)`,
      rows: [
        { name: "raw: git bundle create HEAD", value: rawBundle, unit: "ms", lowerIsBetter: true },
        {
          name: "createSnapshotBundle (temp index + bundle)",
          value: snapshot,
          unit: "ms",
          baseline: "raw: git bundle create HEAD",
          lowerIsBetter: true,
        },
        { name: "raw: git clone <bundle>", value: rawClone, unit: "ms", lowerIsBetter: true },
        {
          name: "BundleStore.receive (stream + full check)",
          value: receive,
          unit: "ms",
          baseline: "raw: git clone <bundle>",
          lowerIsBetter: true,
        },
        {
          name: "prepareWorkspace (fetch + restore snapshot)",
          value: workspace,
          unit: "ms",
          baseline: "raw: git clone <bundle>",
          lowerIsBetter: true,
        },
        { name: "exportSessionChanges", value: exported, unit: "ms", lowerIsBetter: true },
      ],
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
