import * as zlib from "node:zlib"

/**
 * CRC-32 (IEEE 802.3, the polynomial of zlib, PNG and gzip; reflected, init and xorout 0xFFFFFFFF) of
 * `bytes[start, end)`. Check value: `crc32("123456789") === 0xcbf43926`.
 *
 * Node ≥ 20.15 ships it natively as `zlib.crc32`; older Node 20 releases fall back to a table, so the
 * checksum in a log never depends on the Node version that wrote it.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)
  return nativeCrc32 ? nativeCrc32(view) >>> 0 : tableCrc32(view)
}

// Looked up dynamically: the typings of older @types/node do not declare it.
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32

let table: Uint32Array | undefined

function makeTable(): Uint32Array {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
}

/** The portable implementation; exported so tests can check it against the native one. */
export function tableCrc32(bytes: Uint8Array): number {
  table ??= makeTable()
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
