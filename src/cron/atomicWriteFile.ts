import {
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs"
import { basename, dirname, join } from "node:path"

let counter = 0

/** Syncs a directory so a rename inside it survives a crash. Some platforms cannot open directories. */
function syncDirectory(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, "r")
    fsyncSync(fd)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // Windows refuses to open a directory; some file systems refuse to fsync one. The rename still happened.
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw error
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Replaces `path` with `text` so that a reader (or a crash) sees either the old file or the new one, never a
 * mix: writes a temporary file beside it, fsyncs it, renames it over `path`, then fsyncs the directory. The
 * file keeps its permission bits (a new one gets 0644 less the umask). Throws the system error; the
 * temporary file is removed on failure.
 *
 * `beforeRename`, called once the new content is safely on disk, may veto the rename (returning false):
 * a compare-and-swap against writers that do not take our lock, checked as late as possible. Returns
 * whether the file was replaced.
 *
 * @example
 * atomicWriteFile("/p/.claude/scheduled_tasks.json", `${JSON.stringify({ tasks: [] })}\n`)
 */
export function atomicWriteFile(path: string, text: string, beforeRename?: () => boolean): boolean {
  const dir = dirname(path)
  let mode: number | undefined
  try {
    mode = statSync(path).mode & 0o7777
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
  }
  let tmp = ""
  let fd: number | undefined
  // A temp name left behind by a crashed process with the same pid is skipped, never overwritten.
  for (let attempt = 0; fd === undefined; attempt++) {
    tmp = join(dir, `.${basename(path)}.${process.pid}.${++counter}.tmp`)
    try {
      fd = openSync(tmp, "wx", 0o644)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 100) throw error
    }
  }
  try {
    if (mode !== undefined) fchmodSync(fd, mode)
    const bytes = Buffer.from(text, "utf8")
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    if (beforeRename !== undefined && !beforeRename()) {
      unlinkSync(tmp)
      return false
    }
    renameSync(tmp, path)
  } catch (error) {
    if (fd !== undefined) closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {
      // Already renamed or never created: nothing to clean.
    }
    throw error
  }
  syncDirectory(dir)
  return true
}
