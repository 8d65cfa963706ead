import type { ServerResponse } from "node:http"
import { STATUS_CODES } from "node:http"
import { type Duplex, pipeline, type Readable } from "node:stream"
import { errorBody, type HttpError } from "./serverError.js"

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }

/** Sends `body` as JSON (nothing for HEAD requests or 204). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body)
  res.writeHead(status, {
    ...JSON_HEADERS,
    "content-length": Buffer.byteLength(text),
    ...headers,
  })
  res.end(res.req?.method === "HEAD" ? undefined : text)
}

/**
 * Streams `body` (nothing for HEAD requests). A failure half-way cannot become an error response any more:
 * the connection is cut, so the client sees a short body rather than a complete-looking one.
 */
export function sendStream(
  res: ServerResponse,
  status: number,
  body: Readable,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { "cache-control": "no-store", ...headers })
  if (res.req?.method === "HEAD") {
    body.destroy()
    res.end()
    return
  }
  pipeline(body, res, (error) => {
    if (error) res.destroy()
  })
}

/** Renders a coded error as `{ error: { code, message } }` with its status. */
export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, errorBody(error.code, error.message), error.headers ?? {})
}

/**
 * Refuses an `Upgrade` request on the raw socket (no `ServerResponse` exists for it) with the same JSON body
 * an HTTP route would send, then closes the socket.
 */
export function rejectUpgrade(socket: Duplex, error: HttpError): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const text = JSON.stringify(errorBody(error.code, error.message))
  const extra = Object.entries(error.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}\r\n` +
      "Connection: close\r\n" +
      `Content-Type: ${JSON_HEADERS["content-type"]}\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      extra +
      "\r\n" +
      text,
  )
}
