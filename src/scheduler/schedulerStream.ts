import { createHash } from "node:crypto"
import { realpathSync } from "node:fs"
import { resolve } from "node:path"

/** Scheduler streams are named `sched-<16 hex>`: one per project, in `<home>/logs/`. */
export const SCHEDULER_STREAM_PREFIX = "sched-"

/**
 * The project directory as the scheduler keys it: absolute, symlinks resolved when it exists, so
 * `./p`, `/abs/p` and a link to it are one project with one stream, one lock and one task file.
 */
export function canonicalProjectDir(projectDir: string): string {
  const absolute = resolve(projectDir)
  try {
    return realpathSync(absolute)
  } catch {
    return absolute
  }
}

/**
 * The event-log stream of a project's scheduler: `sched-` and the first 16 hex characters of the SHA-256
 * of its canonical path. The path itself goes in the stream's header (`meta.project`): stream names are
 * confined to a short safe alphabet, project paths are not.
 *
 * @example
 * schedulerStreamName("/home/me/app") // "sched-3b7c…" (16 hex characters)
 */
export function schedulerStreamName(projectDir: string): string {
  const hash = createHash("sha256").update(canonicalProjectDir(projectDir)).digest("hex")
  return `${SCHEDULER_STREAM_PREFIX}${hash.slice(0, 16)}`
}
