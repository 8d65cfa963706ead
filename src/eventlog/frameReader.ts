import * as fs from "node:fs"
import { checkFrame, FRAME_HEADER_BYTES, MAX_PAYLOAD_BYTES } from "./recordCodec.js"

/** Default read size: large enough to amortise a read call, small enough to keep memory flat. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024

/**
 * What {@link FrameReader.next} found at the reader's position:
 * - `frames`: complete, checksum-valid frames; `spans` holds `[frameOffsetInBuf, payloadStart,
 *   payloadEnd]` triples indexing `buf`, whose byte 0 is at file offset `base`;
 * - `end`: the file ends exactly at a frame boundary;
 * - `torn`: the bytes from `offset` to the end of the file are a frame cut short, a last frame whose
 *   checksum fails, or zero fill — what a crash mid-append leaves;
 * - `bad`: the frame at `offset` is corrupt and more data follows it.
 */
export type FrameBatch =
  | { readonly kind: "frames"; readonly buf: Buffer; readonly base: number; readonly spans: number[] }
  | { readonly kind: "end"; readonly offset: number }
  | { readonly kind: "torn"; readonly offset: number; readonly bytes: number; readonly why: string }
  | { readonly kind: "bad"; readonly offset: number; readonly why: string }

const EMPTY = Buffer.alloc(0)

function readInto(fd: number, buf: Buffer, offset: number, length: number, position: number) {
  return new Promise<number>((resolve, reject) => {
    fs.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)))
  })
}

function fstatSize(fd: number) {
  return new Promise<number>((resolve, reject) => {
    fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size)))
  })
}

/**
 * Walks the frames of a log file from a given offset, reading it in chunks so that memory stays bounded
 * by one chunk plus the largest frame, whatever the file size. Every refill reads into a fresh buffer:
 * decoded binary values may be views into an earlier one, which must therefore never be overwritten.
 * I/O errors reject the returned promises; callers map them to `Unreadable`.
 */
export class FrameReader {
  private buf: Buffer = EMPTY
  /** File offset of `buf[0]`. */
  private base: number
  /** Valid bytes in `buf`. */
  private len = 0
  /** File offset of the next frame to return. */
  private pos: number

  constructor(
    private readonly fd: number,
    offset: number,
    private readonly chunkBytes: number = DEFAULT_CHUNK_BYTES,
  ) {
    this.base = offset
    this.pos = offset
  }

  /** File offset of the next frame (the end of the last frame returned). */
  get offset(): number {
    return this.pos
  }

  /** Forgets buffered bytes past the last returned frame, so the next call re-reads them from disk. */
  reset(): void {
    this.buf = EMPTY
    this.base = this.pos
    this.len = 0
  }

  async next(): Promise<FrameBatch> {
    for (;;) {
      const spans: number[] = []
      let p = this.pos - this.base
      let c = checkFrame(this.buf, p, this.len)
      while (c.kind === "ok") {
        spans.push(p, c.payloadStart, c.payloadEnd)
        p = c.payloadEnd
        c = checkFrame(this.buf, p, this.len)
      }
      if (spans.length > 0) {
        this.pos = this.base + p
        return { kind: "frames", buf: this.buf, base: this.base, spans }
      }
      if (c.kind === "incomplete") {
        if (await this.fill(c.needed)) continue
        const size = this.base + this.len
        if (size === this.pos) return { kind: "end", offset: this.pos }
        const why =
          c.needed === FRAME_HEADER_BYTES
            ? `frame header cut short (${size - this.pos} of ${FRAME_HEADER_BYTES} bytes)`
            : `frame cut short (${size - this.pos} of ${c.needed} bytes)`
        return { kind: "torn", offset: this.pos, bytes: size - this.pos, why }
      }
      const size = await fstatSize(this.fd)
      if (c.kind === "badLength") {
        const why = `frame length ${c.length} outside 1..${MAX_PAYLOAD_BYTES}`
        if (await this.zeroFrom(this.pos, size)) {
          return { kind: "torn", offset: this.pos, bytes: size - this.pos, why: "zero-filled tail" }
        }
        return { kind: "bad", offset: this.pos, why }
      }
      const frameEnd = this.base + c.frameEnd
      if (frameEnd >= size) {
        return {
          kind: "torn",
          offset: this.pos,
          bytes: size - this.pos,
          why: "checksum mismatch in last frame",
        }
      }
      return {
        kind: "bad",
        offset: this.pos,
        why: `checksum mismatch (frame of ${frameEnd - this.pos} bytes, ${size - frameEnd} more bytes follow)`,
      }
    }
  }

  /** Makes at least `needed` bytes from `pos` available if the file has them; false at end of file. */
  private async fill(needed: number): Promise<boolean> {
    const have = this.base + this.len - this.pos
    const want = Math.max(this.chunkBytes, needed)
    const next = Buffer.allocUnsafe(want)
    if (have > 0) this.buf.copy(next, 0, this.pos - this.base, this.len)
    let filled = have
    let gotAny = false
    while (filled < needed) {
      const n = await readInto(this.fd, next, filled, want - filled, this.pos + filled)
      if (n === 0) break
      gotAny = true
      filled += n
    }
    this.buf = next
    this.base = this.pos
    this.len = filled
    return gotAny && filled >= needed
  }

  private async zeroFrom(from: number, to: number): Promise<boolean> {
    const scratch = Buffer.allocUnsafe(Math.min(this.chunkBytes, Math.max(1, to - from)))
    for (let at = from; at < to; ) {
      const n = await readInto(this.fd, scratch, 0, Math.min(scratch.length, to - at), at)
      if (n === 0) break
      for (let i = 0; i < n; i++) if (scratch[i] !== 0) return false
      at += n
    }
    return true
  }
}
