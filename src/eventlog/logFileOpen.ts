import * as fs from "node:fs"
import { basename, dirname, join } from "node:path"
import type { OpenReport } from "./eventLog.js"
import { TORN_TAIL_CODE } from "./eventLogError.js"
import { fileFailure } from "./logFileErrors.js"
import { openHeader, scanRecords } from "./logFileScan.js"
import type { LogHeader } from "./logRecord.js"
import { encodeLogStart, PayloadDecoder } from "./recordCodec.js"

/** Writes all of `bytes` at `position`, looping over short writes. */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0
  while (done < bytes.length) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done, position + done)
    if (n <= 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" })
    done += n
  }
}

/** Makes a rename durable. Some platforms cannot fsync a directory; there it is best effort. */
function syncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, "r")
    fs.fsyncSync(fd)
  } catch {
    // EISDIR/EINVAL/EPERM on platforms without directory fsync: nothing better to do.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/**
 * Creates the log atomically: magic and header go to a temporary file that is synced and renamed over
 * `path`, so a crash never leaves a log without its header at the final name.
 */
function createLogFile(path: string, header: LogHeader): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  const bytes = encodeLogStart(header)
  // Owner-only: a session log holds prompts, tool output and whatever a user typed.
  const fd = fs.openSync(tmp, "w", 0o600)
  try {
    writeFully(fd, bytes, 0)
    fs.fdatasyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, path)
  syncDir(dirname(path))
}

/** A log file opened for appending, checked and repaired. */
export interface OpenedLogFile {
  readonly fd: number
  readonly header: LogHeader
  readonly lastSeq: number
  /** Where the next frame goes. */
  readonly end: number
  readonly report: OpenReport
}

/**
 * Opens `path` with `flags` (`O_RDONLY`, `O_RDWR`); it must be a regular file, else the open throws with
 * code `EISDIR`. O_NONBLOCK is added: it only matters for a FIFO in the log's place, which then fails the
 * check instead of hanging the process.
 */
export function openRegularFile(path: string, flags: number): number {
  const fd = fs.openSync(path, flags | fs.constants.O_NONBLOCK)
  try {
    if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" })
  } catch (err) {
    fs.closeSync(fd)
    throw err
  }
  return fd
}

const openRw = (path: string): number => openRegularFile(path, fs.constants.O_RDWR)

/**
 * Opens (creating if absent) the log at `path` for appending. The caller holds the stream's writer lock.
 * A torn tail is cut off (ftruncate + fdatasync) and reported; a torn header — creation cut short, no
 * record possible after it — is replaced by a fresh log and reported as a creation that truncated the
 * old bytes. Rejects with an `EventLogError`.
 */
export async function openLogFile(
  path: string,
  stream: string,
  newHeader: () => LogHeader,
  chunkBytes?: number,
): Promise<OpenedLogFile> {
  const fail = (err: unknown, what: string) => fileFailure(path, err, what, { stream, writing: true })
  let fd: number
  let created = false
  try {
    fd = openRw(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw fail(err, "open")
    try {
      createLogFile(path, newHeader())
      fd = openRw(path)
    } catch (err2) {
      throw fail(err2, "create")
    }
    created = true
  }
  try {
    const decoder = new PayloadDecoder()
    const opened = await openHeader(fd, path, decoder, chunkBytes)
    if (opened.kind === "tornHeader") {
      const size = fs.fstatSync(fd).size
      fs.closeSync(fd)
      fd = -1
      createLogFile(path, newHeader())
      fd = openRw(path)
      const header = (await openHeader(fd, path, decoder, chunkBytes)) as { header: LogHeader }
      const message = `${TORN_TAIL_CODE}: event log ${path} had a torn header (${opened.why}); replaced ${size} bytes from byte offset 0 with a new log`
      return {
        fd,
        header: header.header,
        lastSeq: 0,
        end: fs.fstatSync(fd).size,
        report: {
          created: true,
          lastSeq: 0,
          truncatedBytes: size,
          truncatedAt: 0,
          warning: { code: TORN_TAIL_CODE, message },
        },
      }
    }
    const scan = await scanRecords(opened.frames, path, decoder)
    if (!scan.torn) {
      return {
        fd,
        header: opened.header,
        lastSeq: scan.lastSeq,
        end: scan.end,
        report: { created, lastSeq: scan.lastSeq, truncatedBytes: 0 },
      }
    }
    fs.ftruncateSync(fd, scan.end)
    fs.fdatasyncSync(fd)
    const { offset, bytes, why } = scan.torn
    const message = `${TORN_TAIL_CODE}: event log ${path} had a torn tail at byte offset ${offset} (${why}); truncated ${bytes} bytes, last intact seq ${scan.lastSeq}`
    return {
      fd,
      header: opened.header,
      lastSeq: scan.lastSeq,
      end: scan.end,
      report: {
        created,
        lastSeq: scan.lastSeq,
        truncatedBytes: bytes,
        truncatedAt: offset,
        warning: { code: TORN_TAIL_CODE, message },
      },
    }
  } catch (err) {
    if (fd >= 0) fs.closeSync(fd)
    throw fail(err, "open")
  }
}
