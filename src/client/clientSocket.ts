import WebSocket from "ws"
import { parseJson } from "./hostRequest.js"

/** What the manager hears from one WebSocket connection attempt. Exactly one of `onRejected`/`onClose` ends it. */
export interface ClientSocketHandlers {
  readonly onOpen: () => void
  /** One text frame. */
  readonly onText: (text: string) => void
  /** A binary frame: the protocol has none, so the manager reports it. */
  readonly onBinary: (bytes: number) => void
  /** Any sign of life from the host (a frame or a ping), for the staleness check. */
  readonly onActivity: () => void
  /** The HTTP upgrade was answered with a non-101 status; `body` is the parsed JSON body if there was one. */
  readonly onRejected: (status: number, body: unknown, text: string) => void
  /** The connection ended (or never opened: code 1006 with the network error as `reason`). */
  readonly onClose: (code: number, reason: string) => void
}

/** One WebSocket connection, as the manager uses it. Wraps `ws` so no `ws` type leaks past this module. */
export interface ClientSocket {
  send(text: string): void
  /** Closes politely (close frame). */
  close(code: number, reason: string): void
  /** Drops the connection at once (a stale peer that will not answer a close frame). */
  terminate(): void
}

/** Opens a WebSocket to `url` with `headers` on the upgrade (the bearer token travels there, SPEC §5). */
export type OpenClientSocket = (
  url: string,
  headers: Readonly<Record<string, string>>,
  handlers: ClientSocketHandlers,
) => ClientSocket

/** The live {@link OpenClientSocket}: `ws` with perMessageDeflate off (PERF.md: ~26× cheaper for small frames). */
export const openWsClientSocket: OpenClientSocket = (url, headers, handlers) => {
  let ended = false
  let lastError = ""
  const ws = new WebSocket(url, {
    headers: { ...headers },
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
  })
  ws.on("open", () => {
    if (!ended) handlers.onOpen()
  })
  ws.on("message", (data, isBinary) => {
    if (ended) return
    handlers.onActivity()
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
    if (isBinary) handlers.onBinary(buffer.length)
    else handlers.onText(buffer.toString("utf8"))
  })
  ws.on("ping", () => {
    if (!ended) handlers.onActivity()
  })
  ws.on("unexpected-response", (_req, res) => {
    const chunks: Buffer[] = []
    res.on("data", (chunk: Buffer) => chunks.push(chunk))
    const finish = () => {
      if (ended) return
      ended = true
      const text = Buffer.concat(chunks).toString("utf8")
      handlers.onRejected(res.statusCode ?? 0, parseJson(text), text)
      ws.terminate()
    }
    res.on("end", finish)
    res.on("error", finish)
  })
  ws.on("error", (err) => {
    lastError = err.message
  })
  ws.on("close", (code, reason) => {
    if (ended) return
    ended = true
    const text = reason.toString("utf8")
    handlers.onClose(code, text !== "" ? text : lastError)
  })
  return {
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text)
    },
    close: (code, reason) => {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
      else ws.close(code, reason)
    },
    terminate: () => ws.terminate(),
  }
}
