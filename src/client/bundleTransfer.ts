import { createReadStream, createWriteStream } from "node:fs"
import { stat } from "node:fs/promises"
import { request as httpRequest, type IncomingMessage } from "node:http"
import { request as httpsRequest } from "node:https"
import { Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import { messageOf } from "../errors/messageOf.js"
import { DirectConnectError } from "./directConnectError.js"

/** Called as bytes move: `total` is the file size (upload) or the announced length (download, if any). */
export type TransferProgress = (done: number, total: number | undefined) => void

/** A finished HTTP exchange whose response body was small enough to keep (JSON or an error). */
export interface TransferResponse {
  readonly status: number
  readonly headers: IncomingMessage["headers"]
  readonly text: string
}

interface RequestTarget {
  readonly url: string
  readonly authToken: string
  /** No bytes moving for this long aborts the transfer (`Unreachable`). Default 60 s. */
  readonly idleTimeoutMs?: number
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000
/** An error body longer than this is cut: it is shown to a person, not parsed further. */
const MAX_TEXT_BYTES = 64 * 1024

function requestFor(url: URL) {
  return url.protocol === "https:" ? httpsRequest : httpRequest
}

function unreachable(method: string, url: string, cause: unknown): DirectConnectError {
  const code = (cause as { code?: unknown }).code
  const detail = messageOf(cause)
  return new DirectConnectError({
    reason: "Unreachable",
    message: `${method} ${url} failed: ${typeof code === "string" && !detail.includes(code) ? `${code} ` : ""}${detail}`,
    url,
    cause,
  })
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    res.on("data", (chunk: Buffer) => {
      if (size < MAX_TEXT_BYTES) chunks.push(chunk)
      size += chunk.length
    })
    res.once("end", () => resolve(Buffer.concat(chunks).toString("utf8").slice(0, MAX_TEXT_BYTES)))
    res.once("error", reject)
  })
}

/** Counts bytes passing through, reporting each step. */
function counter(onChunk: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk(chunk.length)
      callback(null, chunk)
    },
  })
}

/**
 * Streams a file as a request body (never reading it whole into memory) and resolves with the response. A
 * host that refuses the upload early (413) answers and closes while the body is still going out: the answer
 * wins over the broken pipe that follows it.
 */
export async function uploadFile(
  target: RequestTarget & {
    readonly method: "POST" | "PUT"
    readonly file: string
    readonly contentType: string
    readonly onProgress?: TransferProgress
  },
): Promise<TransferResponse> {
  const { size } = await stat(target.file)
  const url = new URL(target.url)
  return new Promise<TransferResponse>((resolve, reject) => {
    const source = createReadStream(target.file)
    let settled = false
    /** `local`: the bundle file failed to read, which is not the network's fault. */
    const fail = (error: unknown, local = false) => {
      if (settled) return
      settled = true
      source.destroy()
      req.destroy()
      reject(local ? error : unreachable(target.method, target.url, error))
    }
    const req = requestFor(url)(url, {
      method: target.method,
      headers: {
        authorization: `Bearer ${target.authToken}`,
        "content-type": target.contentType,
        "content-length": String(size),
        accept: "application/json",
      },
    })
    req.setTimeout(target.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () =>
      fail(new Error("no progress in time (the host stopped answering)")),
    )
    let responded = false
    req.once("response", (res) => {
      responded = true
      readText(res).then(
        (text) => {
          if (settled) return
          settled = true
          source.destroy()
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text })
        },
        (error: unknown) => fail(error),
      )
    })
    req.on("error", (error) => {
      // After the host answered, a reset is how it refuses the rest of the body; the answer is what counts.
      if (!responded) fail(error)
    })
    let sent = 0
    target.onProgress?.(0, size)
    source.on("data", (chunk) => {
      sent += chunk.length
      target.onProgress?.(sent, size)
    })
    source.once("error", (error) => fail(error, true))
    source.pipe(req)
  })
}

/**
 * GETs `url` into `outFile` when the answer is 2xx (streamed, counted against `content-length`); any other
 * answer resolves with its text and leaves `outFile` untouched.
 */
export function downloadFile(
  target: RequestTarget & { readonly outFile: string; readonly onProgress?: TransferProgress },
): Promise<TransferResponse & { readonly bytes: number }> {
  const url = new URL(target.url)
  return new Promise((resolve, reject) => {
    const req = requestFor(url)(url, {
      method: "GET",
      headers: {
        authorization: `Bearer ${target.authToken}`,
        accept: "application/x-git-bundle, application/json",
      },
    })
    req.setTimeout(target.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () =>
      req.destroy(new Error("no progress in time (the host stopped answering)")),
    )
    req.once("error", (error) => reject(unreachable("GET", target.url, error)))
    req.once("response", (res) => {
      const status = res.statusCode ?? 0
      if (status < 200 || status >= 300) {
        readText(res).then((text) => resolve({ status, headers: res.headers, text, bytes: 0 }), reject)
        return
      }
      const announced = Number(res.headers["content-length"] ?? Number.NaN)
      const total = Number.isFinite(announced) ? announced : undefined
      let bytes = 0
      let writeError: unknown
      const file = createWriteStream(target.outFile, { mode: 0o600 })
      file.once("error", (error) => {
        writeError = error
      })
      target.onProgress?.(0, total)
      pipeline(
        res,
        counter((n) => {
          bytes += n
          target.onProgress?.(bytes, total)
        }),
        file,
      ).then(
        () => {
          if (total !== undefined && bytes !== total) {
            reject(
              new DirectConnectError({
                reason: "BadResponse",
                message: `GET ${target.url} ended after ${bytes} of ${total} bytes`,
                url: target.url,
              }),
            )
            return
          }
          resolve({ status, headers: res.headers, text: "", bytes })
        },
        // A local write failure (disk full) is the caller's to report as such, not a network failure.
        (error: unknown) => reject(writeError ?? unreachable("GET", target.url, error)),
      )
    })
    req.end()
  })
}
