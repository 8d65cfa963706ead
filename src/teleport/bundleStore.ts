import { type FileHandle, mkdir, open, readdir, rename, stat } from "node:fs/promises"
import { join } from "node:path"
import { Readable } from "node:stream"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { Git, GitError } from "../adapters/git.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import { messageOf } from "../errors/messageOf.js"
import { checkSnapshotBundle, type SnapshotFacts } from "./bundle.js"
import { fsTry, removePath } from "./fsEffects.js"
import { fsFailure, TeleportError } from "./teleportError.js"

/** An upload body: an HTTP request, any Node readable, or an (async) iterable of chunks. */
export type BundleSource = Readable | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>

export interface ReceiveOptions {
  /** Uploads longer than this are refused with `AGH_BUNDLE_TOO_LARGE` (the route answers 413). */
  readonly maxBytes: number
}

/** A stored, checked bundle. */
export interface ReceivedBundle extends SnapshotFacts {
  readonly bundleId: string
  readonly path: string
  readonly bytes: number
}

export interface BundleStoreOptions {
  /** `<home>/bundles`; created (0700) on first use. */
  readonly dir: string
  readonly ids?: IdsShape
  /**
   * Opens the file an upload is written to (default: create-exclusive, 0600). A seam for tests: a handle
   * on `/dev/full` gives a real ENOSPC.
   */
  readonly openUploadFile?: (path: string) => Promise<FileHandle>
}

/** Host side of `POST /bundles`: stores uploaded snapshot bundles by id until their session ends. */
export interface BundleStore {
  readonly dir: string
  /**
   * Streams `source` to a temp file (never visible under an id while partial), checks it completely
   * (`checkSnapshotBundle`), then renames it to `<dir>/<bundle id>.bundle`. Whatever fails, nothing is
   * left behind. At `maxBytes` it stops reading and leaves the source to the caller: an HTTP route answers
   * 413 and closes the connection.
   */
  readonly receive: (
    source: BundleSource,
    options: ReceiveOptions,
  ) => Effect.Effect<ReceivedBundle, TeleportError | GitError, Git>
  /** The file of a stored bundle, or `AGH_BUNDLE_NOT_FOUND`. */
  readonly path: (bundleId: string) => Effect.Effect<string, TeleportError>
  /** Deletes a bundle (when its session ends); false when there was none. */
  readonly delete: (bundleId: string) => Effect.Effect<boolean, TeleportError>
  /**
   * Removes partial uploads and verification repositories a crash left behind; returns how many. Call at
   * host start-up, before any upload is running.
   */
  readonly sweep: () => Effect.Effect<number, TeleportError>
}

/** Bundle ids: `b_` and 32 lowercase hex characters. Anything else never reaches the file system. */
export const BUNDLE_ID_PATTERN = /^b_[0-9a-f]{32}$/

const INCOMING_PREFIX = ".incoming-"
const VERIFY_PREFIX = ".verify-"

class UploadTooLarge extends Error {}

function isReadable(source: BundleSource): source is Readable {
  return source instanceof Readable
}

function abortable<A>(promise: Promise<A>, signal: AbortSignal): Promise<A> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<A>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener("abort", onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort)
        reject(error)
      },
    )
  })
}

/** Copies `source` into `handle`, at most `maxBytes`; returns the byte count. Source errors are tagged. */
async function copyUpload(
  source: BundleSource,
  handle: FileHandle,
  maxBytes: number,
  signal: AbortSignal,
): Promise<number> {
  // A Readable's default iterator destroys it on early exit, which would kill the socket before a 413.
  const iterator: AsyncIterator<Uint8Array | string> | Iterator<Uint8Array | string> = isReadable(source)
    ? source.iterator({ destroyOnReturn: false })
    : Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : source[Symbol.iterator]()
  let bytes = 0
  let finished = false
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array | string>
      try {
        next = await abortable(Promise.resolve(iterator.next()), signal)
      } catch (error) {
        finished = true
        throw new TeleportError({
          reason: "UploadFailed",
          message: `bundle upload ended with an error after ${bytes} bytes: ${messageOf(error)}`,
          cause: error,
        })
      }
      if (next.done) {
        finished = true
        break
      }
      const chunk = typeof next.value === "string" ? Buffer.from(next.value) : next.value
      bytes += chunk.byteLength
      if (bytes > maxBytes) throw new UploadTooLarge()
      let offset = 0
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset)
        offset += bytesWritten
      }
    }
    await handle.sync()
    return bytes
  } finally {
    if (!finished) await iterator.return?.()
  }
}

/** Makes a {@link BundleStore} on the directory `options.dir`. */
export function makeBundleStore(options: BundleStoreOptions): BundleStore {
  const { dir } = options
  const ids = options.ids ?? liveIds
  const openUploadFile = options.openUploadFile ?? ((path: string) => open(path, "wx", 0o600))
  const fileOf = (bundleId: string) => join(dir, `${bundleId}.bundle`)
  const checkId = (bundleId: string) =>
    BUNDLE_ID_PATTERN.test(bundleId)
      ? Effect.succeed(bundleId)
      : Effect.fail(
          new TeleportError({
            reason: "BundleNotFound",
            message: `no bundle ${JSON.stringify(bundleId)} (bad id)`,
          }),
        )

  const writeUpload = (source: BundleSource, temp: string, maxBytes: number) =>
    Effect.tryPromise({
      try: async (signal) => {
        const handle = await openUploadFile(temp)
        try {
          return await copyUpload(source, handle, maxBytes, signal)
        } finally {
          await handle.close()
        }
      },
      catch: (error) => {
        if (error instanceof TeleportError) return error
        if (error instanceof UploadTooLarge) {
          return new TeleportError({
            reason: "BundleTooLarge",
            message: `bundle upload is larger than the limit of ${maxBytes} bytes`,
          })
        }
        return fsFailure("writing the upload", temp, error)
      },
    })

  return {
    dir,
    receive: Effect.fn("BundleStore.receive")(function* (
      source: BundleSource,
      receiveOptions: ReceiveOptions,
    ) {
      const { maxBytes } = receiveOptions
      yield* fsTry("creating", dir, () => mkdir(dir, { recursive: true, mode: 0o700 }))
      const bundleId = `b_${ids.uuid().replace(/-/g, "").toLowerCase()}`
      if (!BUNDLE_ID_PATTERN.test(bundleId)) return yield* Effect.die(new Error(`bad bundle id ${bundleId}`))
      const temp = join(dir, `${INCOMING_PREFIX}${bundleId}`)
      const final = fileOf(bundleId)
      return yield* Effect.gen(function* () {
        const bytes = yield* writeUpload(source, temp, maxBytes)
        const facts = yield* checkSnapshotBundle(temp, { tempParent: dir })
        yield* fsTry("renaming", temp, () => rename(temp, final))
        const { header: _header, ...rest } = facts
        return { bundleId, path: final, bytes, ...rest }
      }).pipe(Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : removePath(temp))))
    }),
    path: Effect.fn("BundleStore.path")(function* (bundleId: string) {
      yield* checkId(bundleId)
      const file = fileOf(bundleId)
      const found = yield* Effect.tryPromise(() => stat(file)).pipe(
        Effect.map((s) => s.isFile()),
        Effect.orElseSucceed(() => false),
      )
      if (!found) {
        return yield* new TeleportError({
          reason: "BundleNotFound",
          message: `no bundle ${bundleId} in ${dir}`,
        })
      }
      return file
    }),
    delete: Effect.fn("BundleStore.delete")(function* (bundleId: string) {
      yield* checkId(bundleId)
      const file = fileOf(bundleId)
      const existed = yield* Effect.tryPromise(() => stat(file)).pipe(
        Effect.map(() => true),
        Effect.orElseSucceed(() => false),
      )
      yield* removePath(file)
      return existed
    }),
    sweep: Effect.fn("BundleStore.sweep")(function* () {
      const entries = yield* fsTry("listing", dir, () => readdir(dir)).pipe(
        Effect.catchIf(
          (e) => (e.cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT",
          () => Effect.succeed([] as string[]),
        ),
      )
      const stale = entries.filter(
        (name) => name.startsWith(INCOMING_PREFIX) || name.startsWith(VERIFY_PREFIX),
      )
      for (const name of stale) yield* removePath(join(dir, name))
      return stale.length
    }),
  }
}
