/**
 * The context digest logged with every machine record and recomputed by replay.
 *
 * Algorithm `agh-digest-1` (documented in docs/machines.md so other tools can check it): a 32-bit hash over
 * the JSON data model, rendered as 8 lowercase hex digits.
 * - strings: FNV-1a over UTF-16 code units, seeded per type;
 * - numbers: the two 32-bit halves of the float64 (with -0 read as 0), mixed;
 * - booleans, null: constants; `undefined` inside an array hashes as null;
 * - arrays: ordered fold of the elements, with the length;
 * - objects: the SUM of one mixed hash per entry (key hash combined with value hash). A sum does not depend
 *   on key order, so no keys are sorted; entries whose value is `undefined` are skipped, as JSON would.
 *
 * Why not sha1 of canonical JSON: replay computes one digest per event and must keep up with raw xstate
 * transitions; building and sorting a string per event costs more than the transition itself. A 32-bit
 * digest detects a diverging context with probability 1 - 2^-32 per record, and the state value is compared
 * exactly besides.
 *
 * Keys are enumerated with `for…in` without an own-property check (five times cheaper per object):
 * contexts, inputs and events are plain JSON-like objects, whose prototype has no enumerable keys.
 *
 * Objects that are reached again (xstate keeps unchanged sub-objects of the context by reference) are not
 * rehashed: their hash is cached per object identity. Callers must not mutate hashed objects — machine
 * contexts are immutable by construction.
 */

const cache = new WeakMap<object, number>()
const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

const SEED_STRING = 0x811c9dc5
const SEED_ARRAY = 0x2f6b7a1d
const SEED_OBJECT = 0x5bd1e995
const NULL_HASH = 0x0b4e0ef3
const TRUE_HASH = 0x3c6ef372
const FALSE_HASH = 0x1b873593

/** murmur3's 32-bit finalizer: spreads every input bit over the output. */
function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}

function hashString(s: string): number {
  let h = SEED_STRING
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return mix(h ^ s.length)
}

function hashNumber(n: number): number {
  f64[0] = n === 0 ? 0 : n
  return mix(Math.imul((u32[0] as number) ^ 0x9e3779b9, 0x01000193) ^ (u32[1] as number))
}

/**
 * `cacheable`: whether the object may be looked up and stored in the identity cache. Only elements of arrays
 * are: they are the long-lived records (resolved permissions, queued messages, todos) that reappear in the
 * next context's new array. Caching every small object that changes costs more in WeakMap traffic than
 * rehashing it.
 */
function hashValue(value: unknown, cacheable: boolean): number {
  switch (typeof value) {
    case "string":
      return hashString(value)
    case "number":
      return hashNumber(value)
    case "boolean":
      return value ? TRUE_HASH : FALSE_HASH
    case "object":
      return value === null ? NULL_HASH : hashObject(value, cacheable)
    case "bigint":
      return hashString(`${value}n`)
    default:
      // undefined (in arrays), functions, symbols: JSON would write null or nothing; hash like null.
      return NULL_HASH
  }
}

function hashObject(value: object, cacheable: boolean): number {
  if (cacheable) {
    const cached = cache.get(value)
    if (cached !== undefined) return cached
  }
  let h: number
  if (Array.isArray(value)) {
    h = SEED_ARRAY
    for (let i = 0; i < value.length; i++) h = mix(Math.imul(h, 31) + hashValue(value[i], true))
    h = mix(h ^ value.length)
  } else {
    let sum = 0
    let count = 0
    const record = value as Readonly<Record<string, unknown>>
    for (const key in record) {
      const v = record[key]
      if (v === undefined) continue
      sum = (sum + entryHash(key, v)) | 0
      count++
    }
    h = objectHash(sum, count)
  }
  if (cacheable) cache.set(value, h)
  return h
}

function entryHash(key: string, value: unknown): number {
  return mixEntry(hashString(key), hashValue(value, false))
}

/** One object entry's share of the object's sum (shared with the incremental digester). */
function mixEntry(keyHash: number, valueHash: number): number {
  return mix(keyHash ^ Math.imul(valueHash, 0x27d4eb2d))
}

/** An object's hash from the sum of its entries and their count (shared with the incremental digester). */
function objectHash(sum: number, count: number): number {
  return mix(sum ^ Math.imul(count + 1, SEED_OBJECT))
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** A 32-bit digest as logged: 8 lowercase hex digits. */
export function digestHex(h: number): string {
  return (
    (HEX[(h >>> 24) & 255] as string) +
    (HEX[(h >>> 16) & 255] as string) +
    (HEX[(h >>> 8) & 255] as string) +
    (HEX[h & 255] as string)
  )
}

/** The number a logged digest stands for; NaN when it is not 8 hex digits. */
export function parseDigest(hex: string): number {
  if (hex.length !== 8) return Number.NaN
  let h = 0
  for (let i = 0; i < 8; i++) {
    const c = hex.charCodeAt(i)
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1
    if (d < 0) return Number.NaN
    h = (h << 4) | d
  }
  return h | 0
}

/** Digest of a machine context (any JSON-like value), as a 32-bit integer. */
export function contextDigestValue(value: unknown): number {
  return hashValue(value, false) | 0
}

/** Digest of a machine context (any JSON-like value), as 8 hex digits. */
export function contextDigest(value: unknown): string {
  return digestHex(contextDigestValue(value))
}

/** What one object looked like last time, position by position (updated in place). */
interface ObjectMemo {
  readonly keys: string[]
  readonly keyHashes: number[]
  readonly values: unknown[]
  readonly entries: number[]
  /** Memo of the plain object at the same position, reused when the next object there was derived from it. */
  readonly children: Array<ObjectMemo | undefined>
}

const newMemo = (): ObjectMemo => ({ keys: [], keyHashes: [], values: [], entries: [], children: [] })

const isPlainObject = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === "object" && v !== null && !Array.isArray(v)

/**
 * {@link hashObject} for a plain object, reusing what the memo knows: an entry whose key and value are the
 * very same as at that position last time keeps its hash; a nested plain object that replaced the previous
 * one (xstate's `{ ...old, changed }`) is digested the same way one level down.
 */
function digestObject(record: Readonly<Record<string, unknown>>, memo: ObjectMemo): number {
  const { keys, keyHashes, values, entries, children } = memo
  let sum = 0
  let count = 0
  let i = 0
  for (const key in record) {
    const v = record[key]
    const sameKey = keys[i] === key
    if (v !== undefined) {
      let entry: number
      if (sameKey && values[i] === v) {
        entry = entries[i] as number
      } else {
        const keyHash = sameKey ? (keyHashes[i] as number) : hashString(key)
        keyHashes[i] = keyHash
        let valueHash: number
        if (isPlainObject(v)) {
          const child = (sameKey ? children[i] : undefined) ?? newMemo()
          children[i] = child
          valueHash = digestObject(v, child)
        } else {
          children[i] = undefined
          valueHash = hashValue(v, false)
        }
        entry = mixEntry(keyHash, valueHash)
      }
      sum = (sum + entry) | 0
      count++
      entries[i] = entry
    } else if (!sameKey) {
      keyHashes[i] = hashString(key)
      children[i] = undefined
    }
    keys[i] = key
    values[i] = v
    i++
  }
  if (keys.length !== i) {
    keys.length = i
    keyHashes.length = i
    values.length = i
    entries.length = i
    children.length = i
  }
  return objectHash(sum, count)
}

/**
 * A digest function for a sequence of contexts of one actor, equal to {@link contextDigestValue} on every
 * input but incremental: xstate's `assign` builds the next context by copying the previous one and replacing
 * a few keys, so each entry whose value is the very same as last time reuses its hash, and only the replaced
 * keys are hashed — one level down too, for nested objects rebuilt with a spread. This is what keeps
 * per-event digests cheap in the runtime and in replay.
 */
export function makeContextDigester(): (context: unknown) => number {
  const memo = newMemo()
  return (context) => (isPlainObject(context) ? digestObject(context, memo) : contextDigestValue(context)) | 0
}

/** Deep equality of two JSON-like values (state values as logged and as replayed). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as ReadonlyArray<unknown>
    if (a.length !== bb.length) return false
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], bb[i])) return false
    return true
  }
  const ra = a as Readonly<Record<string, unknown>>
  const rb = b as Readonly<Record<string, unknown>>
  let count = 0
  for (const k in ra) {
    if (!sameJson(ra[k], rb[k]) || !(k in rb)) return false
    count++
  }
  for (const _ in rb) count--
  return count === 0
}
