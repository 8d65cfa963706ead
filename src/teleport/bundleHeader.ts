import { open } from "node:fs/promises"
import * as Effect from "effect/Effect"
import { fsTry } from "./fsEffects.js"
import { TeleportError } from "./teleportError.js"

/** A ref a bundle carries. */
export interface BundleRef {
  readonly name: string
  readonly sha: string
}

/** The text header of a git bundle (v2 or v3), before its pack. */
export interface BundleHeader {
  readonly version: 2 | 3
  readonly objectFormat: string
  /** Commits the receiving repository must already have; a complete bundle has none. */
  readonly prerequisites: ReadonlyArray<string>
  readonly refs: ReadonlyArray<BundleRef>
  /** Set for partial (filtered) bundles, which lack objects. */
  readonly filter?: string
  /** Bytes up to and including the blank line that ends the header. */
  readonly headerBytes: number
}

/** Headers are a few lines per ref; anything longer is not a bundle we made. */
export const MAX_BUNDLE_HEADER_BYTES = 1024 * 1024

const OID = "[0-9a-f]{40}(?:[0-9a-f]{24})?"
const REF_LINE = new RegExp(`^(${OID}) (\\S.*)$`)
const PREREQ_LINE = new RegExp(`^-(${OID})(?: .*)?$`)

/** Parses a bundle header; `string` is the reason it is not one. */
export function parseBundleHeader(bytes: Uint8Array): BundleHeader | string {
  const text = Buffer.from(bytes).toString("latin1")
  const end = text.indexOf("\n\n")
  if (end < 0) return "no end of header found"
  const lines = text.slice(0, end).split("\n")
  const signature = lines.shift()
  let version: 2 | 3
  if (signature === "# v2 git bundle") version = 2
  else if (signature === "# v3 git bundle") version = 3
  else return "not a v2 or v3 git bundle"
  let objectFormat = "sha1"
  let filter: string | undefined
  const prerequisites: string[] = []
  const refs: BundleRef[] = []
  for (const line of lines) {
    if (version === 3 && line.startsWith("@")) {
      const [key, value] = line.slice(1).split("=", 2)
      if (key === "object-format" && value !== undefined) objectFormat = value
      else if (key === "filter") filter = value ?? ""
      else return `unknown bundle capability ${JSON.stringify(line)}`
      continue
    }
    const prereq = PREREQ_LINE.exec(line)
    if (prereq?.[1] !== undefined) {
      prerequisites.push(prereq[1])
      continue
    }
    const ref = REF_LINE.exec(line)
    if (ref?.[1] === undefined || ref[2] === undefined)
      return `bad header line ${JSON.stringify(line.slice(0, 80))}`
    refs.push({ sha: ref[1], name: ref[2] })
  }
  return {
    version,
    objectFormat,
    prerequisites,
    refs,
    ...(filter === undefined ? {} : { filter }),
    headerBytes: end + 2,
  }
}

/** Reads and parses the header of the bundle at `path`; a malformed one is `AGH_BUNDLE_INVALID`. */
export const readBundleHeader = Effect.fnUntraced(function* (path: string) {
  const head = yield* fsTry("reading", path, async () => {
    const handle = await open(path, "r")
    try {
      const buffer = Buffer.alloc(MAX_BUNDLE_HEADER_BYTES)
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
      return buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  })
  const parsed = parseBundleHeader(head)
  if (typeof parsed === "string") {
    return yield* new TeleportError({ reason: "BundleInvalid", message: `bundle ${path}: ${parsed}`, path })
  }
  return parsed
})
